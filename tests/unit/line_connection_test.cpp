// The connection both load clients are made of (common/load/line_connection.h): lines cut where their "\n" is,
// however the bytes arrive; send times taken oldest first; queued bytes kept until the kernel takes them; the
// peer's close seen as 0. Each test talks to a loopback peer of its own, driven by hand.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/load/line_connection.h"
#include "common/net/socket.h"
#include "tests/catch.hpp"

namespace net = socklab::net;
using socklab::load::LineConnection;
using Clock = LineConnection::Clock;

namespace {

// A nonblocking LineConnection to a loopback listener, and the blocking socket the listener accepted for it.
struct Pair {
    net::Startup startup;
    net::Socket listener;
    LineConnection client;
    net::Socket peer;

    Pair() {
        std::string error;
        listener = net::listen_tcp("127.0.0.1", 0, error);
        REQUIRE(listener.valid());
        net::Socket socket = net::connect_tcp("127.0.0.1", net::local_port(listener), error, 5000);
        REQUIRE(socket.valid());
        net::set_nonblocking(socket, true);
        client = LineConnection(std::move(socket));
        peer = net::accept_client(listener);
        REQUIRE(peer.valid());
    }

    void peer_sends(const std::string& bytes) { REQUIRE(net::send_all(peer, bytes.data(), bytes.size())); }

    // Receives until `count` bytes have arrived (or 5 s have passed); returns the complete lines taken so far.
    std::vector<std::string> lines_after(std::size_t count) {
        std::vector<std::string> lines;
        std::size_t got = 0;
        const auto deadline = Clock::now() + std::chrono::seconds(5);
        while (got < count && Clock::now() < deadline) {
            const long received = client.receive();
            if (received > 0) got += static_cast<std::size_t>(received);
            else std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        client.take_lines([&](std::string_view line) { lines.emplace_back(line); });
        return lines;
    }

    std::string peer_reads(std::size_t count) {
        std::string bytes;
        char buffer[65536];
        while (bytes.size() < count) {
            const long received = net::receive_some(peer, buffer, sizeof buffer);
            if (received <= 0) break;
            bytes.append(buffer, static_cast<std::size_t>(received));
        }
        return bytes;
    }
};

}  // namespace

TEST_CASE("line connection: a line split across two arrivals is taken whole, with its newline, once") {
    Pair pair;
    pair.peer_sends("hello\nwor");
    CHECK(pair.lines_after(9) == std::vector<std::string>{"hello\n"});
    pair.peer_sends("ld\n");
    CHECK(pair.lines_after(3) == std::vector<std::string>{"world\n"});
    CHECK(pair.lines_after(0).empty());
}

TEST_CASE("line connection: replies answer the oldest request in flight first") {
    Pair pair;
    const Clock::time_point first = Clock::now(), second = first + std::chrono::milliseconds(7);
    pair.client.queue_request("a\n", first);
    pair.client.queue_request("b\n", second);
    pair.client.queue_bytes("joins\n");  // no reply is timed against it
    CHECK(pair.client.in_flight() == 2);
    CHECK(pair.client.send_queued() == 10);
    CHECK_FALSE(pair.client.has_unsent());
    CHECK(pair.peer_reads(10) == "a\nb\njoins\n");
    CHECK(pair.client.take_oldest_send_time() == first);
    CHECK(pair.client.take_oldest_send_time() == second);
    CHECK(pair.client.in_flight() == 0);
}

TEST_CASE("line connection: what the kernel does not take stays queued, in order, until it does") {
    Pair pair;
    // Far more than loopback buffers hold while the peer reads nothing: the first send stops short.
    std::string bytes;
    for (int i = 0; bytes.size() < 32u << 20; ++i) bytes += "line " + std::to_string(i) + "\n";
    pair.client.queue_bytes(bytes);
    const long first = pair.client.send_queued();
    REQUIRE(first > 0);
    CHECK(static_cast<std::size_t>(first) < bytes.size());
    CHECK(pair.client.has_unsent());
    CHECK(pair.client.send_queued() == 0);  // nothing read yet: the kernel takes nothing more
    std::string arrived;
    std::thread reader([&] { arrived = pair.peer_reads(bytes.size()); });
    std::size_t sent = static_cast<std::size_t>(first);
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (pair.client.has_unsent() && Clock::now() < deadline) {
        const long more = pair.client.send_queued();
        REQUIRE(more >= 0);
        sent += static_cast<std::size_t>(more);
        if (more == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    reader.join();
    CHECK(sent == bytes.size());
    CHECK(arrived == bytes);
}

TEST_CASE("line connection: the peer's close reads as 0, and closing forgets the requests in flight") {
    Pair pair;
    pair.client.queue_request("x\n", Clock::now());
    pair.peer.close();
    long received = net::kWouldBlock;
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (received == net::kWouldBlock && Clock::now() < deadline) {
        received = pair.client.receive();
        if (received == net::kWouldBlock) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK(received == 0);
    pair.client.close();
    CHECK_FALSE(pair.client.valid());
    CHECK(pair.client.in_flight() == 0);
}
