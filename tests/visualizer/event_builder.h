// tests/visualizer/event_builder.h — hand-built event sequences for the visualizer's model tests.
//
//   EventBuilder b;
//   b.wait_port(1);          // thread 1 waits on completion port 0
//   b.wake(1);               // ... and a packet wakes it
//   TraceModel model = b.model();
// Each call advances the clock by 1 µs, so the events are in time order and their times are easy to name.
#pragma once

#include <cstdint>
#include <vector>

#include "common/trace/event.h"
#include "visualizer/model/trace_model.h"

namespace socklab::viz::testing {

using trace::Event;
using trace::Kind;

class EventBuilder {
public:
    std::uint64_t now = 1'000;

    Event& add(Kind kind, std::uint16_t thread, std::uint8_t detail = 0, std::int64_t arg0 = 0, std::uint32_t arg1 = 0,
               std::uint32_t connection = 0) {
        Event event{};
        event.time_ns = now;
        event.kind = kind;
        event.thread = thread;
        event.detail = detail;
        event.arg0 = arg0;
        event.arg1 = arg1;
        event.connection = connection;
        event.site = 1;
        now += 1'000;
        events.push_back(event);
        return events.back();
    }
    void server_start(std::uint32_t concurrency) { add(Kind::server_start, 0, 0, 2, concurrency); }
    void start(std::uint16_t thread) { add(Kind::thread_start, thread); }
    void wait_port(std::uint16_t thread, std::int64_t port = 0) {
        add(Kind::wait_begin, thread, static_cast<std::uint8_t>(trace::WaitOn::completion_port), port);
    }
    void wake(std::uint16_t thread, trace::Wake why = trace::Wake::completion) {
        add(Kind::wait_end, thread, static_cast<std::uint8_t>(why), 64);
    }
    void post(std::uint32_t io_id, std::int64_t port = 0) { add(Kind::packet_posted, 0, 0, port, io_id); }
    void dequeue(std::uint16_t thread, std::uint32_t io_id, std::int64_t port = 0) {
        add(Kind::packet_dequeued, thread, 0, port, io_id);
    }

    TraceModel model() const {
        TraceModel model;
        model.take(events.data(), events.size());
        model.finish();
        return model;
    }

    std::vector<Event> events;
};

}  // namespace socklab::viz::testing
