// Tests of the AcceptEx model only (models/07_iocp_acceptex.cpp): the silent-client risk of pre-posted accepts.
//
// 50 clients connect and send nothing. By default AcceptEx completes as soon as a client connects, so silent
// clients are ordinary idle connections and a normal client is served at once. With --accept-data each AcceptEx
// waits for its client's first bytes, so silent clients hold the posted accepts; the server must find them
// (SO_CONNECT_TIME) and close them, and a normal client is then served within a stated bound.
//
// These tests are part of model-tests and run for every model; for any model but iocp-acceptex they pass at once.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/net/socket.h"
#include "models/model.h"
#include "tests/catch.hpp"
#include "tests/models/model_test_client.h"
#include "tests/models/model_under_test.h"
#include "tests/models/running_model.h"

namespace net = socklab::net;
using Clock = std::chrono::steady_clock;
using model_tests::closed_by_server;

namespace {

bool testing_acceptex() { return std::string(model_under_test().id) == "iocp-acceptex"; }

std::vector<net::Socket> connect_silent_clients(const RunningModel& server, int count) {
    std::vector<net::Socket> clients;
    for (int i = 0; i < count; ++i) {
        std::string error;
        clients.push_back(net::connect_tcp("127.0.0.1", server.port(), error));
        INFO(error);
        REQUIRE(clients.back().valid());
    }
    return clients;
}

// Connects, sends one line and reads its echo. Returns the milliseconds from connect to echo, or -1 if the
// echo did not arrive within timeout_ms.
long milliseconds_to_echo(const RunningModel& server, int timeout_ms) {
    auto start = Clock::now();
    std::string error;
    net::Socket client = net::connect_tcp("127.0.0.1", server.port(), error);
    INFO(error);
    REQUIRE(client.valid());
    const std::string line = "is anybody there\n";
    REQUIRE(net::send_all(client, line.data(), line.size()));
    std::string received;
    auto deadline = start + std::chrono::milliseconds(timeout_ms);
    char buffer[256];
    while (received.size() < line.size() && Clock::now() < deadline) {
        net::PollEntry entry{client.native(), net::poll_in(), 0};
        if (net::poll(&entry, 1, 20) <= 0) continue;
        long got = net::receive_some(client, buffer, sizeof buffer);
        if (got <= 0) break;
        received.append(buffer, static_cast<std::size_t>(got));
    }
    if (received != line) return -1;
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

}  // namespace

TEST_CASE("AcceptEx by default - 50 silent clients do not delay a normal client", "[acceptex]") {
    REQUIRE(testing_acceptex());  // generated for iocp-acceptex only (CMakeLists.txt): it alone posts accepts ahead
    socklab::win::ServerOptions options;  // accepts = 8, AcceptEx completes on connection
    RunningModel server(options);
    std::vector<net::Socket> silent = connect_silent_clients(server, 50);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    long waited = milliseconds_to_echo(server, 5000);
    INFO("the normal client waited " << waited << " ms for its echo (bound: 1000 ms)");
    CHECK(waited >= 0);
    CHECK(waited < 1000);
    // Silent is not idle-closed by default: these are ordinary connections the server keeps.
    CHECK_FALSE(closed_by_server(silent.front(), 200));
}

TEST_CASE("AcceptEx with accept-data - silent clients are closed and a normal client is served in time", "[acceptex]") {
    REQUIRE(testing_acceptex());
    socklab::win::ServerOptions options;
    options.accept_data = true;
    options.idle_seconds = 1;
    RunningModel server(options);
    std::vector<net::Socket> silent = connect_silent_clients(server, 50);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    // The bound: the idle period, plus the half-second check, plus SO_CONNECT_TIME's whole-second rounding
    // and a margin for a loaded machine: idle + 2 s.
    const long bound_ms = options.idle_seconds * 1000 + 2000;
    long waited = milliseconds_to_echo(server, 10000);
    INFO("the normal client waited " << waited << " ms for its echo (bound: " << bound_ms << " ms)");
    CHECK(waited >= 0);
    CHECK(waited < bound_ms);
    // Every silent client is closed by the server, none left holding an accept.
    int closed = 0;
    for (const net::Socket& client : silent) closed += closed_by_server(client, 6000) ? 1 : 0;
    CHECK(closed == 50);
}
