// tests/visualizer/trace_model_test.cpp — the visualizer's model, checked on hand-built event sequences.
//
// Each test builds the few events a situation needs and checks one derived figure the panels show.
#include "tests/catch.hpp"
#include "tests/visualizer/event_builder.h"
#include "visualizer/model/synthetic_trace.h"

using namespace socklab::viz;
using socklab::trace::Kind;
using socklab::trace::Wake;
using socklab::viz::testing::EventBuilder;

namespace {

// Four workers wait on port 0 in the order 1, 2, 3, 4: thread 4 is on top of the stack.
EventBuilder four_waiters() {
    EventBuilder b;
    b.server_start(2);
    for (std::uint16_t t = 1; t <= 4; ++t) b.start(t);
    for (std::uint16_t t = 1; t <= 4; ++t) b.wait_port(t);
    return b;
}

}  // namespace

TEST_CASE("a wake of the most recent of four waiters takes stack position 0", "[viz][wakes]") {
    EventBuilder b = four_waiters();
    b.post(7);
    b.wake(4);
    TraceModel model = b.model();
    const auto& wake = model.events().back();
    REQUIRE(wake.kind == Kind::wait_end);
    CHECK(wake.derived == 0);
    CHECK(model.conformance().wakes == 1);
    CHECK(model.conformance().wakes_with_choice == 1);
    CHECK(model.conformance().lifo_wakes == 1);
    CHECK(model.conformance().lifo_share() == 1.0);
}

TEST_CASE("a wake of the oldest of four waiters takes stack position 3", "[viz][wakes]") {
    EventBuilder b = four_waiters();
    b.wake(1);
    TraceModel model = b.model();
    CHECK(model.events().back().derived == 3);
    CHECK(model.conformance().lifo_wakes == 0);
    CHECK(model.conformance().fifo_wakes == 1);
    CHECK(model.conformance().lifo_share() == 0.0);
    CHECK(model.conformance().positions[3] == 1);
}

TEST_CASE("the waiters stack at a time lists the threads waiting then, oldest first", "[viz][wakes]") {
    EventBuilder b = four_waiters();
    const std::uint64_t all_waiting = b.now - 1;
    b.wake(3);
    const std::uint64_t after_wake = b.now - 1;
    b.wait_port(3);  // 3 comes back: now the top again
    TraceModel model = b.model();

    auto ids = [](const std::vector<PortWaiter>& waiters) {
        std::vector<int> out;
        for (const auto& w : waiters) out.push_back(w.thread);
        return out;
    };
    CHECK(ids(model.waiters_at(0, all_waiting)) == std::vector<int>{1, 2, 3, 4});
    CHECK(ids(model.waiters_at(0, after_wake)) == std::vector<int>{1, 2, 4});
    CHECK(ids(model.waiters_at(0, model.last_ns())) == std::vector<int>{1, 2, 4, 3});
    CHECK(model.recent_wakes(0, model.last_ns(), 10).size() == 1);
    CHECK(model.events()[model.recent_wakes(0, model.last_ns(), 10)[0]].derived == 1);
}

TEST_CASE("wakes taken in FIFO order read as FIFO, with a LIFO share of 0", "[viz][wakes][conformance]") {
    EventBuilder b = four_waiters();
    b.wake(1);  // position 3 of 4
    b.wake(2);  // position 2 of 3
    b.wake(3);  // position 1 of 2
    b.wake(4);  // the only waiter: no choice, not counted either way
    TraceModel model = b.model();
    const auto& figures = model.conformance();
    CHECK(figures.wakes == 4);
    CHECK(figures.wakes_with_choice == 3);
    CHECK(figures.fifo_wakes == 3);
    CHECK(figures.lifo_wakes == 0);
    CHECK(figures.positions[0] == 1);
}

// A pool of workers in epoll_wait on one epoll instance (models/09_epoll.cpp) is stacked as a port's waiters are, and a
// ready event that wakes one counts as a wake, so its waiters stack, recent wakes and LIFO share read the same.
TEST_CASE("epoll_wait waiters stack like a port's, and a ready event's wake counts", "[viz][wakes][conformance]") {
    EventBuilder b;
    b.server_start(0);
    for (std::uint16_t t = 1; t <= 4; ++t) b.start(t);
    for (std::uint16_t t = 1; t <= 4; ++t)
        b.add(Kind::wait_begin, t, static_cast<std::uint8_t>(socklab::trace::WaitOn::epoll), 0);
    b.wake(4, Wake::ready);  // the most recent waiter
    b.wake(1, Wake::ready);  // the oldest of the three left
    b.wake(2, Wake::stop);   // leaves the stack, not a wake with work
    TraceModel model = b.model();
    CHECK(model.waiters_at(0, model.last_ns()).size() == 1);
    CHECK(model.recent_wakes(0, model.last_ns(), 10).size() == 3);
    const auto& figures = model.conformance();
    CHECK(figures.wakes == 2);
    CHECK(figures.wakes_with_choice == 2);
    CHECK(figures.lifo_wakes == 1);
    CHECK(figures.fifo_wakes == 1);
    CHECK(figures.lifo_share() == 0.5);
}

TEST_CASE("a timeout ends the wait without counting as a wake by a packet", "[viz][wakes]") {
    EventBuilder b = four_waiters();
    b.wake(2, Wake::timeout);
    TraceModel model = b.model();
    CHECK(model.conformance().wakes == 0);
    CHECK(model.events().back().derived == 2);  // still leaves the stack, from position 2
    CHECK(model.waiters_at(0, model.last_ns()).size() == 3);
}

TEST_CASE("the reference model's thread_wake takes the position, its wait_end does not count twice", "[viz][wakes]") {
    EventBuilder b = four_waiters();
    b.add(Kind::thread_wake, 4, 0, 0);
    const std::uint64_t between = b.now - 1;
    b.wake(4);
    TraceModel model = b.model();
    CHECK(model.conformance().wakes == 1);
    CHECK(model.conformance().lifo_wakes == 1);
    CHECK(model.events()[model.events().size() - 2].derived == 0);
    CHECK(model.events().back().derived == kNoDerived);
    CHECK(model.waiters_at(0, between).size() == 3);  // named by the kernel: no longer among the waiters
}

TEST_CASE("lane states follow wait, wake, block and exit", "[viz][lanes]") {
    EventBuilder b;
    b.start(1);
    const auto started = b.now - 1;
    b.wait_port(1);
    const auto waiting = b.now - 1;
    b.wake(1);
    const auto running = b.now - 1;
    b.add(Kind::block_begin, 1, 0, 5);
    const auto blocked = b.now - 1;
    b.add(Kind::block_end, 1);
    b.add(Kind::thread_exit, 1);
    TraceModel model = b.model();
    const ThreadLane& lane = *model.lane(1);
    CHECK(model.state_at(lane, 0) == LaneState::absent);
    CHECK(model.state_at(lane, started) == LaneState::running);
    CHECK(model.state_at(lane, waiting) == LaneState::waiting);
    CHECK(model.state_at(lane, running) == LaneState::running);
    CHECK(model.state_at(lane, blocked) == LaneState::blocked);
    CHECK(model.state_at(lane, model.last_ns()) == LaneState::exited);
    CHECK(lane.state_changes.size() == 6);
}

TEST_CASE("a gate hold shows as held until its release", "[viz][lanes][gate]") {
    EventBuilder b;
    b.start(1);
    b.wait_port(1);
    b.wake(1);
    b.add(Kind::gate_hold, 1);
    const auto held = b.now - 1;
    b.add(Kind::gate_release, 1);
    TraceModel model = b.model();
    const ThreadLane& lane = *model.lane(1);
    CHECK(model.state_at(lane, held) == LaneState::held);
    CHECK(model.state_at(lane, model.last_ns()) == LaneState::running);
    CHECK(model.counters().gate_holds == 1);

    std::vector<LaneSpan> spans;
    model.spans(lane, 0, model.last_ns() + 1, 0.0, spans);
    REQUIRE(spans.size() == 5);
    CHECK(spans[3].state == LaneState::held);
    CHECK(spans[3].end_ns - spans[3].begin_ns == 1'000);
}

TEST_CASE("a thread held at the gate still counts as running against the concurrency value",
          "[viz][conformance][gate]") {
    EventBuilder b = four_waiters();  // concurrency 2
    b.wake(4);
    b.add(Kind::gate_hold, 4);
    b.wake(3);
    b.wake(2);  // two already run (one held): a third wake breaks the documented rule
    TraceModel model = b.model();
    CHECK(model.conformance().concurrency == 2);
    CHECK(model.conformance().most_running == 3);
    CHECK(model.conformance().wakes_at_or_over_concurrency == 1);
}

TEST_CASE("a blocked thread leaves the running count and comes back to it", "[viz][conformance]") {
    EventBuilder b = four_waiters();
    b.wake(4);
    b.wake(3);
    b.add(Kind::block_begin, 4, 0, 10);  // 4 sleeps: only 3 runs, so releasing 2 is within the rules
    b.wake(2);
    b.add(Kind::block_end, 4);  // 4 comes back: three run at once, as the documentation allows
    TraceModel model = b.model();
    CHECK(model.conformance().wakes_at_or_over_concurrency == 0);
    CHECK(model.conformance().most_running == 3);
}

TEST_CASE("the concurrency value comes from server_start or from the info record", "[viz][conformance]") {
    EventBuilder b;
    b.server_start(0);
    TraceModel model = b.model();
    CHECK(model.conformance().concurrency == 0);
    model.take_info("concurrency", "4");
    CHECK(model.conformance().concurrency == 4);
}

TEST_CASE("queue depth is counted from posts and dequeues, and sampled from queue_depth", "[viz][queue]") {
    EventBuilder b = four_waiters();
    b.post(10);
    b.post(11);
    b.post(12);
    b.add(Kind::queue_depth, 0, 0, 0, 3);
    const auto three = b.now - 1;
    b.wake(4);
    b.dequeue(4, 10);
    TraceModel model = b.model();
    CHECK(model.counted_depth_at(0, three) == 3);
    CHECK(model.sampled_depth_at(0, three) == 3);
    CHECK(model.counted_depth_at(0, model.last_ns()) == 2);
    CHECK(model.sampled_depth_at(0, 0) == -1);
    CHECK(model.counters().packets_posted == 3);
    CHECK(model.counters().packets_dequeued == 1);
}

TEST_CASE("the packets waiting are the posts not yet dequeued, by I/O id", "[viz][queue]") {
    EventBuilder b = four_waiters();
    b.post(10);
    b.post(11);
    b.post(12);
    b.wake(4);
    b.dequeue(4, 11);  // taken out of order: the trace says which
    b.post(13);
    TraceModel model = b.model();
    std::vector<std::uint32_t> ids;
    for (auto posted : model.packets_waiting_at(0, model.last_ns())) ids.push_back(model.events()[posted].arg1);
    CHECK(ids == std::vector<std::uint32_t>{10, 12, 13});
    // The dequeue links back to its post (the timeline's flow arrow, the exporter's "s"/"f" pair).
    const auto dequeue = static_cast<std::uint32_t>(model.event_count() - 2);
    REQUIRE(model.post_of(dequeue) != kNoEvent);
    CHECK(model.events()[model.post_of(dequeue)].arg1 == 11);
}

TEST_CASE("connections open and close with their reasons; lines give throughput and latency", "[viz][connections]") {
    EventBuilder b;
    b.add(Kind::connection_open, 1, 0, 50001, 0, 1);
    b.add(Kind::connection_open, 1, 0, 50002, 0, 2);
    b.add(Kind::line_in, 2, 0, 5, 0, 1);
    b.add(Kind::line_out, 2, 0, 6, 0, 1);  // 1 µs after its line
    b.add(Kind::line_in, 2, 0, 5, 0, 2);
    b.now += 2'000;
    b.add(Kind::line_out, 2, 0, 6, 0, 2);  // 3 µs after its line
    b.add(Kind::connection_close, 1, static_cast<std::uint8_t>(socklab::trace::CloseReason::quit), 0, 0, 1);
    TraceModel model = b.model();
    REQUIRE(model.connections().size() == 2);
    CHECK(model.connections()[0].reason == socklab::trace::CloseReason::quit);
    CHECK(model.connections()[0].peer_port == 50001);
    CHECK(model.connections_open_at(model.last_ns()) == 1);
    CHECK(model.connections_open_at(model.events()[2].time_ns) == 2);
    CHECK(model.counters().lines_in == 2);
    CHECK(model.counters().lines_out == 2);
    CHECK(model.counters().bytes_out == 12);
    CHECK(model.counters().close_reasons[static_cast<int>(socklab::trace::CloseReason::quit)] == 1);
    CHECK(model.latency().count == 2);
    CHECK(model.latency().max_ns == 3'000);
    CHECK(model.latency().mean_ns() == 2'000.0);
    REQUIRE(model.throughput().size() == 1);
    CHECK(model.throughput()[0].lines_in == 2);
}

TEST_CASE("events that arrive grouped per thread are put back in time order", "[viz][intake]") {
    EventBuilder b;
    b.start(1);
    b.start(2);
    b.wait_port(1);
    b.wait_port(2);
    // The stream delivers thread 2's events first, as a collector draining one ring after another would.
    std::vector<socklab::trace::Event> shuffled;
    for (const auto& e : b.events)
        if (e.thread == 2) shuffled.push_back(e);
    for (const auto& e : b.events)
        if (e.thread != 2) shuffled.push_back(e);
    TraceModel model;
    model.take(shuffled.data(), shuffled.size());
    model.settle();  // everything is within the reorder window: nothing placed yet
    CHECK(model.event_count() == 0);
    model.finish();
    REQUIRE(model.event_count() == 4);
    for (std::size_t i = 1; i < model.event_count(); ++i)
        CHECK(model.events()[i - 1].time_ns <= model.events()[i].time_ns);
    CHECK(model.waiters_at(0, model.last_ns()).back().thread == 2);  // 2 waited last
    CHECK(model.counters().late_events == 0);
}

TEST_CASE("spans merge what is shorter than a pixel and stay bounded by the width", "[viz][lanes]") {
    EventBuilder b;
    b.start(1);
    for (int i = 0; i < 10'000; ++i) {
        b.wait_port(1);
        b.wake(1);
    }
    TraceModel model = b.model();
    const ThreadLane& lane = *model.lane(1);
    std::vector<LaneSpan> spans;
    const double width_pixels = 500;
    model.spans(lane, model.first_ns(), model.last_ns(), double(model.last_ns() - model.first_ns()) / width_pixels,
                spans);
    CHECK(spans.size() <= 2 * static_cast<std::size_t>(width_pixels) + 2);
    CHECK(spans.size() >= 100);
    std::uint64_t merged = 0;
    for (std::size_t i = 0; i < spans.size(); ++i) {
        merged += spans[i].merged;
        if (i) CHECK(spans[i - 1].end_ns <= spans[i].begin_ns);
    }
    CHECK(merged > 10'000);
    std::vector<std::uint32_t> events;
    model.events_in(lane, model.first_ns(), model.last_ns(), double(model.last_ns() - model.first_ns()) / 500, events);
    CHECK(events.size() <= 501);
}

TEST_CASE("the history stays within 40 bytes an event on a server-like trace", "[viz][storage]") {
    SyntheticOptions options;
    options.lines = 2'000;
    TraceModel model;
    auto trace = make_synthetic_trace(options);
    model.take(trace.events.data(), trace.events.size());
    model.finish();
    CHECK(model.event_count() == trace.events.size());
    CHECK(model.bytes_per_event_stored() <= 40.0);
}

TEST_CASE("a synthetic LIFO trace reads as LIFO and a FIFO one as FIFO", "[viz][conformance]") {
    for (bool lifo : {true, false}) {
        SyntheticOptions options;
        options.lifo = lifo;
        options.lines = 300;
        TraceModel model;
        auto trace = make_synthetic_trace(options);
        for (const auto& [key, value] : trace.info) model.take_info(key, value);
        model.take(trace.events.data(), trace.events.size());
        model.finish();
        const auto& figures = model.conformance();
        INFO("lifo " << lifo);
        CHECK(figures.wakes == 300);
        REQUIRE(figures.wakes_with_choice > 0);
        CHECK(figures.lifo_share() == (lifo ? 1.0 : 0.0));
        CHECK(figures.most_running <= 2);
        CHECK(figures.wakes_at_or_over_concurrency == 0);
        CHECK(model.counted_depth_at(0, model.last_ns()) == 0);
        CHECK(model.connections_open_at(model.last_ns()) == 0);
    }
}

TEST_CASE("without recorded posts the queue depth is the sampled one", "[viz][queue]") {
    // A live server sees a packet only when a worker takes it; it samples the depth with NtQueryIoCompletion.
    EventBuilder b = four_waiters();
    b.add(Kind::queue_depth, 0, 0, 0, 5);
    const auto five = b.now - 1;
    b.wake(4);
    b.dequeue(4, 77);
    b.add(Kind::queue_depth, 0, 0, 0, 4);
    TraceModel model = b.model();
    CHECK_FALSE(model.posts_recorded(0));
    CHECK(model.depth_at(0, five) == 5);
    CHECK(model.depth_at(0, model.last_ns()) == 4);
    CHECK(model.counted_depth_at(0, model.last_ns()) == 0);
}

TEST_CASE("a thread whose wait began before the trace counts as running once it takes a packet", "[viz][conformance]") {
    // A viewer that attaches to a running server misses the waits already in progress.
    EventBuilder b;
    b.server_start(2);
    b.wake(2);
    b.dequeue(2, 5);
    b.add(Kind::gate_hold, 2);
    b.wake(3);
    b.dequeue(3, 6);
    TraceModel model = b.model();
    CHECK(model.conformance().most_running == 2);
    CHECK(model.conformance().wakes == 0);  // no stack was seen, so no position is claimed
    CHECK(model.state_at(*model.lane(2), model.last_ns()) == LaneState::held);
}

TEST_CASE("a slow-motion pause is a state of its own, and the kernel's view of it is a block", "[viz][slow]") {
    EventBuilder b;
    b.server_start(1);
    b.wait_port(1);
    b.wait_port(2);
    b.wake(2);  // worker 2 runs: one running against a value of 1
    const auto slow = static_cast<std::uint8_t>(socklab::trace::BlockReason::slow_motion);
    const std::uint64_t paused_at = b.add(Kind::block_begin, 2, slow, 200).time_ns;
    b.wake(1);  // worker 2 sleeps in slow motion: the kernel may release worker 1
    const std::uint64_t resumed_at = b.add(Kind::block_end, 2, slow, 200).time_ns;
    const std::uint64_t handler_at = b.add(Kind::block_begin, 1, 0, 50).time_ns;  // /work's own Sleep
    TraceModel model = b.model();
    const ThreadLane* two = nullptr;
    const ThreadLane* one = nullptr;
    for (const ThreadLane& lane : model.lanes()) {
        if (lane.index == 2) two = &lane;
        if (lane.index == 1) one = &lane;
    }
    REQUIRE((two && one));
    CHECK(model.state_at(*two, paused_at) == LaneState::slowed);
    CHECK(model.state_at(*two, resumed_at) == LaneState::running);
    CHECK(model.state_at(*one, handler_at) == LaneState::blocked);
    // Drawn apart, counted alike: the pause took worker 2 out of the running count, so 1 then 2 ran at most.
    CHECK(model.conformance().most_running == 2);
    CHECK(std::string(to_string(LaneState::slowed)) == "paused by slow motion");
}
