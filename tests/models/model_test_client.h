// Helpers shared by the model tests: a client's view of a model running in-process (running_model.h).
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "common/net/socket.h"
#include "models/model.h"
#include "tests/catch.hpp"
#include "tests/models/model_under_test.h"
#include "tests/models/running_model.h"

namespace model_tests {

namespace net = socklab::net;
using Clock = std::chrono::steady_clock;

inline net::Socket connect_to(const RunningModel& server) {
    std::string error;
    net::Socket socket = net::connect_tcp("127.0.0.1", server.port(), error);
    INFO(error);
    REQUIRE(socket.valid());
    return socket;
}

inline void send_text(const net::Socket& socket, std::string_view text) {
    REQUIRE(net::send_all(socket, text.data(), text.size()));
}

// Reads until `count` bytes arrived, the peer closed, or the timeout passed. Returns what arrived.
inline std::string receive_bytes(const net::Socket& socket, std::size_t count, int timeout_ms = 10000) {
    std::string received;
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    char buffer[65536];
    while (received.size() < count && Clock::now() < deadline) {
        net::PollEntry entry{socket.native(), net::poll_in(), 0};
        if (net::poll(&entry, 1, 50) <= 0) continue;
        long got = net::receive_some(socket, buffer, std::min(sizeof buffer, count - received.size()));
        if (got <= 0) break;
        received.append(buffer, static_cast<std::size_t>(got));
    }
    return received;
}

inline std::string receive_line(const net::Socket& socket, int timeout_ms = 10000) {
    std::string line;
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
        std::string byte = receive_bytes(
            socket, 1,
            static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()) +
                1);
        if (byte.empty()) break;
        line += byte;
        if (byte == "\n") break;
    }
    return line;
}

// Sends a line and checks the exact echo: proof that the server still serves this client.
inline void check_echo(const net::Socket& socket, const std::string& text) {
    send_text(socket, text + "\n");
    CHECK(receive_line(socket) == text + "\n");
}

// True when the server closed the connection (end of stream or reset) within the timeout.
inline bool closed_by_server(const net::Socket& socket, int timeout_ms = 10000) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    char buffer[4096];
    while (Clock::now() < deadline) {
        net::PollEntry entry{socket.native(), net::poll_in(), 0};
        if (net::poll(&entry, 1, 20) <= 0) continue;
        if (net::receive_some(socket, buffer, sizeof buffer) <= 0) return true;
    }
    return false;
}

}  // namespace model_tests
