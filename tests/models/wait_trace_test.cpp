// Tests of what the overlapped-event, completion-routine and iocp-acceptex models record about their own waits
// and wakes — what the visualizer draws for them, and the rules their abstracts state. For any other model these
// tests pass at once (their own files hold their own checks).
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/net/socket.h"
#include "common/trace/reader.h"
#include "common/trace/recorder.h"
#include "models/model.h"
#include "tests/catch.hpp"
#include "tests/models/model_under_test.h"
#include "tests/models/running_model.h"

namespace net = socklab::net;
namespace trace = socklab::trace;
using trace::Kind;

namespace {

bool model_is(const char* id) { return std::string(model_under_test().id) == id; }

template <class Detail>
bool has_detail(const trace::Event& event, Detail detail) {
    return event.detail == static_cast<std::uint8_t>(detail);
}

std::string read_line(const net::Socket& socket) {
    std::string line;
    char byte = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        net::PollEntry entry{socket.native(), net::poll_in(), 0};
        if (net::poll(&entry, 1, 50) <= 0) continue;
        if (net::receive_some(socket, &byte, 1) <= 0) break;
        line += byte;
        if (byte == '\n') break;
    }
    return line;
}

// Runs the model with a recorder: two clients, an echo each, a broadcast, then a graceful stop with both still
// connected (so the trace holds completions of cancelled I/O too).
trace::Trace record_a_short_session() {
    TraceRecording recording;
    {
        RunningModel server;
        std::string error;
        net::Socket first = net::connect_tcp("127.0.0.1", server.port(), error);
        net::Socket second = net::connect_tcp("127.0.0.1", server.port(), error);
        INFO(error);
        REQUIRE(first.valid());
        REQUIRE(second.valid());
        for (const net::Socket* client : {&first, &second}) {
            REQUIRE(net::send_all(*client, "hello\n", 6));
            CHECK(read_line(*client) == "hello\n");
        }
        REQUIRE(net::send_all(first, "/all hi\n", 8));
        CHECK(read_line(first) == "OK all 1\n");
        CHECK(read_line(second).find(": hi\n") != std::string::npos);
        CHECK(server.stop() == 0);
    }
    trace::Trace recorded = recording.finish();
    REQUIRE(recorded.dropped == 0);
    return recorded;
}

}  // namespace

TEST_CASE("overlapped-event - a group thread waits on events and starts every I/O of its connections",
          "[waits-overlapped-event]") {
    REQUIRE(model_is("overlapped-event"));  // generated for that model only (CMakeLists.txt)
    trace::Trace recorded = record_a_short_session();
    bool waited_on_io_events = false;
    bool woke_by_completion = false;
    std::map<std::uint32_t, std::set<std::uint16_t>> threads_posting;  // connection -> threads that started its I/O
    for (const trace::Event& event : recorded.events) {
        // stop + wake + at least one receive event in the list
        if (event.kind == Kind::wait_begin && has_detail(event, trace::WaitOn::events) && event.arg0 >= 3)
            waited_on_io_events = true;
        if (event.kind == Kind::wait_end && has_detail(event, trace::Wake::completion) && event.connection != 0)
            woke_by_completion = true;
        if (event.kind == Kind::io_posted && event.connection != 0)
            threads_posting[event.connection].insert(event.thread);
    }
    CHECK(waited_on_io_events);
    CHECK(woke_by_completion);
    REQUIRE(threads_posting.size() == 2);
    for (auto& [connection, threads] : threads_posting) {
        INFO("connection " << connection);
        CHECK(threads.size() == 1);  // only the owning group's thread starts I/O on a connection
    }
}

TEST_CASE("completion-routine - every routine runs on the thread that started the I/O, in its alertable wait",
          "[waits-completion-routine]") {
    REQUIRE(model_is("completion-routine"));
    trace::Trace recorded = record_a_short_session();
    std::set<std::uint16_t> alertable_threads, routine_threads, posting_threads;
    bool woke_for_apcs = false;
    std::set<std::uint8_t> routine_kinds;  // IoOp of each apc_run: accept (the hand-over), receive, send
    for (const trace::Event& event : recorded.events) {
        if (event.kind == Kind::wait_begin && has_detail(event, trace::WaitOn::alertable))
            alertable_threads.insert(event.thread);
        if (event.kind == Kind::wait_end && has_detail(event, trace::Wake::apc)) woke_for_apcs = true;
        if (event.kind == Kind::apc_run) {
            routine_threads.insert(event.thread);
            routine_kinds.insert(event.detail);
        }
        if (event.kind == Kind::io_posted) posting_threads.insert(event.thread);
    }
    CHECK(woke_for_apcs);
    REQUIRE(alertable_threads.size() == 1);
    CHECK(routine_threads == alertable_threads);
    CHECK(posting_threads == alertable_threads);
    CHECK(routine_kinds.count(static_cast<std::uint8_t>(trace::IoOp::accept)) == 1);  // sockets handed over
    CHECK(routine_kinds.count(static_cast<std::uint8_t>(trace::IoOp::receive)) == 1);
    CHECK(routine_kinds.count(static_cast<std::uint8_t>(trace::IoOp::send)) == 1);
}

TEST_CASE("iocp-acceptex - accepts are posted before any client and come back as packets", "[waits-iocp-acceptex]") {
    REQUIRE(model_is("iocp-acceptex"));
    trace::Trace recorded = record_a_short_session();
    unsigned accepts_posted_before_first_client = 0;
    bool first_client_seen = false;
    unsigned accepts_completed = 0;
    bool waited_on_port = false;
    for (const trace::Event& event : recorded.events) {
        if (event.kind == Kind::connection_open) first_client_seen = true;
        if (event.kind == Kind::io_posted && has_detail(event, trace::IoOp::accept) && !first_client_seen)
            ++accepts_posted_before_first_client;
        if (event.kind == Kind::io_completed && has_detail(event, trace::IoOp::accept) && event.arg1 == 0)
            ++accepts_completed;
        if (event.kind == Kind::wait_begin && has_detail(event, trace::WaitOn::completion_port)) waited_on_port = true;
    }
    CHECK(accepts_posted_before_first_client >= socklab::models::ServerOptions{}.accepts);
    CHECK(accepts_completed == 2);
    CHECK(waited_on_port);
}
