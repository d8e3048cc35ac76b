// The model conformance suite: what every model must do, checked the way a client would see it.
//
// Runs the Windows models under Wine on Linux (CTest's cross-compiling emulator) and natively on Windows, and the
// Linux models natively. The model under test is
// named on the command line (`model-tests --model iocp`); tests/models/CMakeLists.txt gives each model its CTest
// entries with one line. Clients are real TCP clients on loopback, in the same process as the server.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "common/load/load.h"
#include "common/net/socket.h"
#include "common/trace/reader.h"
#include "common/trace/recorder.h"
#include "models/model.h"
#include "tests/catch.hpp"
#include "tests/models/model_test_client.h"
#include "tests/models/model_under_test.h"
#include "tests/models/running_model.h"

namespace net = socklab::net;
namespace trace = socklab::trace;
using Clock = std::chrono::steady_clock;
using namespace model_tests;

namespace {

// ---- helpers ------------------------------------------------------------------------------------------------

template <class Condition>
bool eventually(Condition condition, int timeout_ms = 10000) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return condition();
}

}  // namespace

// ---- load: many clients, every byte verified ----------------------------------------------------------------

TEST_CASE("200 clients x 200 lines: every echoed byte is right") {
    RunningModel server;
    socklab::load::Options options;
    options.port = server.port();
    options.clients = 200;
    options.lines_per_client = 200;
    options.line_size = 64;
    options.in_flight = 2;
    options.duration_seconds = 60;
    socklab::load::Result result = socklab::load::run(options);
    INFO(socklab::load::describe(options, result));
    CHECK(result.clients_connected == 200);
    CHECK(result.lines_echoed == 200u * 200u);
    CHECK(result.mismatches == 0);
    CHECK(result.errors == 0);
}

TEST_CASE("1,000 concurrent clients all echo correctly", "[capacity]") {
    std::string why_not;
    const bool enough = enough_open_files(2 * 1000 + 100, why_not);  // each client's socket and the server's, spare
    INFO(why_not);
    REQUIRE(enough);
    RunningModel server;
    socklab::load::Options options;
    options.port = server.port();
    options.clients = 1000;
    options.lines_per_client = 5;
    options.line_size = 32;
    options.duration_seconds = 90;
    socklab::load::Result result = socklab::load::run(options);
    INFO(socklab::load::describe(options, result));
    CHECK(result.clients_connected == 1000);
    CHECK(result.lines_echoed == 5000);
    CHECK(result.ok());
}

// ---- the byte stream ----------------------------------------------------------------------------------------

TEST_CASE("a request written one byte at a time gets the same replies") {
    RunningModel server;
    net::Socket client = connect_to(server);
    const std::string request = "hello, world\r\n/work 0 0\n\xC3\xA9t\xC3\xA9\n";
    for (char byte : request) {
        send_text(client, std::string(1, byte));
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const std::string expected = "hello, world\nOK work 0 0\n\xC3\xA9t\xC3\xA9\n";
    CHECK(receive_bytes(client, expected.size()) == expected);
}

TEST_CASE("a hundred lines in one write are answered in order") {
    RunningModel server;
    net::Socket client = connect_to(server);
    std::string request, expected;
    for (int i = 0; i < 100; ++i) {
        request += "line number " + std::to_string(i) + "\n";
        expected += "line number " + std::to_string(i) + "\n";
    }
    send_text(client, request);
    CHECK(receive_bytes(client, expected.size()) == expected);
}

// ---- broadcast ----------------------------------------------------------------------------------------------

TEST_CASE("/all reaches every other client exactly once") {
    RunningModel server;
    std::vector<net::Socket> clients;
    for (int i = 0; i < 6; ++i) {
        clients.push_back(connect_to(server));
        check_echo(clients.back(), "ready " + std::to_string(i));  // connected and served before the broadcast
    }
    send_text(clients[0], "/all hello class\n");
    CHECK(receive_line(clients[0]) == "OK all 5\n");
    std::set<std::string> senders;
    for (std::size_t i = 1; i < clients.size(); ++i) {
        std::string line = receive_line(clients[i]);
        auto colon = line.find(": ");
        REQUIRE(colon != std::string::npos);
        CHECK(line.substr(colon) == ": hello class\n");
        senders.insert(line.substr(0, colon));
        // Exactly once: the next thing this client receives is the echo of its own next line.
        check_echo(clients[i], "after " + std::to_string(i));
    }
    CHECK(senders.size() == 1);  // every recipient names the same sender
}

// ---- slow handlers ------------------------------------------------------------------------------------------

TEST_CASE("/work with a block stalls only what the model says it stalls") {
    socklab::models::ServerOptions options;
    options.workers = 4;
    RunningModel server(options);
    net::Socket slow = connect_to(server);
    net::Socket other = connect_to(server);
    check_echo(other, "warm up");
    send_text(slow, "/work 0 1500\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the slow request is being handled
    auto start = Clock::now();
    check_echo(other, "are you there?");
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    INFO("the other client waited " << waited << " ms");
    if (model_under_test_stalls_everyone_on_work()) {
        CHECK(waited >= 1000);  // one thread serves everyone: it was asleep
    } else {
        CHECK(waited < 1000);
    }
    CHECK(receive_line(slow) == "OK work 0 1500\n");
}

// ---- errors and ends ----------------------------------------------------------------------------------------

TEST_CASE("an over-long line gets ERR line-too-long and a close, while other clients carry on") {
    socklab::models::ServerOptions options;
    options.max_line = 1000;
    RunningModel server(options);
    net::Socket bystander = connect_to(server);
    net::Socket offender = connect_to(server);
    check_echo(bystander, "before");
    send_text(offender, std::string(5000, 'x') + "\n");
    CHECK(receive_line(offender) == "ERR line-too-long\n");
    CHECK(closed_by_server(offender));
    check_echo(bystander, "after");
}

TEST_CASE("a client that resets in the middle of a line harms nobody") {
    RunningModel server;
    net::Socket bystander = connect_to(server);
    check_echo(bystander, "before");
    for (int i = 0; i < 20; ++i) {
        net::Socket rude = connect_to(server);
        send_text(rude, "this line never ends");
        if (i % 2) send_text(rude, "\n/work 0 20\npartial");
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        net::close_with_reset(rude);
    }
    check_echo(bystander, "after");
    // Every reset connection is cleaned up: only the bystander is left.
    CHECK(eventually([&] {
        send_text(bystander, "/stats\n");
        return receive_line(bystander).find(" connections=1 ") != std::string::npos;
    }));
}

TEST_CASE("a client that half-closes still gets every reply") {
    RunningModel server;
    net::Socket client = connect_to(server);
    send_text(client, "first\nsecond\n/work 0 100\nlast line without end");
    net::shutdown_send(client);
    const std::string expected = "first\nsecond\nOK work 0 100\nlast line without end\n";
    CHECK(receive_bytes(client, expected.size() + 1) == expected);  // + 1: and then the end of the stream
}

TEST_CASE("/quit says BYE and closes; unknown commands get an error") {
    RunningModel server;
    net::Socket client = connect_to(server);
    send_text(client, "/frobnicate\n/quit\n");
    CHECK(receive_line(client) == "ERR unknown-command\n");
    CHECK(receive_line(client) == "BYE\n");
    CHECK(closed_by_server(client));
}

TEST_CASE("shutdown with clients connected leaves zero sockets, per-I/O objects and threads") {
    auto& accounting = socklab::server::accounting();
    {
        RunningModel server;
        std::vector<net::Socket> clients;
        for (int i = 0; i < 30; ++i) {
            clients.push_back(connect_to(server));
            if (i % 3 == 0) check_echo(clients.back(), "hi");
            if (i % 3 == 1) send_text(clients.back(), "a line in progress");
            if (i % 5 == 0) send_text(clients.back(), "/work 0 300\n");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        CHECK(accounting.sockets.load() >= 30);
        CHECK(server.stop() == 0);
        // The clients are still connected when the server has finished stopping.
    }
    CHECK(accounting.sockets.load() == 0);
    CHECK(accounting.io_objects.load() == 0);
    CHECK(accounting.connections.load() == 0);
    CHECK(accounting.threads.load() == 0);
}

// ---- the trace ----------------------------------------------------------------------------------------------

TEST_CASE("the trace of one request shows the wait, the wake, the line and the reply going out") {
    TraceRecording recording;
    std::uint32_t connection_id = 0;
    {
        RunningModel server;
        net::Socket client = connect_to(server);
        check_echo(client, "trace me");
        send_text(client, "/stats\n");
        receive_line(client);
        connection_id = 1;  // the first connection of a server run
        server.stop();
    }

    trace::Trace recorded = recording.finish();
    CHECK(recorded.info["model"] == model_under_test().id);
    CHECK(!recorded.info["runtime"].empty());

    // Find, in order, for this connection: a wake (wait_end or packet_dequeued), the line in, the line out, and
    // the reply starting to leave (an overlapped send posted, or a blocking/non-blocking send begun).
    // A wait over many sockets at once (select) ends with one wait_end that names no connection (arg0 = how many
    // are ready); there, the wake of this connection is the first I/O the thread does on it right after.
    using trace::Kind;
    enum Step { wake, line_in, line_out, send_started, done };
    Step step = wake;
    std::uint16_t woken_thread = 0;
    std::map<std::uint16_t, bool> waiting;         // thread → inside a wait
    std::map<std::uint16_t, bool> woken_for_many;  // thread → its wait over many sockets has just returned
    bool wait_before_wake = false;
    for (const trace::Event& event : recorded.events) {
        if (event.kind == Kind::wait_begin) {
            waiting[event.thread] = true;
            woken_for_many[event.thread] = false;
        }
        bool mine = event.connection == connection_id;
        switch (step) {
            case wake:
                if (mine && (event.kind == Kind::wait_end || event.kind == Kind::packet_dequeued ||
                             event.kind == Kind::message_dispatched || event.kind == Kind::apc_run)) {
                    wait_before_wake = waiting[event.thread] || event.kind != Kind::wait_end;
                    woken_thread = event.thread;
                    step = line_in;
                } else if (mine && event.kind == Kind::io_completed && woken_for_many[event.thread]) {
                    wait_before_wake = true;
                    woken_thread = event.thread;
                    step = line_in;
                }
                break;
            case line_in:
                if (mine && event.kind == Kind::line_in) step = line_out;
                break;
            case line_out:
                if (mine && event.kind == Kind::line_out) step = send_started;
                break;
            case send_started:
                if (mine &&
                    ((event.kind == Kind::io_posted && event.detail == static_cast<std::uint8_t>(trace::IoOp::send)) ||
                     (event.kind == Kind::wait_begin &&
                      event.detail == static_cast<std::uint8_t>(trace::WaitOn::send)) ||
                     (event.kind == Kind::io_completed &&
                      event.detail == static_cast<std::uint8_t>(trace::IoOp::send))))
                    step = done;
                break;
            case done:
                break;
        }
        if (event.kind == Kind::wait_end) {
            woken_for_many[event.thread] = waiting[event.thread] && event.connection == 0 &&
                                           event.detail == static_cast<std::uint8_t>(trace::Wake::ready) &&
                                           event.arg0 > 0;
            waiting[event.thread] = false;
        }
    }
    CHECK(step == done);
    CHECK(wait_before_wake);
    CHECK(recorded.threads.count(woken_thread) == 1);
    CHECK(recorded.dropped == 0);
}
