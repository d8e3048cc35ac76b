// Tracing (docs/design.md §4): what is recorded arrives, whole and in each thread's order, through a file and
// through the live TCP stream; the step gate holds and releases threads as a viewer asks.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "common/net/socket.h"
#include "common/trace/reader.h"
#include "common/trace/recorder.h"
#include "tests/catch.hpp"

namespace trace = socklab::trace;
using trace::Kind;

namespace {

std::string temporary_path(const char* name) {
    return (std::filesystem::temp_directory_path() /
            (std::string("socklab-") + name + "-" + std::to_string(std::rand()) + ".sltrace"))
        .string();
}

// Each of `threads` threads records `per_thread` line_in events numbered 0.. in arg0.
void record_from_threads(int threads, int per_thread) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([=] {
            trace::name_thread("worker");
            for (int i = 0; i < per_thread; ++i) {
                TRACE(line_in, t + 1, 0, i, t);
                // About a million events a second per thread: more than any model emits, within what the
                // collector drains (a ring holds 16,384 events; it is drained every 2 ms).
                if (i % 1000 == 999) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            trace::thread_exiting();
        });
    for (auto& worker : workers) worker.join();
}

// Checks that every thread's events arrived, all of them, in the order they were recorded.
void check_complete(const trace::Trace& recorded, int threads, int per_thread) {
    std::map<std::uint32_t, std::int64_t> next;  // per recording thread (arg1): next expected arg0
    std::map<std::uint32_t, std::uint16_t> index_of;
    for (const trace::Event& event : recorded.events) {
        if (event.kind != Kind::line_in) continue;
        REQUIRE(event.arg0 == next[event.arg1]);
        ++next[event.arg1];
        if (index_of.count(event.arg1)) {
            CHECK(index_of[event.arg1] == event.thread);  // one thread, one index
        }
        index_of[event.arg1] = event.thread;
    }
    REQUIRE(next.size() == static_cast<std::size_t>(threads));
    for (auto& [thread, count] : next) CHECK(count == per_thread);
    CHECK(recorded.dropped == 0);
    for (const trace::Event& event : recorded.events) {
        REQUIRE(recorded.sites.count(event.site) == 1);  // every site arrives before its events
        REQUIRE(recorded.threads.count(event.thread) == 1);
    }
}

}  // namespace

TEST_CASE("events from many threads all arrive through a file, each thread's in order") {
    std::string path = temporary_path("file");
    trace::RecorderOptions options;
    options.sinks.push_back(trace::make_file_sink(path));
    options.ring_events = 1u << 15;  // room for every event even if the collector is not scheduled at all
    trace::set_info("model", "test");
    trace::start(std::move(options));
    record_from_threads(8, 20000);
    trace::stop();

    trace::Trace recorded;
    std::string error;
    REQUIRE(trace::read_trace_file(path, recorded, error));
    check_complete(recorded, 8, 20000);
    CHECK(recorded.info["model"] == "test");
    int workers = 0;
    for (auto& [index, thread] : recorded.threads) workers += thread.role == "worker";
    CHECK(workers == 8);
    // The site resolves to this file and line, so a viewer can open it.
    const trace::Event& line_in = *std::find_if(recorded.events.rbegin(), recorded.events.rend(),
                                                [](const trace::Event& e) { return e.kind == Kind::line_in; });
    const trace::SiteInfo& site = recorded.sites.at(line_in.site);
    CHECK(site.file.find("trace_test.cpp") != std::string::npos);
    CHECK(site.line > 0);
    std::filesystem::remove(path);
}

TEST_CASE("a full ring drops events and counts every one it dropped") {
    std::string path = temporary_path("drops");
    trace::RecorderOptions options;
    options.sinks.push_back(trace::make_file_sink(path));
    options.ring_events = 64;
    options.drain_interval_ms = 1000;  // the collector will not come by during the burst
    trace::start(std::move(options));
    std::thread burst([] {
        for (int i = 0; i < 1000; ++i) TRACE(line_in, 1, 0, i, 0);
        trace::thread_exiting();
    });
    burst.join();
    trace::stop();
    trace::Trace recorded;
    std::string error;
    REQUIRE(trace::read_trace_file(path, recorded, error));
    std::size_t kept = 0;
    for (const trace::Event& event : recorded.events) kept += event.kind == Kind::line_in;
    CHECK(kept >= 64);
    CHECK(recorded.dropped > 0);
    CHECK(kept + recorded.dropped == 1001);  // the thousand lines, and the thread_exit that found the ring full
    std::filesystem::remove(path);
}

// The recording thread reads the collector's progress only when its own copy says the ring is full: a ring that
// goes round many times must still lose nothing while the collector keeps up. The second thread starts after the
// first has exited and been drained, so it takes over the first one's ring, whose counters start again from zero.
TEST_CASE("a small ring goes round many times and loses nothing, and a new thread takes over an exited one's ring") {
    std::string path = temporary_path("rounds");
    trace::RecorderOptions options;
    options.sinks.push_back(trace::make_file_sink(path));
    options.ring_events = 64;
    options.drain_interval_ms = 1;
    trace::start(std::move(options));
    constexpr int kBursts = 12, kBurst = 32;  // half a ring at a time, 6 times round it
    for (int t = 0; t < 2; ++t) {
        std::thread([t] {
            for (int b = 0; b < kBursts; ++b) {
                for (int i = 0; i < kBurst; ++i) TRACE(line_in, 1, 0, b * kBurst + i, t);
                std::this_thread::sleep_for(std::chrono::milliseconds(25));  // the collector drains meanwhile
            }
            trace::thread_exiting();
        }).join();
        std::this_thread::sleep_for(std::chrono::milliseconds(25));  // the ring is drained and handed back
    }
    trace::stop();
    trace::Trace recorded;
    std::string error;
    REQUIRE(trace::read_trace_file(path, recorded, error));
    CHECK(recorded.dropped == 0);
    std::int64_t next[2] = {0, 0};
    for (const trace::Event& event : recorded.events) {
        if (event.kind != Kind::line_in) continue;
        REQUIRE(event.arg1 < 2);
        REQUIRE(event.arg0 == next[event.arg1]);  // each thread's events whole and in order
        ++next[event.arg1];
    }
    CHECK(next[0] == kBursts * kBurst);
    CHECK(next[1] == kBursts * kBurst);
    std::filesystem::remove(path);
}

TEST_CASE("timestamps are in nanoseconds and never go backwards within a thread") {
    std::string path = temporary_path("time");
    trace::RecorderOptions options;
    options.sinks.push_back(trace::make_file_sink(path));
    trace::start(std::move(options));
    TRACE(line_in, 1, 0, 0, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    TRACE(line_in, 1, 0, 1, 0);
    trace::stop();
    trace::Trace recorded;
    std::string error;
    REQUIRE(trace::read_trace_file(path, recorded, error));
    REQUIRE(recorded.events.size() == 2);
    std::uint64_t elapsed = recorded.events[1].time_ns - recorded.events[0].time_ns;
    CHECK(elapsed >= 15'000'000);
    CHECK(elapsed < 2'000'000'000);
    std::filesystem::remove(path);
}

TEST_CASE("a viewer connected over TCP receives every event and can drive the gate") {
    socklab::net::Startup startup;
    trace::RecorderOptions options;
    options.sinks.push_back(trace::make_live_sink("127.0.0.1", 0));
    trace::start(std::move(options));
    REQUIRE(trace::live_port() != 0);

    std::string error;
    socklab::net::Socket viewer = socklab::net::connect_tcp("127.0.0.1", trace::live_port(), error);
    REQUIRE(viewer.valid());
    trace::Trace received;
    trace::StreamDecoder decoder(trace::collect_into(received));
    auto pump = [&](int milliseconds) {
        socklab::net::set_nonblocking(viewer, true);
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(milliseconds);
        char buffer[65536];
        while (std::chrono::steady_clock::now() < until) {
            long got = socklab::net::receive_some(viewer, buffer, sizeof buffer);
            if (got > 0) REQUIRE(decoder.feed(buffer, static_cast<std::size_t>(got)));
            else std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    };
    // The viewer joins asynchronously: send markers until one arrives, then record for real.
    for (int i = 0; i < 200 && received.events.empty(); ++i) {
        TRACE(server_start, 0, 0, 1, 0);
        pump(10);
    }
    REQUIRE(!received.events.empty());
    received.events.clear();
    record_from_threads(4, 5000);
    pump(300);
    check_complete(received, 4, 5000);

    // The gate: a viewer turns it on; a worker that passes a gate point is held until "step".
    socklab::net::send_all(viewer, "gate on\n", 8);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));  // the sink's thread applies it
    std::atomic<bool> passed{false};
    std::thread worker([&] {
        trace::gate_point(9);
        passed = true;
    });
    for (int i = 0; i < 200 && trace::gate_held_count() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK(trace::gate_held_count() == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_FALSE(passed);
    socklab::net::send_all(viewer, "step\n", 5);
    worker.join();
    CHECK(passed);
    socklab::net::send_all(viewer, "gate off\n", 9);
    pump(100);
    trace::stop();
    trace::gate_reset();
    bool saw_hold = false, saw_release = false;
    for (const trace::Event& event : received.events) {
        saw_hold = saw_hold || (event.kind == Kind::gate_hold && event.connection == 9);
        saw_release = saw_release || (event.kind == Kind::gate_release && event.connection == 9);
    }
    CHECK(saw_hold);
    CHECK(saw_release);
}

TEST_CASE("step releases held threads one at a time, longest held first; run releases all") {
    trace::gate_reset();
    trace::gate_enable(true);
    std::atomic<int> order_counter{0};
    int order[3] = {-1, -1, -1};
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
        threads.emplace_back([&, i] {
            trace::gate_point(static_cast<std::uint32_t>(i));
            order[i] = order_counter++;
        });
        while (trace::gate_held_count() != static_cast<unsigned>(i + 1)) std::this_thread::yield();
    }
    trace::gate_step();
    while (order_counter.load() < 1) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    CHECK(order_counter.load() == 1);
    CHECK(order[0] == 0);  // the first held is the first released
    CHECK(trace::gate_held_count() == 2);
    trace::gate_run();
    for (auto& thread : threads) thread.join();
    CHECK(order_counter.load() == 3);
    trace::gate_reset();
}

TEST_CASE("control lines: known ones apply, unknown ones are refused") {
    CHECK(trace::apply_control("slow 10"));
    CHECK(trace::apply_control("slow 0"));
    CHECK(trace::apply_control("gate off"));
    CHECK_FALSE(trace::apply_control("slow fast"));
    CHECK_FALSE(trace::apply_control("reboot"));
    trace::gate_reset();
}

TEST_CASE("a file that is not a trace, or is cut short, is refused with a reason") {
    std::string path = temporary_path("bad");
    {
        std::FILE* file = std::fopen(path.c_str(), "wb");
        std::fputs("hello, this is not a trace at all", file);
        std::fclose(file);
    }
    trace::Trace recorded;
    std::string error;
    CHECK_FALSE(trace::read_trace_file(path, recorded, error));
    CHECK(error.find("not a socklab trace") != std::string::npos);

    trace::RecorderOptions options;
    options.sinks.push_back(trace::make_file_sink(path));
    trace::start(std::move(options));
    TRACE(line_in, 1, 0, 0, 0);
    trace::stop();
    std::filesystem::resize_file(path, std::filesystem::file_size(path) - 5);
    trace::Trace truncated;
    CHECK_FALSE(trace::read_trace_file(path, truncated, error));
    CHECK(error.find("ends inside a record") != std::string::npos);
    std::filesystem::remove(path);
}

TEST_CASE("a viewer joining late learns each thread's current state, and leaving releases the gate") {
    socklab::net::Startup startup;
    trace::RecorderOptions options;
    options.sinks.push_back(trace::make_live_sink("127.0.0.1", 0));
    trace::start(std::move(options));
    // A worker starts waiting long before anyone watches, and is still waiting when the viewer comes.
    std::atomic<bool> done_waiting{false};
    std::thread worker([&] {
        trace::name_thread("worker");
        TRACE(wait_begin, 0, trace::WaitOn::completion_port, 0, 0);
        while (!done_waiting) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        trace::thread_exiting();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // drained and sent to nobody

    std::string error;
    socklab::net::Socket viewer = socklab::net::connect_tcp("127.0.0.1", trace::live_port(), error);
    REQUIRE(viewer.valid());
    trace::Trace received;
    trace::StreamDecoder decoder(trace::collect_into(received));
    socklab::net::set_nonblocking(viewer, true);
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    char buffer[65536];
    while (std::chrono::steady_clock::now() < until) {  // a quiet server: nothing new is recorded meanwhile
        long got = socklab::net::receive_some(viewer, buffer, sizeof buffer);
        if (got > 0) REQUIRE(decoder.feed(buffer, static_cast<std::size_t>(got)));
        else std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    bool saw_wait = false;
    for (const trace::Event& event : received.events)
        saw_wait = saw_wait || (event.kind == Kind::wait_begin && received.threads[event.thread].role == "worker");
    CHECK(saw_wait);
    done_waiting = true;
    worker.join();

    socklab::net::send_all(viewer, "gate on\n", 8);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    viewer.close();  // the viewer goes away with the gate on
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    std::atomic<bool> passed{false};
    std::thread late([&] {
        trace::gate_point(1);
        passed = true;
    });
    late.join();  // not held: the gate went off with the last viewer
    CHECK(passed);
    trace::stop();
    trace::gate_reset();
}

TEST_CASE("slow motion records its pause as a block of its own reason, and the gate stays open") {
    std::string path = temporary_path("slow");
    trace::RecorderOptions options;
    options.sinks.push_back(trace::make_file_sink(path));
    trace::start(std::move(options));
    trace::gate_reset();
    trace::set_slow_motion(30);
    const auto before = std::chrono::steady_clock::now();
    trace::gate_point(7);
    const auto paused = std::chrono::steady_clock::now() - before;
    trace::gate_reset();
    trace::gate_point(7);  // slow motion off: no pause, nothing recorded
    trace::stop();
    trace::Trace recorded;
    std::string error;
    REQUIRE(trace::read_trace_file(path, recorded, error));
    CHECK(paused >= std::chrono::milliseconds(25));
    REQUIRE(recorded.events.size() == 2);
    CHECK(recorded.events[0].kind == Kind::block_begin);
    CHECK(recorded.events[0].detail == static_cast<std::uint8_t>(trace::BlockReason::slow_motion));
    CHECK(recorded.events[0].arg0 == 30);
    CHECK(recorded.events[0].connection == 7);
    CHECK(recorded.events[1].kind == Kind::block_end);
    CHECK(recorded.events[1].time_ns - recorded.events[0].time_ns >= 25'000'000);
    std::filesystem::remove(path);
}
