// tests/visualizer/live_test.cpp — the live side of the visualizer without Wine: a stand-in trace server in
// this process streams a trace to a TracedRun and reads the control lines it sends back; a stand-in echo
// server answers the client pool.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "tests/catch.hpp"
#include "tests/visualizer/loopback_listener.h"
#include "tests/visualizer/event_builder.h"
#include "visualizer/model/client_pool.h"
#include "visualizer/model/traced_run.h"
#include "visualizer/model/trace_writer.h"

using namespace socklab::viz;
using socklab::trace::Kind;

namespace {

// Calls `step` every few milliseconds until `done` is true or two seconds pass.
template <typename Step, typename Done>
bool pump_until(Step step, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < deadline) {
        step();
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

}  // namespace

TEST_CASE("a session attached to a live trace port builds its model and sends control lines", "[viz][live]") {
    LoopbackListener listener;
    std::string controls_received;
    std::atomic<bool> controls_done{false};
    std::thread server([&] {
        const int viewer = ::accept(listener.socket, nullptr, nullptr);
        testing::EventBuilder b;
        b.server_start(2);
        b.start(1);
        b.wait_port(1);
        b.wake(1);
        b.add(Kind::gate_hold, 1);
        TraceWriter writer;
        writer.header();
        writer.info("model", "iocp");
        writer.thread({1, 99, "worker"});
        writer.events(b.events.data(), b.events.size());
        // Sent in two pieces that split a record, as TCP may deliver it.
        const std::string bytes = writer.take_bytes();
        ::send(viewer, bytes.data(), 40, 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ::send(viewer, bytes.data() + 40, bytes.size() - 40, 0);
        char buffer[256];
        while (controls_received.find("step\n") == std::string::npos) {
            const ssize_t got = ::recv(viewer, buffer, sizeof buffer, 0);
            if (got <= 0) break;
            controls_received.append(buffer, static_cast<std::size_t>(got));
        }
        controls_done = true;
        ::close(viewer);
    });

    auto run = TracedRun::attach("127.0.0.1", listener.port, 0);
    REQUIRE(run->live());
    const bool got_events = pump_until([&] { run->update(0.2); },  // 0.2 s a frame: the reorder window passes
                                       [&] { return run->trace_model().event_count() == 5; });
    CHECK(got_events);
    CHECK(run->trace_model().io_model() == "iocp");
    CHECK(run->trace_model().lane(1)->role == "worker");
    CHECK(run->trace_model().lane(1)->state == LaneState::held);
    CHECK(run->following());
    CHECK(run->cursor_ns() >= run->trace_model().last_ns());

    run->set_gate(true);
    CHECK(run->gate_on());
    run->set_slow_motion(250);
    run->step();
    pump_until([&] { run->update(0.01); }, [&] { return controls_done.load(); });
    server.join();
    CHECK(controls_received == "gate on\nslow 250\nstep\n");
}

TEST_CASE("the client pool connects, sends lines and counts the replies", "[viz][live][clients]") {
    LoopbackListener listener;
    std::atomic<bool> stop{false};
    std::thread echo([&] {
        // Echoes every byte of three clients, one thread each: a minimal line server.
        std::vector<std::thread> handlers;
        for (int i = 0; i < 3; ++i) {
            const int client = ::accept(listener.socket, nullptr, nullptr);
            handlers.emplace_back([client] {
                char buffer[512];
                for (ssize_t got; (got = ::recv(client, buffer, sizeof buffer, 0)) > 0;)
                    ::send(client, buffer, static_cast<std::size_t>(got), 0);
                ::close(client);
            });
        }
        for (auto& handler : handlers) handler.join();
    });

    ClientPool pool;
    pool.set_server("127.0.0.1", listener.port);
    pool.connect(3);
    CHECK(pump_until([&] { pool.poll(); }, [&] { return pool.figures().connected == 3; }));
    pool.send_to_all("hello");
    pool.burst(2, "again");
    CHECK(pump_until([&] { pool.poll(); }, [&] { return pool.figures().replies_received == 9; }));
    CHECK(pool.figures().lines_sent == 9);
    CHECK(pool.figures().last_reply.size() == 5);
    pool.disconnect_all();
    CHECK(pool.figures().connected == 0);
    echo.join();
    (void)stop;
}

TEST_CASE("a replay plays from the start at the chosen speed and stops at the end", "[viz][replay]") {
    testing::EventBuilder b;
    b.start(1);
    b.now += 1'000'000;  // the trace lasts a little over a millisecond
    b.wait_port(1);
    socklab::trace::Trace trace;
    trace.events = b.events;
    auto run = TracedRun::from_trace("test", trace);
    const auto first = run->trace_model().first_ns(), last = run->trace_model().last_ns();
    CHECK(run->cursor_ns() == last);
    CHECK_FALSE(run->following());

    run->set_speed(0.001);  // a millisecond of trace per second
    run->set_playing(true);
    CHECK(run->cursor_ns() == first);  // at the end, play starts again from the beginning
    run->update(0.5);
    CHECK(run->cursor_ns() == first + 500'000);
    run->update(1.0);
    CHECK(run->cursor_ns() == last);
    CHECK_FALSE(run->playing());
    run->seek(first + 10);
    CHECK(run->cursor_ns() == first + 10);
}
