// Broadcast replies must not wait for a delayed ACK.
//
// Under /all a client often receives two small sends in a row: another client's broadcast, then the reply to its
// own line. With Nagle's algorithm on the server's socket, the second send waits until the first is acknowledged,
// and the client's TCP delays that ACK (40 ms on Linux, up to 200 ms on Windows) because it has nothing to send
// meanwhile. Every model sets TCP_NODELAY on the sockets it accepts; this test catches the model that does not:
// its rounds take 40 ms and more instead of a few milliseconds.
#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/net/socket.h"
#include "tests/catch.hpp"
#include "tests/models/model_test_client.h"
#include "tests/models/running_model.h"

using namespace model_tests;

namespace {

// A client that keeps what it has read past the last whole line, so that reading a line is one recv, not one a byte.
struct LineClient {
    net::Socket socket;
    std::string pending;
    std::vector<std::string> lines;

    explicit LineClient(net::Socket connected) : socket(std::move(connected)) {}

    // Reads what has arrived (if anything within the poll) and moves whole lines into `lines`.
    void read_available(int poll_ms) {
        net::PollEntry entry{socket.native(), net::poll_in(), 0};
        if (net::poll(&entry, 1, poll_ms) <= 0) return;
        char buffer[4096];
        long got = net::receive_some(socket, buffer, sizeof buffer);
        if (got <= 0) return;
        pending.append(buffer, static_cast<std::size_t>(got));
        for (std::size_t end; (end = pending.find('\n')) != std::string::npos;) {
            lines.push_back(pending.substr(0, end + 1));
            pending.erase(0, end + 1);
        }
    }
};

// Both clients send one /all at once; each then expects two lines, in either order: its own "OK all 1" and the
// other's broadcast. Returns the round's duration, or a negative one if the lines did not all arrive in 5 s.
double broadcast_round_ms(LineClient& first, LineClient& second, int round) {
    const std::string first_text = "first " + std::to_string(round);
    const std::string second_text = "second " + std::to_string(round);
    first.lines.clear();
    second.lines.clear();
    auto start = Clock::now();
    send_text(first.socket, "/all " + first_text + "\n");
    send_text(second.socket, "/all " + second_text + "\n");
    auto deadline = start + std::chrono::seconds(5);
    while ((first.lines.size() < 2 || second.lines.size() < 2) && Clock::now() < deadline) {
        if (first.lines.size() < 2) first.read_available(1);
        if (second.lines.size() < 2) second.read_available(1);
    }
    double elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (first.lines.size() < 2 || second.lines.size() < 2) return -1;

    auto check_round = [](const std::vector<std::string>& lines, const std::string& other_text) {
        bool got_reply = std::count(lines.begin(), lines.end(), "OK all 1\n") == 1;
        bool got_broadcast = std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
            return line.size() > other_text.size() + 2 &&
                   line.compare(line.find(": "), std::string::npos, ": " + other_text + "\n") == 0;
        });
        INFO("lines: " << lines[0] << lines[1]);
        CHECK(got_reply);
        CHECK(got_broadcast);
    };
    check_round(first.lines, second_text);
    check_round(second.lines, first_text);
    return elapsed_ms;
}

}  // namespace

TEST_CASE("/all replies are not held back by Nagle's algorithm and a delayed ACK") {
    RunningModel server;
    LineClient first{connect_to(server)};
    LineClient second{connect_to(server)};
    check_echo(first.socket, "ready first");  // both connected and served before the first broadcast
    check_echo(second.socket, "ready second");

    // A fresh connection acknowledges its first segments at once (Linux's quick-ACK start); warm up past that.
    for (int round = 0; round < 20; ++round) REQUIRE(broadcast_round_ms(first, second, round) >= 0);
    std::vector<double> rounds;
    for (int round = 20; round < 40; ++round) {
        double ms = broadcast_round_ms(first, second, round);
        REQUIRE(ms >= 0);
        rounds.push_back(ms);
    }
    std::sort(rounds.begin(), rounds.end());
    double median_ms = rounds[rounds.size() / 2];
    INFO("round trips of two crossing broadcasts, ms: fastest " << rounds.front() << ", median " << median_ms
                                                                << ", slowest " << rounds.back());
    // With the stall every round takes at least one delayed ACK (40 ms on Linux); without it a few ms under Wine.
    CHECK(median_ms < 20.0);
}
