// visualizer/model/chrome_export.cpp — writes the Chrome trace JSON described in chrome_export.h.
#include "visualizer/model/chrome_export.h"

#include <cinttypes>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <set>

#include "visualizer/model/trace_model.h"

namespace socklab::viz {

namespace {

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
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

}  // namespace

void write_chrome_trace(const TraceModel& model, std::ostream& out) {
    constexpr int kProcess = 1;
    const auto& events = model.events();
    const std::uint64_t origin = model.first_ns();
    auto ts = [origin](std::uint64_t ns) { return microseconds(ns - origin); };

    out << "{\"displayTimeUnit\":\"ns\",\"otherData\":{";
    bool first_info = true;
    for (const auto& [key, value] : model.info()) {
        out << (first_info ? "" : ",") << json_string(key) << ":" << json_string(value);
        first_info = false;
    }
    out << "},\"traceEvents\":[";
    EventList list(out);

    // Names: the process is the server, each track a thread with its role.
    std::string process = "socklab " + (model.model_name().empty() ? std::string("trace") : model.model_name());
    if (!model.runtime().empty()) process += " (" + model.runtime() + ")";
    list.next() << "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" << kProcess
                << ",\"args\":{\"name\":" << json_string(process) << "}}";
    for (const auto& lane : model.lanes()) {
        if (lane.events.empty()) continue;
        const std::string name = (lane.role.empty() ? "thread" : lane.role) + " " + std::to_string(lane.index);
        list.next() << "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" << kProcess << ",\"tid\":" << lane.index
                    << ",\"args\":{\"name\":" << json_string(name) << "}}";
        list.next() << "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":" << kProcess << ",\"tid\":"
                    << lane.index << ",\"args\":{\"sort_index\":" << lane.index << "}}";
    }

    // States as slices.
    std::vector<LaneSpan> spans;
    for (const auto& lane : model.lanes()) {
        model.spans(lane, model.first_ns(), model.last_ns() + 1, 0.0, spans);
        for (const auto& span : spans) {
            if (span.state == LaneState::absent || span.state == LaneState::exited) continue;
            const StoredEvent& start = events[span.first_event];
            list.next() << "{\"ph\":\"X\",\"cat\":\"state\",\"name\":" << json_string(to_string(span.state))
                        << ",\"pid\":" << kProcess << ",\"tid\":" << lane.index << ",\"ts\":" << ts(span.begin_ns)
                        << ",\"dur\":" << microseconds(span.end_ns - span.begin_ns) << ",\"args\":{\"because\":"
                        << json_string(std::string(trace::to_string(start.kind))) << ",\"detail\":"
                        << json_string(std::string(trace::detail_name(to_wire(start)))) << "}}";
        }
    }

    // Every other event as an instant, flows from posts to dequeues, and queue depth counters.
    std::set<std::pair<std::int64_t, std::uint32_t>> posted_ids;   // (port, I/O id) posted, not yet dequeued
    std::map<std::int64_t, std::deque<std::uint64_t>> hand_posted;  // port -> flow ids of packets with I/O id 0
    std::uint64_t next_hand_flow = std::uint64_t{1} << 40;           // above every 32-bit I/O id
    for (const auto& event : events) {
        if (trace::sets_thread_state(event.kind)) continue;
        const std::string name(trace::to_string(event.kind));
        list.next() << "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"event\",\"name\":" << json_string(name)
                    << ",\"pid\":" << kProcess << ",\"tid\":" << event.thread << ",\"ts\":" << ts(event.time_ns)
                    << ",\"args\":{\"connection\":" << event.connection << ",\"arg0\":" << event.arg0
                    << ",\"arg1\":" << event.arg1 << ",\"detail\":"
                    << json_string(std::string(trace::detail_name(to_wire(event)))) << "}}";

        if (event.kind == Kind::packet_posted || event.kind == Kind::packet_dequeued) {
            const bool post = event.kind == Kind::packet_posted;
            std::uint64_t flow = event.arg1;
            bool linked = true;
            if (event.arg1 == 0) {
                auto& queue = hand_posted[event.arg0];
                if (post) queue.push_back(flow = next_hand_flow++);
                else if (queue.empty()) linked = false;
                else flow = queue.front(), queue.pop_front();
            } else if (post) {
                posted_ids.insert({event.arg0, event.arg1});
            } else {
                linked = posted_ids.erase({event.arg0, event.arg1}) == 1;  // its post may predate the trace
            }
            if (linked)
                list.next() << "{\"ph\":\"" << (post ? "s" : "f") << "\"" << (post ? "" : ",\"bp\":\"e\"")
                            << ",\"cat\":\"packet\",\"name\":\"packet\",\"id\":" << flow << ",\"pid\":" << kProcess
                            << ",\"tid\":" << event.thread << ",\"ts\":" << ts(event.time_ns) << "}";
            list.next() << "{\"ph\":\"C\",\"name\":\"packets queued, port " << event.arg0
                        << " (posted - dequeued)\",\"pid\":" << kProcess << ",\"ts\":" << ts(event.time_ns)
                        << ",\"args\":{\"packets\":" << event.derived << "}}";
        } else if (event.kind == Kind::queue_depth) {
            list.next() << "{\"ph\":\"C\",\"name\":\"queue depth, port " << event.arg0 << "\",\"pid\":" << kProcess
                        << ",\"ts\":" << ts(event.time_ns) << ",\"args\":{\"packets\":" << event.arg1 << "}}";
        }
    }
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
