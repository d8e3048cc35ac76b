// visualizer/model/chrome_export.cpp — writes the Chrome trace JSON described in chrome_export.h.
//
// The writer works in three passes over the model:
//   1. journeys: which events carried the same I/O, from its post to the packet a worker took (section 2);
//   2. per thread: the stretches in which a worker handled a packet (section 3), and the thread's states,
//      cut where a handling stretch begins so that every slice nests inside the one around it;
//   3. counters: each series is gathered whole before it is written, so one that never changes can be left
//      out (section 4).
// Section 5 writes the file from what they found: otherData, names, each thread's slices, markers, counters.
#include "visualizer/model/chrome_export.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "visualizer/model/trace_model.h"

namespace socklab::viz {

namespace {

// ---- JSON text ------------------------------------------------------------------------------------------

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                    out += escaped;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

// Chrome traces count in microseconds; three decimals keep the nanoseconds.
std::string microseconds(std::uint64_t ns) {
    char text[32];
    std::snprintf(text, sizeof text, "%" PRIu64 ".%03u", ns / 1000, static_cast<unsigned>(ns % 1000));
    return text;
}

// Writes the comma between array elements.
class EventList {
public:
    explicit EventList(std::ostream& out) : out_(out) {}
    std::ostream& next() {
        out_ << (first_ ? "\n" : ",\n");
        first_ = false;
        return out_;
    }

private:
    std::ostream& out_;
    bool first_ = true;
};

// Writes one JSON object's members, the commas between them included.
class JsonObject {
public:
    explicit JsonObject(std::ostream& out) : out_(out) { out_ << '{'; }
    void number(const char* key, std::int64_t value) { name(key) << value; }
    void text(const char* key, const std::string& value) { name(key) << json_string(value); }
    void close() { out_ << '}'; }

private:
    std::ostream& name(const char* key) {
        out_ << (first_ ? "" : ",") << json_string(key) << ':';
        first_ = false;
        return out_;
    }
    std::ostream& out_;
    bool first_ = true;
};

// ---- 1. What each event's numbers mean: the one table ----------------------------------------------------
//
// Every event carries the same two numbers, arg0 and arg1, whose meaning depends on its kind (common/trace/
// event.h). The export names them here and nowhere else, so an event's args read the same wherever it shows
// up: as a marker, as the reason a state slice began, inside a handling slice. nullptr: the kind leaves that
// field unused, and it is not written.
struct FieldNames {
    const char* arg0;
    const char* arg1;
    // message_dispatched packs two 16-bit values into arg1 (WSAGETSELECTEVENT | error << 16): when set, the
    // low half is written as `arg1` and the high half under this name.
    const char* arg1_high;
    const char* detail;   // what the detail enum says; its value is spelled by trace::detail_name
    const char* derived;  // what the visualizer worked out when it took the event in (StoredEvent::derived)
};

FieldNames field_names(Kind kind) {
    switch (kind) {
        //                                    arg0              arg1                 arg1_high       detail      derived
        case Kind::server_start:
            return {"processors", "concurrency_value", nullptr, nullptr, nullptr};
        case Kind::thread_start:
            return {nullptr, nullptr, nullptr, nullptr, nullptr};
        case Kind::thread_exit:
            return {nullptr, nullptr, nullptr, nullptr, nullptr};
        // The object waited on: a port index, a handle count or a socket count, depending on waits_on.
        case Kind::wait_begin:
            return {"object", nullptr, nullptr, "waits_on", nullptr};
        // result: bytes (a completion), the signalled index (events) or the ready count (select).
        case Kind::wait_end:
            return {"result", "error_code", nullptr, "wake", "stack_position"};
        case Kind::io_posted:
            return {"bytes_asked", "io_id", nullptr, "operation", nullptr};
        case Kind::io_completed:
            return {"bytes", "error_code", nullptr, "operation", nullptr};
        case Kind::packet_posted:
            return {"port", "io_id", nullptr, nullptr, "packets_queued_after"};
        case Kind::packet_dequeued:
            return {"port", "io_id", nullptr, nullptr, "packets_queued_after"};
        case Kind::queue_depth:
            return {"port", "packets_queued", nullptr, nullptr, nullptr};
        case Kind::message_dispatched:
            return {"window_message", "select_event", "select_error", nullptr, nullptr};
        case Kind::apc_run:
            return {"bytes", "io_id", nullptr, "operation", nullptr};
        case Kind::connection_open:
            return {"peer_port", nullptr, nullptr, nullptr, nullptr};
        case Kind::connection_close:
            return {nullptr, nullptr, nullptr, "reason", nullptr};
        case Kind::line_in:
            return {"line_bytes", nullptr, nullptr, nullptr, nullptr};
        case Kind::line_out:
            return {"reply_bytes", nullptr, nullptr, nullptr, nullptr};
        case Kind::error:
            return {"error_code", nullptr, nullptr, nullptr, nullptr};
        case Kind::gate_hold:
            return {nullptr, nullptr, nullptr, nullptr, nullptr};
        case Kind::gate_release:
            return {nullptr, nullptr, nullptr, nullptr, nullptr};
        case Kind::block_begin:
            return {"milliseconds", nullptr, nullptr, "reason", nullptr};
        case Kind::block_end:
            return {nullptr, nullptr, nullptr, nullptr, nullptr};
        case Kind::thread_wake:
            return {"port", nullptr, nullptr, nullptr, "stack_position"};
        case Kind::kind_count:
            break;
    }
    return {nullptr, nullptr, nullptr, nullptr, nullptr};
}

// An event's fields, named by the table, into `args`; also the connection, the source line that emitted it,
// and for an error the API that failed (its site's label).
void write_event_fields(JsonObject& args, const TraceModel& model, const StoredEvent& event) {
    const FieldNames names = field_names(event.kind);
    if (names.detail) {
        const std::string detail(trace::detail_name(to_wire(event)));
        if (!detail.empty()) args.text(names.detail, detail);
    }
    if (names.arg0) args.number(names.arg0, event.arg0);
    if (names.arg1 && names.arg1_high) {
        args.number(names.arg1, event.arg1 & 0xFFFF);
        args.number(names.arg1_high, event.arg1 >> 16);
    } else if (names.arg1) {
        args.number(names.arg1, event.arg1);
    }
    // The worked-out fact is only written when it means something: a stack position exists only for a port's
    // waiter, and a packet count only where the trace records posts (a live server's kernel queues packets
    // unseen, so posted − dequeued is not known there: the model keeps 0).
    bool derived_known = names.derived && event.derived != kNoDerived;
    if (event.kind == Kind::packet_posted || event.kind == Kind::packet_dequeued)
        derived_known = derived_known && model.posts_recorded(event.arg0);
    if (derived_known) args.number(names.derived, event.derived);
    if (event.connection != 0) args.number("connection", event.connection);
    if (const trace::SiteInfo* site = model.site(event.site)) {
        if (!site->file.empty()) args.text("source", site->file + ":" + std::to_string(site->line));
        if (event.kind == Kind::error && !site->label.empty()) args.text("api", site->label);
    }
}

// ---- 2. Journeys: one I/O from its post to the thread that took it ----------------------------------------
//
// The events that carried one I/O, in time order: the io_posted that started it (when the trace has it), the
// packet_posted that queued its completion (only where posts are recorded: the reference model, a server
// posting by hand), and the packet_dequeued of the worker that took it — or, for a completion routine, the
// apc_run that ran it. The events are matched by the I/O id they carry (arg1 of io_posted, packet_posted,
// packet_dequeued and apc_run); a packet posted by hand has I/O id 0, and those are matched first in, first
// out per port, as the port hands them out. A journey then ends on the worker's handling slice (section 3).
struct Journey {
    std::vector<std::uint32_t> events;  // history indexes, in time order
    bool ends_in_handling = false;      // its last step is a handling slice, after its packet_dequeued
    std::uint64_t flow_id = 0;          // 0 until given one (only journeys of two steps or more draw an arrow)
};

struct Journeys {
    std::vector<Journey> all;
    std::unordered_map<std::uint32_t, std::size_t> of_event;  // history index -> journey
};

Journeys find_journeys(const TraceModel& model) {
    Journeys found;
    const auto& events = model.events();
    std::unordered_map<std::uint32_t, std::uint32_t> unmatched_io_posts;  // I/O id -> its latest io_posted
    // Packets on a port, not yet taken: by (port, I/O id), and by port for those posted by hand (I/O id 0).
    // Oldest first, as the port hands them out, should one id be queued twice.
    std::map<std::pair<std::int64_t, std::uint32_t>, std::deque<std::size_t>> queued;
    std::map<std::int64_t, std::deque<std::size_t>> queued_by_hand;

    auto start = [&found](std::uint32_t index) {
        found.all.push_back({{index}, false, 0});
        found.of_event[index] = found.all.size() - 1;
        return found.all.size() - 1;
    };
    auto extend = [&found](std::size_t journey, std::uint32_t index) {
        found.all[journey].events.push_back(index);
        found.of_event[index] = journey;
    };
    // The io_posted of this I/O id, if the trace holds one not yet matched: a new journey from it.
    auto from_io_post = [&](std::uint32_t io_id) -> std::optional<std::size_t> {
        auto post = unmatched_io_posts.find(io_id);
        if (io_id == 0 || post == unmatched_io_posts.end()) return std::nullopt;
        const std::size_t journey = start(post->second);
        unmatched_io_posts.erase(post);
        return journey;
    };

    for (std::uint32_t i = 0; i < events.size(); ++i) {
        const StoredEvent& event = events[i];
        switch (event.kind) {
            case Kind::io_posted:
                // A server reuses an id only once the I/O it named is over, so the latest post is the live one.
                if (event.arg1 != 0) unmatched_io_posts[event.arg1] = i;
                break;
            case Kind::packet_posted: {
                const auto from_post = from_io_post(event.arg1);
                std::size_t journey;
                if (from_post) extend(journey = *from_post, i);
                else journey = start(i);
                if (event.arg1 == 0) queued_by_hand[event.arg0].push_back(journey);
                else queued[{event.arg0, event.arg1}].push_back(journey);
                break;
            }
            case Kind::packet_dequeued: {
                auto& waiting = event.arg1 == 0 ? queued_by_hand[event.arg0] : queued[{event.arg0, event.arg1}];
                if (!waiting.empty()) {
                    extend(waiting.front(), i);
                    waiting.pop_front();
                } else if (const auto from_post = from_io_post(event.arg1)) {
                    // No packet_posted: a live server, whose kernel queues the packet unseen. The I/O's post starts it.
                    extend(*from_post, i);
                }  // else the packet was posted before the trace began: nothing to link it to
                break;
            }
            case Kind::apc_run:
                if (const auto from_post = from_io_post(event.arg1)) extend(*from_post, i);
                break;
            default:
                break;
        }
    }
    return found;
}

// ---- 3. Handling slices --------------------------------------------------------------------------------
//
// From the moment a worker has a packet to the moment it waits again: what the worker did for that packet.
// One stretch can hold several packets (GetQueuedCompletionStatusEx takes a batch). The thread's own states
// (running, held at the gate, blocked in /work) are drawn inside it; the slices must nest, so a state that
// began before the packet was taken is cut in two where the handling slice begins.
struct HandlingSlice {
    std::uint64_t begin_ns = 0;
    std::uint64_t end_ns = 0;
    std::vector<std::uint32_t> dequeues;  // packet_dequeued history indexes, in time order
};

bool is_idle(LaneState state) {
    return state == LaneState::waiting || state == LaneState::absent || state == LaneState::exited;
}

std::vector<HandlingSlice> find_handling(const TraceModel& model, const ThreadLane& lane,
                                         const std::vector<LaneSpan>& spans) {
    std::vector<HandlingSlice> slices;
    const auto& events = model.events();
    std::size_t s = 0;  // the span the next dequeue falls in; dequeues come in time order
    for (std::uint32_t index : lane.events) {
        const StoredEvent& dequeue = events[index];
        if (dequeue.kind != Kind::packet_dequeued) continue;
        if (!slices.empty() && dequeue.time_ns < slices.back().end_ns) {  // one more packet of the same batch
            slices.back().dequeues.push_back(index);
            continue;
        }
        while (s < spans.size() && spans[s].end_ns <= dequeue.time_ns) ++s;
        if (s >= spans.size()) continue;
        std::size_t k = s;
        std::uint64_t begin = std::max(dequeue.time_ns, spans[k].begin_ns);
        // A dequeue recorded while the lane still shows it waiting (its wait_end comes next): begin at the wake.
        if (is_idle(spans[k].state)) {
            if (++k >= spans.size()) continue;
            begin = spans[k].begin_ns;
        }
        std::uint64_t end = begin;
        for (; k < spans.size() && !is_idle(spans[k].state); ++k) end = spans[k].end_ns;
        if (end <= begin) continue;
        slices.push_back({begin, end, {index}});
    }
    return slices;
}

// The slice's name says what was handled: "handling receive, I/O 7", "handling a packet posted by hand",
// "handling 3 packets". The operation comes from the I/O's post when the journey has it, else from the
// io_completed the worker records once it has the packet (both carry it as their detail).
std::string handling_name(const TraceModel& model, const ThreadLane& lane, const HandlingSlice& slice,
                          const Journeys& journeys) {
    const auto& events = model.events();
    if (slice.dequeues.size() > 1) return "handling " + std::to_string(slice.dequeues.size()) + " packets";
    const std::uint32_t dequeue_index = slice.dequeues.front();
    const StoredEvent& dequeue = events[dequeue_index];
    if (dequeue.arg1 == 0) return "handling a packet posted by hand";
    std::string operation;
    auto journey = journeys.of_event.find(dequeue_index);
    if (journey != journeys.of_event.end()) {
        const StoredEvent& first = events[journeys.all[journey->second].events.front()];
        if (first.kind == Kind::io_posted) operation = trace::detail_name(to_wire(first));
    }
    if (operation.empty()) {
        auto at = std::lower_bound(lane.events.begin(), lane.events.end(), dequeue_index);
        for (; at != lane.events.end() && events[*at].time_ns < slice.end_ns; ++at) {
            if (events[*at].kind != Kind::io_completed) continue;
            operation = trace::detail_name(to_wire(events[*at]));
            break;
        }
    }
    return "handling " + (operation.empty() ? std::string() : operation + ", ") + "I/O " + std::to_string(dequeue.arg1);
}

// The flow fields of a complete ("X") event that is one step of a journey: the format's "flow v2", where the
// slice itself carries bind_id and says whether the arrow leaves it (flow_out), arrives (flow_in) or both.
// Perfetto and chrome://tracing bind these to the slice that carries them, with no guessing by timestamp.
void write_flow_step(std::ostream& out, std::uint64_t flow_id, bool arrives, bool leaves) {
    out << ",\"bind_id\":" << flow_id;
    if (arrives) out << ",\"flow_in\":true";
    if (leaves) out << ",\"flow_out\":true";
}

// ---- 4. Counters ---------------------------------------------------------------------------------------

struct CounterSeries {
    std::vector<std::pair<std::uint64_t, std::int64_t>> samples;  // (time, value)
    bool constant() const {
        return std::all_of(samples.begin(), samples.end(),
                           [this](const auto& sample) { return sample.second == samples.front().second; });
    }
};

// By track name. Two series per port at most:
//   "queue depth, port N": the server's own reading of the queue (queue_depth events; a live IOCP server asks
//     the kernel with NtQueryIoCompletion, the reference model knows its queue);
//   "packets queued, port N (posted - dequeued)": counted from packet events, and only where the trace records
//     posts. A live server cannot: its I/O completes inside the kernel, which queues the packet without telling
//     anyone, so only dequeues are seen and the count would read 0 throughout (the model stops it at 0).
std::map<std::string, CounterSeries> gather_counters(const TraceModel& model) {
    std::map<std::string, CounterSeries> series;
    for (const auto& event : model.events()) {
        const std::string port = std::to_string(event.arg0);
        if (event.kind == Kind::queue_depth) {
            series["queue depth, port " + port].samples.push_back({event.time_ns, event.arg1});
        } else if ((event.kind == Kind::packet_posted || event.kind == Kind::packet_dequeued) &&
                   model.posts_recorded(event.arg0) && event.derived != kNoDerived) {
            series["packets queued, port " + port + " (posted - dequeued)"].samples.push_back(
                {event.time_ns, event.derived});
        }
    }
    return series;
}

// ---- 5. Writing the file: what the passes found, then each part in the file's order -----------------------

constexpr int kProcess = 1;

// The three passes' results (the top of this file).
struct ExportPlan {
    Journeys journeys;
    std::vector<std::vector<LaneSpan>> lane_spans;          // per lane: its states over the whole trace
    std::vector<std::vector<HandlingSlice>> lane_handling;  // per lane: the packets it handled
    std::map<std::string, CounterSeries> counters;
};

ExportPlan plan_export(const TraceModel& model) {
    ExportPlan plan;
    plan.journeys = find_journeys(model);
    Journeys& journeys = plan.journeys;

    // Per thread: its states, and the handling slices the journeys end on.
    plan.lane_spans.resize(model.lanes().size());
    plan.lane_handling.resize(model.lanes().size());
    for (std::size_t l = 0; l < model.lanes().size(); ++l) {
        const ThreadLane& lane = model.lanes()[l];
        model.spans(lane, model.first_ns(), model.last_ns() + 1, 0.0, plan.lane_spans[l]);
        plan.lane_handling[l] = find_handling(model, lane, plan.lane_spans[l]);
        // The first packet of a handling slice carries its journey on into the slice. (Later packets of a
        // batch end at their own dequeue, inside the same slice: a slice binds one arrow.)
        for (const auto& slice : plan.lane_handling[l]) {
            auto journey = journeys.of_event.find(slice.dequeues.front());
            if (journey != journeys.of_event.end()) journeys.all[journey->second].ends_in_handling = true;
        }
    }
    // Arrow ids: one per journey of two steps or more, counted from 1. (Not the I/O id: a server reuses those,
    // and a flow id must name one arrow in the whole file.)
    std::uint64_t next_flow = 1;
    for (auto& journey : journeys.all)
        if (journey.events.size() + (journey.ends_in_handling ? 1 : 0) >= 2) journey.flow_id = next_flow++;

    plan.counters = gather_counters(model);
    return plan;
}

// A time in the file: microseconds since the trace's first event.
std::string timestamp(const TraceModel& model, std::uint64_t ns) { return microseconds(ns - model.first_ns()); }

// otherData: the trace's info, and the counters left out because they never change.
void write_other_data(std::ostream& out, const TraceModel& model,
                      const std::map<std::string, CounterSeries>& counters) {
    out << "\"otherData\":{";
    bool first_info = true;
    for (const auto& [key, value] : model.info()) {
        out << (first_info ? "" : ",") << json_string(key) << ":" << json_string(value);
        first_info = false;
    }
    // A counter that never moves draws a flat line that says nothing; its one value is kept here instead.
    std::string left_out;
    for (const auto& [name, series] : counters) {
        if (!series.constant()) continue;
        left_out += (left_out.empty() ? "" : "; ") + name + ": " + std::to_string(series.samples.front().second) +
                    " in all " + std::to_string(series.samples.size()) + " samples";
    }
    if (!left_out.empty())
        out << (first_info ? "" : ",") << "\"constant counters, not drawn\":" << json_string(left_out);
    out << "}";
}

// Names: the process is the server, each track a thread with its role.
void write_names(EventList& list, const TraceModel& model) {
    std::string process = "socklab " + (model.io_model().empty() ? std::string("trace") : model.io_model());
    if (!model.runtime().empty()) process += " (" + model.runtime() + ")";
    list.next() << "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" << kProcess
                << ",\"args\":{\"name\":" << json_string(process) << "}}";
    for (const auto& lane : model.lanes()) {
        if (lane.events.empty()) continue;
        const std::string name = (lane.role.empty() ? "thread" : lane.role) + " " + std::to_string(lane.index);
        list.next() << "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" << kProcess << ",\"tid\":" << lane.index
                    << ",\"args\":{\"name\":" << json_string(name) << "}}";
        list.next() << "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":" << kProcess << ",\"tid\":" << lane.index
                    << ",\"args\":{\"sort_index\":" << lane.index << "}}";
    }
}

// A handling slice: the packets a worker handled between taking the first and waiting again.
void write_handling_slice(EventList& list, const TraceModel& model, const ThreadLane& lane, const HandlingSlice& slice,
                          const Journeys& journeys) {
    const auto& events = model.events();
    auto& line = list.next();
    line << "{\"ph\":\"X\",\"cat\":\"handling\",\"name\":" << json_string(handling_name(model, lane, slice, journeys))
         << ",\"pid\":" << kProcess << ",\"tid\":" << lane.index << ",\"ts\":" << timestamp(model, slice.begin_ns)
         << ",\"dur\":" << microseconds(slice.end_ns - slice.begin_ns);
    auto journey = journeys.of_event.find(slice.dequeues.front());
    if (journey != journeys.of_event.end() && journeys.all[journey->second].flow_id != 0)
        write_flow_step(line, journeys.all[journey->second].flow_id, true, false);
    line << ",\"args\":";
    JsonObject args(line);
    const StoredEvent& first = events[slice.dequeues.front()];
    args.number("port", first.arg0);
    if (slice.dequeues.size() == 1) {
        args.number("io_id", first.arg1);
    } else {
        std::string ids;
        for (std::uint32_t index : slice.dequeues)
            ids += (ids.empty() ? "" : ", ") + std::to_string(events[index].arg1);
        args.text("io_ids", ids);
    }
    args.number("packets", static_cast<std::int64_t>(slice.dequeues.size()));
    if (first.connection != 0) args.number("connection", first.connection);
    args.close();
    line << "}";
}

// One thread's handling slices, and its states inside and between them. A parent is written before its children:
// at equal timestamps the viewers keep the file's order, and that is what nests them.
void write_lane_slices(EventList& list, const TraceModel& model, const ThreadLane& lane,
                       const std::vector<LaneSpan>& spans, const std::vector<HandlingSlice>& handling,
                       const Journeys& journeys) {
    std::size_t h = 0;  // the first handling slice that has not ended yet
    for (const auto& span : spans) {
        if (span.state == LaneState::absent || span.state == LaneState::exited) continue;
        const StoredEvent& start = model.events()[span.first_event];
        // Cut the span where a handling slice begins inside it; its end is always a span boundary.
        for (std::uint64_t piece_begin = span.begin_ns; piece_begin < span.end_ns;) {
            std::uint64_t piece_end = span.end_ns;
            while (h < handling.size() && handling[h].end_ns <= piece_begin) ++h;
            if (h < handling.size()) {
                if (handling[h].begin_ns > piece_begin) {
                    piece_end = std::min(piece_end, handling[h].begin_ns);
                } else {
                    if (handling[h].begin_ns == piece_begin)
                        write_handling_slice(list, model, lane, handling[h], journeys);
                    piece_end = std::min(piece_end, handling[h].end_ns);
                }
            }
            auto& line = list.next();
            line << "{\"ph\":\"X\",\"cat\":\"state\",\"name\":" << json_string(to_string(span.state))
                 << ",\"pid\":" << kProcess << ",\"tid\":" << lane.index << ",\"ts\":" << timestamp(model, piece_begin)
                 << ",\"dur\":" << microseconds(piece_end - piece_begin) << ",\"args\":";
            JsonObject args(line);
            args.text("because", std::string(trace::to_string(start.kind)));
            write_event_fields(args, model, start);
            args.close();
            line << "}";
            piece_begin = piece_end;
        }
    }
}

// Every other event as a marker: a complete event of no duration (Perfetto draws it as it draws an instant),
// so that the steps of a journey can carry their flow fields, which only complete events bind.
void write_markers(EventList& list, const TraceModel& model, const Journeys& journeys) {
    const auto& events = model.events();
    for (std::uint32_t i = 0; i < events.size(); ++i) {
        const StoredEvent& event = events[i];
        if (trace::sets_thread_state(event.kind)) continue;
        auto& line = list.next();
        line << "{\"ph\":\"X\",\"cat\":\"event\",\"name\":" << json_string(std::string(trace::to_string(event.kind)))
             << ",\"pid\":" << kProcess << ",\"tid\":" << event.thread << ",\"ts\":" << timestamp(model, event.time_ns)
             << ",\"dur\":0";
        auto journey = journeys.of_event.find(i);
        if (journey != journeys.of_event.end() && journeys.all[journey->second].flow_id != 0) {
            const Journey& its = journeys.all[journey->second];
            const bool first = its.events.front() == i;
            const bool last = its.events.back() == i && !its.ends_in_handling;
            write_flow_step(line, its.flow_id, !first, !last);
        }
        line << ",\"args\":";
        JsonObject args(line);
        write_event_fields(args, model, event);
        args.close();
        line << "}";
    }
}

void write_counters(EventList& list, const TraceModel& model, const std::map<std::string, CounterSeries>& counters) {
    for (const auto& [name, series] : counters) {
        if (series.constant()) continue;  // named in otherData instead
        for (const auto& [time_ns, value] : series.samples)
            list.next() << "{\"ph\":\"C\",\"name\":" << json_string(name) << ",\"pid\":" << kProcess
                        << ",\"ts\":" << timestamp(model, time_ns) << ",\"args\":{\"packets\":" << value << "}}";
    }
}

}  // namespace

void write_chrome_trace(const TraceModel& model, std::ostream& out) {
    const ExportPlan plan = plan_export(model);
    out << "{\"displayTimeUnit\":\"ns\",";
    write_other_data(out, model, plan.counters);
    out << ",\"traceEvents\":[";
    EventList list(out);
    write_names(list, model);
    for (std::size_t l = 0; l < model.lanes().size(); ++l)
        write_lane_slices(list, model, model.lanes()[l], plan.lane_spans[l], plan.lane_handling[l], plan.journeys);
    write_markers(list, model, plan.journeys);
    write_counters(list, model, plan.counters);
    out << "\n]}\n";
}

bool export_chrome_trace(const TraceModel& model, const std::string& path, std::string& error) {
    std::ofstream out(path, std::ios::trunc);
    if (!out) {
        error = path + ": cannot create";
        return false;
    }
    write_chrome_trace(model, out);
    out.flush();
    if (!out) {
        error = path + ": cannot write";
        return false;
    }
    return true;
}

}  // namespace socklab::viz
