// How a model takes new clients when things go wrong on the way in, and how a worker pool stops.
//
// [accept] runs for every model: clients that reset before the server accepted them must not delay the
// clients behind them. [pool] runs for the models with a worker pool (iocp, iocp-acceptex): more workers than
// one WaitForMultipleObjects can wait for. [accept-pool] runs for iocp-acceptex: posts of AcceptEx that fail.
// tests/models/CMakeLists.txt gives each model only the tags that apply to it.
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/trace/reader.h"
#include "common/trace/recorder.h"
#include "tests/models/model_test_client.h"

using namespace model_tests;
namespace trace = socklab::trace;
namespace models = socklab::models;

namespace {

// Connects `count` clients, then resets them all at once (SO_LINGER 0: an RST, not a FIN).
void connect_and_reset(const RunningModel& server, int count) {
    std::vector<net::Socket> clients;
    for (int i = 0; i < count; ++i) {
        std::string error;
        net::Socket client = net::connect_tcp("127.0.0.1", server.port(), error, 5000);
        if (client.valid()) clients.push_back(std::move(client));
    }
    for (auto& client : clients) net::close_with_reset(client);
}

// Connects `count` clients, each sends a numbered line, and the time until every echo arrived is returned
// (or -1 if one did not arrive within the timeout).
double seconds_to_serve(const RunningModel& server, int count, int timeout_ms) {
    auto started = Clock::now();
    std::vector<net::Socket> clients;
    for (int i = 0; i < count; ++i) {
        clients.push_back(connect_to(server));
        std::string line = "fresh client " + std::to_string(i) + "\n";
        send_text(clients.back(), line);
    }
    for (int i = 0; i < count; ++i) {
        std::string expected = "fresh client " + std::to_string(i) + "\n";
        auto left = timeout_ms - std::chrono::duration<double, std::milli>(Clock::now() - started).count();
        if (left <= 0 || receive_line(clients[i], static_cast<int>(left)) != expected) return -1;
    }
    return std::chrono::duration<double>(Clock::now() - started).count();
}

}  // namespace

TEST_CASE("clients that reset before they are accepted do not delay the clients behind them", "[accept]") {
    TraceRecording recording;
    double seconds = -1;
    {
        RunningModel server;
        // The step gate holds every thread that passes a gate point — the thread that accepts, too, in every model
        // but iocp (whose acceptor has none; a viewer steps its workers) — so the 900 clients below connect into
        // the listen backlog and reset there, where accept() finds them gone (WSAENOTCONN under Wine 8.0).
        trace::gate_enable(true);
        for (int round = 0; round < 3; ++round) connect_and_reset(server, 300);
        trace::gate_enable(false);
        seconds = seconds_to_serve(server, 50, 15000);
        CHECK(server.stop() == 0);
    }
    // A server that paused 10 ms for each client that left needed over 9 s for 900 of them.
    INFO("50 fresh clients after 900 resets: " << seconds << " s to serve all (-1: not all served in 15 s)");
    CHECK(seconds >= 0);
    CHECK(seconds < 8.0);

    trace::Trace recorded = recording.finish();
    auto client_left = [](std::int64_t code) {
#ifdef _WIN32
        return code == WSAECONNRESET || code == WSAENOTCONN || code == WSAECONNABORTED;
#else
        return code == ECONNRESET || code == ENOTCONN || code == ECONNABORTED;
#endif
    };
    int reported = 0;
    int accepts_that_found_the_client_gone = 0;
    for (const auto& event : recorded.events) {
        if (event.kind == trace::Kind::error && recorded.sites[event.site].label == "report_error")
            reported += client_left(event.arg0);
        if (event.kind == trace::Kind::wait_end && event.detail == static_cast<std::uint8_t>(trace::Wake::error))
            accepts_that_found_the_client_gone += client_left(event.arg1);
    }
    // A client that left is not an error: nothing is reported for it.
    CHECK(reported == 0);
    // The models whose acceptor blocks in accept() and is held by the gate record each accept() that found its
    // client gone: that proves this run reached the case it tests.
    const std::string model = model_under_test().id;
    if (model == "blocking" || model == "event-select" || model == "overlapped-event" || model == "completion-routine")
        CHECK(accepts_that_found_the_client_gone > 0);
}

TEST_CASE("a pool of more than 64 workers stops cleanly, every worker joined", "[pool]") {
    // One WaitForMultipleObjects takes at most 64 handles; with 100 workers a single call fails at once, and a
    // server that did not check would return from run() with workers still running and close the port under
    // them. The trace tells: every worker records its exit (thread_exit) as its last act, so all 100 exits must
    // come before the moment run() has returned.
    TraceRecording recording;
    std::uint64_t returned_ns = 0;
    {
        models::ServerOptions options;
        options.workers = 100;
        RunningModel server(options);
        net::Socket client = connect_to(server);
        send_text(client, "hello from a big pool\n");
        CHECK(receive_line(client) == "hello from a big pool\n");
        CHECK(server.stop() == 0);
        returned_ns = trace::now_ns();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a late exit, if any, is recorded too
    CHECK(socklab::server::accounting().threads.load() == 0);
    CHECK(socklab::server::accounting().sockets.load() == 0);
    CHECK(socklab::server::accounting().io_objects.load() == 0);

    trace::Trace recorded = recording.finish();
    int workers = 0;
    for (const auto& [index, thread] : recorded.threads) workers += thread.role == "worker";
    int exited_before_return = 0;
    int exited_after_return = 0;
    for (const auto& event : recorded.events) {
        if (event.kind != trace::Kind::thread_exit || recorded.threads[event.thread].role != "worker") continue;
        if (event.time_ns <= returned_ns) ++exited_before_return;
        else ++exited_after_return;
    }
    CHECK(workers == 100);
    CHECK(exited_before_return == 100);
    CHECK(exited_after_return == 0);
}

#ifdef _WIN32  // AcceptEx, and the failures armed in common/win, are Windows only
TEST_CASE("when posting AcceptEx fails, the server says so, retries without spinning, and accepts again",
          "[accept-pool]") {
    TraceRecording recording;
    double seconds_after_recovery = -1;
    {
        socklab::win::ServerOptions options;
        options.accepts = 2;
        RunningModel server(options);
        // From now on no accept socket can be created, as in a process out of sockets. The two clients below use
        // up the two posted accepts; each replacement fails, and the pool is empty.
        socklab::win::arm_failures(socklab::win::InjectedFailure::accept_socket, 1000);
        for (int i = 0; i < 2; ++i) {
            net::Socket client = connect_to(server);
            send_text(client, "using up an accept\n");
            CHECK(receive_line(client) == "using up an accept\n");
        }
        // A third client connects into the listen backlog and waits there while posts keep failing.
        net::Socket waiting = connect_to(server);
        send_text(waiting, "still there?\n");
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        // The machine recovers: the next retry (every half second) posts, and the waiting client is served.
        socklab::win::arm_failures(socklab::win::InjectedFailure::accept_socket, 0);
        auto recovered = Clock::now();
        if (receive_line(waiting, 5000) == "still there?\n")
            seconds_after_recovery = std::chrono::duration<double>(Clock::now() - recovered).count();
        CHECK(server.stop() == 0);
    }
    INFO("the waiting client was served " << seconds_after_recovery << " s after posts could succeed again");
    CHECK(seconds_after_recovery >= 0);
    CHECK(seconds_after_recovery < 2.0);

    trace::Trace recorded = recording.finish();
    // The server said so: each failed post is an error event with its error (stderr says the same), and the pool
    // running dry is one more. And it retried at its pace, not in a loop: in about 1.5 s of failures, the two
    // workers' replacements and a retry every half second — a handful of attempts, not hundreds.
    int failed_posts = 0;
    int pool_empty = 0;
    for (const auto& event : recorded.events) {
        if (event.kind != trace::Kind::error) continue;
        const std::string& label = recorded.sites[event.site].label;
        failed_posts += label == "report_error" && event.arg0 == WSAEMFILE;
        pool_empty += label == "no AcceptEx posted";
    }
    CHECK(failed_posts >= 3);
    CHECK(failed_posts <= 10);
    CHECK(pool_empty == 1);
}
#endif
