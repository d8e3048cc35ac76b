// The load generator: it must catch a wrong byte, a lost line and a dead server — or its "all correct" means
// nothing. Each test runs a tiny server of its own on loopback: honest, corrupting, or one that goes silent.
#include <atomic>
#include <thread>

#include "common/load/load.h"
#include "common/net/socket.h"
#include "tests/catch.hpp"

namespace net = socklab::net;

namespace {

enum class Behaviour { echo, corrupt_one_byte, drop_every_tenth_line, close_after_first_line };

// A one-thread-per-client echo server with a deliberate fault.
class TinyServer {
public:
    explicit TinyServer(Behaviour behaviour) : behaviour_(behaviour) {
        std::string error;
        listener_ = net::listen_tcp("127.0.0.1", 0, error);
        REQUIRE(listener_.valid());
        port_ = net::local_port(listener_);
        net::set_nonblocking(listener_, true);
        thread_ = std::thread([this] { accept_loop(); });
    }
    ~TinyServer() {
        stop_ = true;
        thread_.join();
        for (auto& client : clients_) client.join();
    }
    std::uint16_t port() const { return port_; }

private:
    void accept_loop() {
        while (!stop_) {
            net::Socket client = net::accept_client(listener_);
            if (!client.valid()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
                continue;
            }
            net::set_nonblocking(client, false);
            clients_.emplace_back([this, socket = std::move(client)]() mutable { serve(socket); });
        }
    }
    void serve(net::Socket& socket) {
        std::string pending;
        char buffer[4096];
        std::uint64_t lines = 0;
        while (!stop_) {
            net::PollEntry entry{socket.native(), net::poll_in(), 0};
            if (net::poll(&entry, 1, 20) <= 0) continue;
            long got = net::receive_some(socket, buffer, sizeof buffer);
            if (got <= 0) return;
            pending.append(buffer, static_cast<std::size_t>(got));
            std::size_t end;
            while ((end = pending.find('\n')) != std::string::npos) {
                std::string line = pending.substr(0, end + 1);
                pending.erase(0, end + 1);
                ++lines;
                if (behaviour_ == Behaviour::corrupt_one_byte && lines == 3) line[1] ^= 0x20;
                if (behaviour_ == Behaviour::drop_every_tenth_line && lines % 10 == 0) continue;
                net::send_all(socket, line.data(), line.size());
                if (behaviour_ == Behaviour::close_after_first_line) return;
            }
        }
    }

    Behaviour behaviour_;
    net::Socket listener_;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::vector<std::thread> clients_;
};

socklab::load::Options small_run(std::uint16_t port) {
    socklab::load::Options options;
    options.port = port;
    options.clients = 4;
    options.lines_per_client = 50;
    options.line_size = 40;
    options.duration_seconds = 5;
    options.drain_seconds = 1;
    return options;
}

}  // namespace

TEST_CASE("load: an honest echo server passes with every line counted") {
    net::Startup startup;
    TinyServer server(Behaviour::echo);
    auto result = socklab::load::run(small_run(server.port()));
    CHECK(result.ok());
    CHECK(result.lines_sent == 200);
    CHECK(result.lines_echoed == 200);
    CHECK(result.bytes_received == 200 * 40);
    CHECK(result.latency_p50_us > 0);
    CHECK(result.latency_p50_us <= result.latency_p99_us);
    CHECK(result.latency_p99_us <= result.latency_max_us);
}

TEST_CASE("load: one flipped byte is caught and named") {
    net::Startup startup;
    TinyServer server(Behaviour::corrupt_one_byte);
    auto result = socklab::load::run(small_run(server.port()));
    CHECK_FALSE(result.ok());
    CHECK(result.mismatches == 4);  // the third line of each client
    REQUIRE(!result.problems.empty());
    CHECK(result.problems[0].find("line 2: expected") != std::string::npos);
}

TEST_CASE("load: lines never echoed are errors") {
    net::Startup startup;
    TinyServer server(Behaviour::drop_every_tenth_line);
    auto options = small_run(server.port());
    options.in_flight = 100;  // send everything, then wait for what comes back
    auto result = socklab::load::run(options);
    CHECK_FALSE(result.ok());
    CHECK(result.lines_echoed < result.lines_sent);
}

TEST_CASE("load: a server that hangs up is reported, and nobody listening is an error") {
    net::Startup startup;
    {
        TinyServer server(Behaviour::close_after_first_line);
        auto result = socklab::load::run(small_run(server.port()));
        CHECK_FALSE(result.ok());
        CHECK(result.errors >= 4);
    }
    auto options = small_run(1);  // port 1: nothing listens there
    options.clients = 2;
    auto result = socklab::load::run(options);
    CHECK(result.clients_connected == 0);
    CHECK(result.errors == 2);
    CHECK_FALSE(result.ok());
}

TEST_CASE("load: open loop sends at the asked rate") {
    net::Startup startup;
    TinyServer server(Behaviour::echo);
    socklab::load::Options options;
    options.port = server.port();
    options.clients = 4;
    options.rate = 400;  // lines per second, all clients together
    options.duration_seconds = 1;
    options.line_size = 32;
    auto result = socklab::load::run(options);
    CHECK(result.ok());
    CHECK(result.lines_sent >= 350);
    CHECK(result.lines_sent <= 450);
}

TEST_CASE("load: each line's content is fixed by client and sequence") {
    CHECK(socklab::load::line_for(3, 7, 20) == socklab::load::line_for(3, 7, 20));
    CHECK(socklab::load::line_for(3, 7, 20) != socklab::load::line_for(3, 8, 20));
    CHECK(socklab::load::line_for(3, 7, 20).size() == 20);
    CHECK(socklab::load::line_for(3, 7, 20).back() == '\n');
    CHECK(socklab::load::line_for(3, 7, 20).front() == 'c');  // never a '/' command
}

TEST_CASE("load: a slow-handler mix sends /work on every n-th line and expects its reply") {
    socklab::load::Options options;
    options.work_every = 4;
    options.work_cpu_ms = 1;
    options.work_block_ms = 20;
    options.line_size = 16;
    CHECK(socklab::load::request_for(options, 1, 3) == "/work 1 20\n");
    CHECK(socklab::load::reply_for(options, 1, 3) == "OK work 1 20\n");
    CHECK(socklab::load::request_for(options, 1, 2) == socklab::load::line_for(1, 2, 16));
    CHECK(socklab::load::reply_for(options, 1, 7) == "OK work 1 20\n");
}
