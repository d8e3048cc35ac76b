// tests/visualizer/export_test.cpp — the Chrome trace export and the trace writer, checked by reading back.
#include <map>
#include <sstream>

#include "common/trace/reader.h"
#include "tests/catch.hpp"
#include "tests/visualizer/event_builder.h"
#include "tests/visualizer/json_check.h"
#include "visualizer/model/chrome_export.h"
#include "visualizer/model/trace_writer.h"

using namespace socklab::viz;
using socklab::viz::testing::EventBuilder;
using socklab::viz::testing::JsonParser;
using socklab::viz::testing::JsonValue;
using socklab::trace::Kind;

namespace {

// Two workers; a packet with I/O id 42 is posted by thread 0 and taken by worker 2; a hand-posted packet
// (I/O id 0) by worker 1.
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
    b.add(Kind::gate_hold, 2);
    b.add(Kind::gate_release, 2);
    b.post(0);
    b.wake(1);
    b.dequeue(1, 0);
    TraceModel model = b.model();
    model.take_info("model", "iocp");
    model.take_info("runtime", "Wine 8.0 \"quoted\"");
    model.take_thread({1, 101, "worker"});
    model.take_thread({2, 102, "worker"});
    return model;
}

std::string phase(const JsonValue& event) {
    const JsonValue* ph = event.get("ph");
    return ph ? ph->text : "";
}

}  // namespace

TEST_CASE("the Chrome trace export is valid JSON with tracks, slices, flows and a counter", "[viz][export]") {
    TraceModel model = small_server();
    std::ostringstream out;
    write_chrome_trace(model, out);
    const std::string text = out.str();

    JsonValue root;
    JsonParser parser(text);
    const bool parsed = parser.parse(root);
    INFO(parser.error());
    REQUIRE(parsed);
    REQUIRE(root.type == JsonValue::Type::object);
    const JsonValue* events = root.get("traceEvents");
    REQUIRE(events);
    REQUIRE(events->type == JsonValue::Type::array);

    std::map<std::string, int> phases;
    std::map<double, int> flow_ids;  // id -> number of s and f events
    bool held_slice = false, worker_track = false, depth_counter = false;
    for (const auto& event : events->items) {
        const std::string ph = phase(event);
        ++phases[ph];
        if (ph == "X" && event.get("name")->text == "held at the gate") held_slice = true;
        if (ph == "M" && event.get("name")->text == "thread_name" &&
            event.get("args")->get("name")->text == "worker 2")
            worker_track = true;
        if (ph == "C" && event.get("name")->text == "queue depth, port 0") depth_counter = true;
        if (ph == "s" || ph == "f") ++flow_ids[event.get("id")->number];
    }
    CHECK(worker_track);
    CHECK(held_slice);
    CHECK(depth_counter);
    CHECK(phases["X"] >= 6);
    CHECK(phases["s"] == 2);
    CHECK(phases["f"] == 2);
    CHECK(flow_ids[42] == 2);  // the post and the dequeue of I/O id 42 share one arrow
    CHECK(flow_ids.size() == 2);
    CHECK(text.find("Wine 8.0 \\\"quoted\\\"") != std::string::npos);
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
