// tests/visualizer/export_test.cpp — the Chrome trace export and the trace writer, checked by reading back:
// the export is parsed as JSON and its arrows followed from an I/O's post to the worker that handled it.
#include <algorithm>
#include <functional>
#include <map>
#include <sstream>
#include <vector>

#include "common/trace/reader.h"
#include "tests/catch.hpp"
#include "tests/visualizer/event_builder.h"
#include "tests/visualizer/json_check.h"
#include "visualizer/model/chrome_export.h"
#include "visualizer/model/synthetic_trace.h"
#include "visualizer/model/trace_writer.h"

using namespace socklab::viz;
using socklab::trace::Kind;
using socklab::viz::testing::EventBuilder;
using socklab::viz::testing::JsonParser;
using socklab::viz::testing::JsonValue;

namespace {

// Two workers; a packet with I/O id 42 is posted by thread 0 and taken by worker 2; a hand-posted packet
// (I/O id 0) by worker 1. The trace records posts (as the reference model does), and samples the queue.
TraceModel small_server() {
    EventBuilder b;
    b.server_start(2);
    b.start(0);
    b.start(1);
    b.start(2);
    b.wait_port(1);
    b.wait_port(2);
    b.post(42);
    b.add(Kind::queue_depth, 0, 0, 0, 1);
    b.wake(2);
    b.dequeue(2, 42);
    b.add(Kind::queue_depth, 0, 0, 0, 0);
    b.add(Kind::gate_hold, 2);
    b.add(Kind::gate_release, 2);
    b.post(0);
    b.wake(1);
    b.dequeue(1, 0);
    b.add(Kind::line_in, 1, 0, 5);  // worker 1 handles its packet a while before the trace ends
    TraceModel model = b.model();
    model.take_info("model", "iocp");
    model.take_info("runtime", "Wine 8.0 \"quoted\"");
    model.take_thread({1, 101, "worker"});
    model.take_thread({2, 102, "worker"});
    return model;
}

// What a live IOCP server records (models/06_iocp.cpp): the acceptor (thread 0) posts a receive with I/O id
// 7; the kernel queues its packet unseen (no packet_posted); worker 2 wakes, takes it, is held at the gate,
// handles the line, posts its next receive, and waits again. The server samples the queue's depth.
constexpr std::uint64_t kLiveWaitAgainNs = 13'000;  // EventBuilder starts at 1,000 ns and steps 1,000 ns
TraceModel live_server() {
    EventBuilder b;
    const auto receive = static_cast<std::uint8_t>(socklab::trace::IoOp::receive);
    b.server_start(2);                               // 1,000
    b.start(0);                                      // 2,000
    b.start(1);                                      // 3,000
    b.start(2);                                      // 4,000
    b.wait_port(1);                                  // 5,000
    b.wait_port(2);                                  // 6,000
    b.add(Kind::io_posted, 0, receive, 4096, 7, 3);  // 7,000
    b.add(Kind::queue_depth, 0, 0, 0, 2);            // 8,000
    b.wake(2);                                       // 9,000
    b.add(Kind::packet_dequeued, 2, 0, 0, 7, 3);     // 10,000
    b.add(Kind::gate_hold, 2, 0, 0, 0, 3);           // 11,000
    b.add(Kind::gate_release, 2, 0, 0, 0, 3);        // 12,000
    b.wait_port(2);                                  // 13,000: the handling ends here
    b.add(Kind::queue_depth, 0, 0, 0, 0);            // 14,000
    b.add(Kind::io_posted, 1, receive, 4096, 8, 4);  // 15,000: never completes in this trace
    TraceModel model = b.model();
    model.take_info("model", "iocp");
    model.take_thread({0, 100, "acceptor"});
    model.take_thread({1, 101, "worker"});
    model.take_thread({2, 102, "worker"});
    model.take_site({1, 321, "models/06_iocp.cpp", "io_posted"});
    return model;
}

JsonValue export_json(const TraceModel& model, std::string* text_out = nullptr) {
    std::ostringstream out;
    write_chrome_trace(model, out);
    const std::string text = out.str();
    if (text_out) *text_out = text;
    JsonValue root;
    JsonParser parser(text);
    const bool parsed = parser.parse(root);
    INFO(parser.error());
    REQUIRE(parsed);
    REQUIRE(root.type == JsonValue::Type::object);
    REQUIRE(root.get("traceEvents"));
    REQUIRE(root.get("traceEvents")->type == JsonValue::Type::array);
    return root;
}

std::string text_of(const JsonValue& event, const char* key) {
    const JsonValue* value = event.get(key);
    return value ? value->text : "";
}
double number_of(const JsonValue& event, const char* key, double missing = -1) {
    const JsonValue* value = event.get(key);
    return value && value->type == JsonValue::Type::number ? value->number : missing;
}
bool flag(const JsonValue& event, const char* key) {
    const JsonValue* value = event.get(key);
    return value && value->type == JsonValue::Type::boolean && value->boolean;
}
const JsonValue& args_of(const JsonValue& event) {
    static const JsonValue none;
    const JsonValue* args = event.get("args");
    return args ? *args : none;
}

std::string phase(const JsonValue& event) { return text_of(event, "ph"); }

// The steps of one arrow (flow v2: complete events sharing a bind_id), in the order the viewer follows them:
// by time, and at equal times the step the arrow leaves before the one it arrives at.
std::vector<const JsonValue*> flow_steps(const JsonValue& root, double flow_id) {
    std::vector<const JsonValue*> steps;
    for (const auto& event : root.get("traceEvents")->items)
        if (number_of(event, "bind_id") == flow_id) steps.push_back(&event);
    std::stable_sort(steps.begin(), steps.end(), [](const JsonValue* a, const JsonValue* b) {
        const double ta = number_of(*a, "ts"), tb = number_of(*b, "ts");
        if (ta != tb) return ta < tb;
        return flag(*a, "flow_out") && !flag(*b, "flow_out");
    });
    return steps;
}

// Every arrow in the file: one start (flow_out only), one end (flow_in only), steps between with both, in
// time order. Returns the number of arrows.
std::size_t check_every_flow(const JsonValue& root) {
    std::map<double, int> seen;
    for (const auto& event : root.get("traceEvents")->items) {
        if (!event.get("bind_id")) continue;
        CHECK(phase(event) == "X");  // flow v2 fields bind only on complete events
        ++seen[number_of(event, "bind_id")];
    }
    for (const auto& [id, count] : seen) {
        INFO("flow " << id);
        const auto steps = flow_steps(root, id);
        REQUIRE(steps.size() >= 2);
        CHECK(flag(*steps.front(), "flow_out"));
        CHECK_FALSE(flag(*steps.front(), "flow_in"));
        CHECK(flag(*steps.back(), "flow_in"));
        CHECK_FALSE(flag(*steps.back(), "flow_out"));
        for (std::size_t k = 1; k + 1 < steps.size(); ++k) {
            CHECK(flag(*steps[k], "flow_in"));
            CHECK(flag(*steps[k], "flow_out"));
        }
    }
    return seen.size();
}

// The samples of each counter track, by name.
std::map<std::string, std::vector<double>> counter_tracks(const JsonValue& root) {
    std::map<std::string, std::vector<double>> tracks;
    for (const auto& event : root.get("traceEvents")->items)
        if (phase(event) == "C") tracks[text_of(event, "name")].push_back(number_of(args_of(event), "packets"));
    return tracks;
}

// No event's args fall back to the wire names: every field is named for what it means.
void check_no_raw_arg_names(const JsonValue& root) {
    for (const auto& event : root.get("traceEvents")->items)
        for (const auto& [key, value] : args_of(event).members) {
            INFO(text_of(event, "name") << " has arg " << key);
            CHECK(key != "arg0");
            CHECK(key != "arg1");
            CHECK(key != "derived");
        }
}

}  // namespace

TEST_CASE("the Chrome trace export is valid JSON with tracks, slices, flows and counters", "[viz][export]") {
    std::string text;
    const JsonValue root = export_json(small_server(), &text);

    std::map<std::string, int> phases;
    bool held_slice = false, worker_track = false;
    for (const auto& event : root.get("traceEvents")->items) {
        ++phases[phase(event)];
        if (phase(event) == "X" && text_of(event, "name") == "held at the gate") held_slice = true;
        if (phase(event) == "M" && text_of(event, "name") == "thread_name" &&
            text_of(args_of(event), "name") == "worker 2")
            worker_track = true;
    }
    CHECK(worker_track);
    CHECK(held_slice);
    CHECK(phases["X"] >= 6);
    CHECK(phases.count("i") == 0);  // markers are complete events of no duration, so they can carry arrows
    CHECK(text.find("Wine 8.0 \\\"quoted\\\"") != std::string::npos);

    // Two arrows: I/O 42 from its post to worker 2, and the hand-posted packet to worker 1.
    CHECK(check_every_flow(root) == 2);
    bool followed_42 = false, followed_by_hand = false;
    for (const auto& event : root.get("traceEvents")->items) {
        if (text_of(event, "name") != "packet_posted" || !flag(event, "flow_out")) continue;
        const auto steps = flow_steps(root, number_of(event, "bind_id"));
        REQUIRE(steps.size() == 3);  // packet_posted -> packet_dequeued -> handling
        CHECK(text_of(*steps[1], "name") == "packet_dequeued");
        CHECK(text_of(*steps[2], "cat") == "handling");
        const double io_id = number_of(args_of(event), "io_id");
        if (io_id == 42) {
            followed_42 = true;
            CHECK(number_of(*steps[2], "tid") == 2);
            CHECK(text_of(*steps[2], "name") == "handling I/O 42");
        } else if (io_id == 0) {
            followed_by_hand = true;
            CHECK(number_of(*steps[2], "tid") == 1);
            CHECK(text_of(*steps[2], "name") == "handling a packet posted by hand");
        }
    }
    CHECK(followed_42);
    CHECK(followed_by_hand);

    // The posts are recorded, so posted - dequeued is known: both counters move.
    const auto tracks = counter_tracks(root);
    REQUIRE(tracks.count("queue depth, port 0"));
    CHECK(tracks.at("queue depth, port 0") == std::vector<double>{1, 0});
    REQUIRE(tracks.count("packets queued, port 0 (posted - dequeued)"));
    CHECK(tracks.at("packets queued, port 0 (posted - dequeued)") == std::vector<double>{1, 0, 1, 0});
    check_no_raw_arg_names(root);
}

TEST_CASE("an I/O of a live IOCP server is followed from its post to the worker that handled it",
          "[viz][export][flow]") {
    const JsonValue root = export_json(live_server());
    CHECK(check_every_flow(root) == 1);  // I/O 8 was never taken: no arrow for it

    // The start: the acceptor's io_posted of I/O 7, its fields named.
    const JsonValue* post = nullptr;
    for (const auto& event : root.get("traceEvents")->items)
        if (text_of(event, "name") == "io_posted" && number_of(args_of(event), "io_id") == 7) post = &event;
    REQUIRE(post);
    CHECK(number_of(*post, "tid") == 0);
    CHECK(flag(*post, "flow_out"));
    const JsonValue& post_args = args_of(*post);
    CHECK(text_of(post_args, "operation") == "receive");
    CHECK(number_of(post_args, "bytes_asked") == 4096);
    CHECK(number_of(post_args, "connection") == 3);
    CHECK(text_of(post_args, "source") == "models/06_iocp.cpp:321");

    // Follow the arrow: the dequeue on worker 2, then worker 2's handling slice.
    const auto steps = flow_steps(root, number_of(*post, "bind_id"));
    REQUIRE(steps.size() == 3);
    CHECK(steps[0] == post);
    const JsonValue& dequeue = *steps[1];
    CHECK(text_of(dequeue, "name") == "packet_dequeued");
    CHECK(number_of(dequeue, "tid") == 2);
    CHECK(number_of(args_of(dequeue), "io_id") == 7);
    CHECK(number_of(args_of(dequeue), "port") == 0);
    // A live server's kernel queues packets unseen: no count of packets is claimed after the dequeue.
    CHECK_FALSE(args_of(dequeue).get("packets_queued_after"));

    const JsonValue& handling = *steps[2];
    CHECK(text_of(handling, "cat") == "handling");
    CHECK(text_of(handling, "name") == "handling receive, I/O 7");
    CHECK(number_of(handling, "tid") == 2);
    CHECK(number_of(handling, "ts") == number_of(dequeue, "ts"));  // from taking the packet ...
    const double handling_end = number_of(handling, "ts") + number_of(handling, "dur");
    CHECK(handling_end == (kLiveWaitAgainNs - 1'000) / 1000.0);  // ... to waiting again (times from the first event)
    CHECK(number_of(args_of(handling), "connection") == 3);
    CHECK(number_of(args_of(handling), "io_id") == 7);

    // The worker's states in that stretch nest inside the handling slice; the wake that released it carries its
    // stack position.
    bool held_inside = false, woken = false;
    for (const auto& event : root.get("traceEvents")->items) {
        if (text_of(event, "cat") != "state" || number_of(event, "tid") != 2) continue;
        const double begin = number_of(event, "ts"), end = begin + number_of(event, "dur");
        const bool overlaps = begin < handling_end && end > number_of(handling, "ts");
        if (overlaps) {
            CHECK(begin >= number_of(handling, "ts"));
            CHECK(end <= handling_end);
        }
        if (text_of(event, "name") == "held at the gate") held_inside = overlaps;
        if (text_of(args_of(event), "because") == "wait_end") {
            woken = true;
            CHECK(text_of(args_of(event), "wake") == "completion");
            CHECK(number_of(args_of(event), "stack_position") == 0);  // worker 2 waited last: the top
        }
    }
    CHECK(held_inside);
    CHECK(woken);

    // Counters: the sampled depth moves (2, then 0); posted - dequeued cannot be computed, so it is not there.
    const auto tracks = counter_tracks(root);
    REQUIRE(tracks.count("queue depth, port 0"));
    CHECK(tracks.at("queue depth, port 0") == std::vector<double>{2, 0});
    for (const auto& [name, samples] : tracks) CHECK(name.find("posted - dequeued") == std::string::npos);
    check_no_raw_arg_names(root);
}

TEST_CASE("a counter that never changes is named, not drawn", "[viz][export]") {
    EventBuilder b;
    b.start(1);
    b.wait_port(1);
    b.add(Kind::queue_depth, 0, 0, 0, 0);
    b.add(Kind::queue_depth, 0, 0, 0, 0);
    b.add(Kind::queue_depth, 0, 0, 0, 0);
    const JsonValue root = export_json(b.model());
    CHECK(counter_tracks(root).empty());
    CHECK(text_of(*root.get("otherData"), "constant counters, not drawn") == "queue depth, port 0: 0 in all 3 samples");
}

TEST_CASE("a batch taken at once (GetQueuedCompletionStatusEx) is handled in one slice", "[viz][export][flow]") {
    EventBuilder b;
    b.start(1);
    b.wait_port(1);
    b.post(5);
    b.post(6);
    b.wake(1);
    b.dequeue(1, 5);
    b.dequeue(1, 6);
    b.wait_port(1);
    const JsonValue root = export_json(b.model());
    CHECK(check_every_flow(root) == 2);
    int handling_slices = 0;
    for (const auto& event : root.get("traceEvents")->items) {
        if (text_of(event, "cat") != "handling") continue;
        ++handling_slices;
        CHECK(text_of(event, "name") == "handling 2 packets");
        CHECK(text_of(args_of(event), "io_ids") == "5, 6");
        // The slice binds one arrow: the first packet's. The second ends at its own dequeue, inside the slice.
        const auto steps = flow_steps(root, number_of(event, "bind_id"));
        REQUIRE(steps.size() == 3);
        CHECK(number_of(args_of(*steps[0]), "io_id") == 5);
    }
    CHECK(handling_slices == 1);
}

TEST_CASE("a completion routine's arrow runs from its I/O's post to the routine", "[viz][export][flow]") {
    EventBuilder b;
    const auto receive = static_cast<std::uint8_t>(socklab::trace::IoOp::receive);
    b.start(1);
    b.add(Kind::io_posted, 1, receive, 4096, 9, 2);
    b.add(Kind::wait_begin, 1, static_cast<std::uint8_t>(socklab::trace::WaitOn::alertable));
    b.add(Kind::apc_run, 1, receive, 12, 9, 2);
    b.add(Kind::wait_end, 1, static_cast<std::uint8_t>(socklab::trace::Wake::apc));
    const JsonValue root = export_json(b.model());
    REQUIRE(check_every_flow(root) == 1);
    for (const auto& event : root.get("traceEvents")->items) {
        if (text_of(event, "name") != "io_posted") continue;
        const auto steps = flow_steps(root, number_of(event, "bind_id"));
        REQUIRE(steps.size() == 2);
        CHECK(text_of(*steps[1], "name") == "apc_run");
        CHECK(number_of(args_of(*steps[1]), "io_id") == 9);
        CHECK(number_of(args_of(*steps[1]), "bytes") == 12);
        CHECK(text_of(args_of(*steps[1]), "operation") == "receive");
    }
}

TEST_CASE("a synthetic IOCP trace exports well-formed arrows and moving counters", "[viz][export][flow]") {
    SyntheticOptions options;
    options.lines = 300;
    options.gate_every = 7;
    const auto trace = make_synthetic_trace(options);
    TraceModel model;
    for (const auto& [key, value] : trace.info) model.take_info(key, value);
    for (const auto& [id, site] : trace.sites) model.take_site(site);
    for (const auto& [index, thread] : trace.threads) model.take_thread(thread);
    model.take(trace.events.data(), trace.events.size());
    model.finish();

    const JsonValue root = export_json(model);
    // Every line's packet is posted, taken and handled: one arrow each, ending on a worker's handling slice.
    CHECK(check_every_flow(root) == options.lines);
    std::size_t ending_in_handling = 0;
    bool first_line_named = false;
    for (const auto& event : root.get("traceEvents")->items) {
        if (text_of(event, "cat") == "handling" && flag(event, "flow_in")) ++ending_in_handling;
        // No io_posted starts these journeys (the synthetic trace posts packets by I/O id only): the operation
        // comes from the worker's io_completed.
        if (text_of(event, "name") == "handling receive, I/O 1000") first_line_named = true;
    }
    CHECK(ending_in_handling == options.lines);
    CHECK(first_line_named);

    const auto tracks = counter_tracks(root);
    CHECK(tracks.count("queue depth, port 0"));
    CHECK(tracks.count("packets queued, port 0 (posted - dequeued)"));
    for (const auto& [name, samples] : tracks) {
        INFO(name);
        CHECK(std::adjacent_find(samples.begin(), samples.end(), std::not_equal_to<>()) != samples.end());
    }
    check_no_raw_arg_names(root);
}

TEST_CASE("a model written as a trace file reads back the same", "[viz][writer]") {
    TraceModel model = small_server();
    model.take_site({1, 120, "models/06_iocp.cpp", "wait_begin"});
    TraceWriter writer;
    write_snapshot(writer, model);

    socklab::trace::Trace trace;
    socklab::trace::StreamDecoder decoder(socklab::trace::collect_into(trace));
    // Fed in small pieces, as a live stream arrives.
    const std::string& bytes = writer.bytes();
    for (std::size_t at = 0; at < bytes.size(); at += 7)
        REQUIRE(decoder.feed(bytes.data() + at, std::min<std::size_t>(7, bytes.size() - at)));
    CHECK_FALSE(decoder.mid_record());
    CHECK(trace.events.size() == model.event_count());
    CHECK(trace.info["model"] == "iocp");
    CHECK(trace.threads[2].role == "worker");
    CHECK(trace.sites[1].file == "models/06_iocp.cpp");
    CHECK(trace.sites[1].line == 120);
    for (std::size_t i = 0; i < trace.events.size(); ++i) {
        CHECK(trace.events[i].time_ns == model.events()[i].time_ns);
        CHECK(trace.events[i].kind == model.events()[i].kind);
    }
}
