// The load generator: it must catch a wrong byte, a lost line and a dead server — or its "all correct" means
// nothing. Each test runs a tiny server of its own on loopback: honest, corrupting, or one that goes silent.
// Broadcast and /work runs use a second one that speaks enough of the protocol (echo, /all, /work), with faults of
// its own: a delivery dropped, corrupted or reordered, a recipient count too low.
#include <atomic>
#include <memory>
#include <mutex>
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

enum class Fault {
    none,
    drop_one_delivery,
    drop_a_last_delivery,
    corrupt_one_delivery,
    reorder_two_deliveries,
    too_few_recipients
};

// A one-thread-per-client server for echo, "/all <text>" and "/work <cpu> <block>" (which only sleeps block ms).
// A connection is registered before its thread starts, so the echo of its first line proves that broadcasts
// reach it. Deliveries to one connection are sent under its lock, so each sender's arrive in order.
class ProtocolServer {
public:
    explicit ProtocolServer(Fault fault = Fault::none) : fault_(fault) {
        std::string error;
        listener_ = net::listen_tcp("127.0.0.1", 0, error);
        REQUIRE(listener_.valid());
        port_ = net::local_port(listener_);
        net::set_nonblocking(listener_, true);
        thread_ = std::thread([this] { accept_loop(); });
    }
    ~ProtocolServer() {
        stop_ = true;
        thread_.join();
        for (auto& thread : threads_) thread.join();
    }
    std::uint16_t port() const { return port_; }

private:
    struct Connection {
        std::uint32_t id = 0;
        net::Socket socket;
        std::mutex send_lock;
    };

    void accept_loop() {
        std::uint32_t next_id = 1;
        while (!stop_) {
            net::Socket socket = net::accept_client(listener_);
            if (!socket.valid()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
                continue;
            }
            net::set_nonblocking(socket, false);
            net::set_no_delay(socket, true);  // a delivery and a reply back to back must not wait for an ACK
            auto connection = std::make_shared<Connection>();
            connection->id = next_id++;
            connection->socket = std::move(socket);
            {
                std::lock_guard lock(connections_lock_);
                connections_.push_back(connection);
            }
            threads_.emplace_back([this, connection] { serve(*connection); });
        }
    }

    void send_to(Connection& connection, const std::string& data) {
        std::lock_guard lock(connection.send_lock);
        net::send_all(connection.socket, data.data(), data.size());
    }

    // The one place where the faults live: the fifth delivery of the run is the victim.
    void deliver(Connection& to, const Connection& from, std::string message) {
        int number = ++deliveries_;
        if (fault_ == Fault::drop_one_delivery && number == 5) return;
        if (fault_ == Fault::drop_a_last_delivery && message.find(": c1s9 ") != std::string::npos &&
            !dropped_last_.exchange(true))
            return;
        if (fault_ == Fault::corrupt_one_delivery && number == 5) message[message.size() - 2] ^= 0x01;
        if (fault_ == Fault::reorder_two_deliveries) {
            std::lock_guard lock(held_lock_);
            if (number == 5) {  // held back, and sent after the same sender's next delivery to the same receiver
                held_ = message;
                held_to_ = to.id;
                held_from_ = from.id;
                return;
            }
            if (!held_.empty() && held_to_ == to.id && held_from_ == from.id) {
                send_to(to, message + held_);
                held_.clear();
                return;
            }
        }
        send_to(to, message);
    }

    std::size_t broadcast(const Connection& from, const std::string& message) {
        std::vector<std::shared_ptr<Connection>> everyone;
        {
            std::lock_guard lock(connections_lock_);
            everyone = connections_;
        }
        std::size_t recipients = 0;
        for (auto& connection : everyone) {
            if (connection->id == from.id) continue;
            deliver(*connection, from, message);
            ++recipients;
        }
        return recipients;
    }

    std::string answer(const Connection& connection, const std::string& line) {
        if (line.rfind("/all ", 0) == 0) {
            std::size_t recipients =
                broadcast(connection, std::to_string(connection.id) + ": " + line.substr(5) + "\n");
            if (fault_ == Fault::too_few_recipients) --recipients;
            return "OK all " + std::to_string(recipients) + "\n";
        }
        if (line.rfind("/work ", 0) == 0) {
            unsigned cpu_ms = 0, block_ms = 0;
            std::sscanf(line.c_str(), "/work %u %u", &cpu_ms, &block_ms);
            std::this_thread::sleep_for(std::chrono::milliseconds(cpu_ms + block_ms));
            return "OK work " + std::to_string(cpu_ms) + " " + std::to_string(block_ms) + "\n";
        }
        return line + "\n";
    }

    void serve(Connection& connection) {
        std::string pending;
        char buffer[4096];
        while (!stop_) {
            net::PollEntry entry{connection.socket.native(), net::poll_in(), 0};
            if (net::poll(&entry, 1, 20) <= 0) continue;
            long got = net::receive_some(connection.socket, buffer, sizeof buffer);
            if (got <= 0) break;
            pending.append(buffer, static_cast<std::size_t>(got));
            std::size_t end;
            while ((end = pending.find('\n')) != std::string::npos) {
                std::string line = pending.substr(0, end);
                pending.erase(0, end + 1);
                send_to(connection, answer(connection, line));
            }
        }
        std::lock_guard lock(connections_lock_);
        std::erase_if(connections_, [&](const auto& other) { return other.get() == &connection; });
    }

    Fault fault_;
    net::Socket listener_;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::vector<std::thread> threads_;
    std::mutex connections_lock_;
    std::vector<std::shared_ptr<Connection>> connections_;
    std::atomic<int> deliveries_{0};
    std::atomic<bool> dropped_last_{false};
    std::mutex held_lock_;
    std::string held_;
    std::uint32_t held_to_ = 0, held_from_ = 0;
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
    // Without a /work mix, the echo-only figures are the overall ones.
    CHECK(result.echo_latency_p50_us == result.latency_p50_us);
    CHECK(result.echo_latency_max_us == result.latency_max_us);
    CHECK(result.work_latency_max_us == 0);
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

// ---- broadcast mode -----------------------------------------------------------------------------------------

namespace {

socklab::load::Options broadcast_run(std::uint16_t port) {
    socklab::load::Options options = small_run(port);
    options.broadcast = true;
    options.lines_per_client = 10;
    return options;
}

}  // namespace

TEST_CASE("load: broadcast to an honest server delivers every line to every other client") {
    net::Startup startup;
    ProtocolServer server;
    auto options = broadcast_run(server.port());
    CHECK(socklab::load::request_for(options, 2, 5) ==
          "/all " + socklab::load::broadcast_text_for(options, 2, 5) + "\n");
    CHECK(socklab::load::broadcast_text_for(options, 2, 5) + "\n" == socklab::load::line_for(2, 5, 40));
    for (unsigned in_flight : {1u, 4u}) {
        options.in_flight = in_flight;
        auto result = socklab::load::run(options);
        INFO(socklab::load::describe(options, result));
        CHECK(result.ok());
        CHECK(result.lines_sent == 40);
        CHECK(result.lines_echoed == 40);
        CHECK(result.deliveries_expected == 4 * 10 * 3);
        CHECK(result.deliveries_received == 4 * 10 * 3);
        CHECK(result.deliveries_missing == 0);
        CHECK(result.delivery_mismatches == 0);
        CHECK(result.deliveries_per_second > 0);
        CHECK(socklab::load::describe(options, result).find("120 of 120 expected") != std::string::npos);
    }
}

TEST_CASE("load: broadcast counts a watcher among the recipients without complaint") {
    net::Startup startup;
    ProtocolServer server;
    std::string error;
    net::Socket watcher = net::connect_tcp("127.0.0.1", server.port(), error);  // receives, never reads
    REQUIRE(watcher.valid());
    auto options = broadcast_run(server.port());
    auto result = socklab::load::run(options);
    INFO(socklab::load::describe(options, result));
    CHECK(result.ok());
    CHECK(result.deliveries_received == 4 * 10 * 3);
}

TEST_CASE("load: broadcast with a /work mix expects no delivery for the /work lines") {
    net::Startup startup;
    ProtocolServer server;
    auto options = broadcast_run(server.port());
    options.work_every = 3;  // lines 2, 5 and 8 of each client: 7 broadcasts each
    options.work_block_ms = 1;
    auto result = socklab::load::run(options);
    INFO(socklab::load::describe(options, result));
    CHECK(result.ok());
    CHECK(result.deliveries_expected == 4 * 7 * 3);
    CHECK(result.deliveries_received == 4 * 7 * 3);
}

TEST_CASE("load: a dropped delivery is caught at the gap it leaves") {
    net::Startup startup;
    ProtocolServer server(Fault::drop_one_delivery);
    auto options = broadcast_run(server.port());
    auto result = socklab::load::run(options);
    INFO(socklab::load::describe(options, result));
    CHECK_FALSE(result.ok());
    CHECK(result.delivery_mismatches == 1);  // the next delivery from that sender, which comes after a gap
    CHECK(result.mismatches == 1);
    CHECK(result.deliveries_received == 118);
    CHECK(result.deliveries_missing == 0);
    REQUIRE(!result.problems.empty());
    CHECK(result.problems[0].find("lost, or out of order") != std::string::npos);
}

TEST_CASE("load: a last delivery never made is missing after the drain") {
    net::Startup startup;
    ProtocolServer server(Fault::drop_a_last_delivery);
    auto options = broadcast_run(server.port());
    auto result = socklab::load::run(options);
    INFO(socklab::load::describe(options, result));
    CHECK_FALSE(result.ok());
    CHECK(result.deliveries_missing == 1);
    CHECK(result.errors == 1);
    CHECK(result.delivery_mismatches == 0);
    CHECK(result.deliveries_expected == 120);
    CHECK(result.deliveries_received == 119);
    REQUIRE(!result.problems.empty());
    CHECK(result.problems[0].find("from client 1 never came, from its line 9") != std::string::npos);
}

TEST_CASE("load: a corrupted delivery is a mismatch") {
    net::Startup startup;
    ProtocolServer server(Fault::corrupt_one_delivery);
    auto options = broadcast_run(server.port());
    auto result = socklab::load::run(options);
    INFO(socklab::load::describe(options, result));
    CHECK_FALSE(result.ok());
    CHECK(result.delivery_mismatches == 1);
    CHECK(result.deliveries_received == 119);
    CHECK(result.deliveries_missing == 0);
    REQUIRE(!result.problems.empty());
    CHECK(result.problems[0].find("differs") != std::string::npos);
}

TEST_CASE("load: two deliveries from one sender swapped are both caught") {
    net::Startup startup;
    ProtocolServer server(Fault::reorder_two_deliveries);
    auto options = broadcast_run(server.port());
    auto result = socklab::load::run(options);
    INFO(socklab::load::describe(options, result));
    CHECK_FALSE(result.ok());
    CHECK(result.delivery_mismatches == 2);  // the later line came first, then the earlier one after it
    CHECK(result.deliveries_received == 118);
    CHECK(result.deliveries_missing == 0);
}

TEST_CASE("load: an OK all naming fewer recipients than the other clients is a mismatch") {
    net::Startup startup;
    ProtocolServer server(Fault::too_few_recipients);
    auto options = broadcast_run(server.port());
    auto result = socklab::load::run(options);
    CHECK_FALSE(result.ok());
    CHECK(result.mismatches == 40);
    CHECK(result.delivery_mismatches == 0);
    CHECK(result.deliveries_received == 120);
    REQUIRE(!result.problems.empty());
    CHECK(result.problems[0].find("OK all <at least 3>") != std::string::npos);
}

TEST_CASE("load: broadcast refuses lines too short to name their sender") {
    auto options = broadcast_run(1);
    options.line_size = 12;
    auto result = socklab::load::run(options);
    CHECK_FALSE(result.ok());
    CHECK(result.clients_connected == 0);
    REQUIRE(result.problems.size() == 1);
    CHECK(result.problems[0].find("at least 24 bytes") != std::string::npos);
}

// ---- echo-only latency under a /work mix --------------------------------------------------------------------

TEST_CASE("load: under a /work mix the echo latency is reported apart from the slow lines") {
    net::Startup startup;
    ProtocolServer server;
    auto options = small_run(server.port());
    options.lines_per_client = 20;
    options.work_every = 4;  // 5 of each client's 20 lines block 40 ms
    options.work_block_ms = 40;
    auto result = socklab::load::run(options);
    INFO(socklab::load::describe(options, result));
    CHECK(result.ok());
    CHECK(result.work_latency_p50_us >= 40000);
    CHECK(result.latency_max_us >= 40000);
    // A thread per client: nobody's echo waits for another's /work.
    CHECK(result.echo_latency_p50_us < 40000);
    CHECK(result.echo_latency_p99_us <= result.latency_p99_us);
    CHECK(result.echo_latency_p50_us <= result.echo_latency_p99_us);
    std::string summary = socklab::load::describe(options, result);
    CHECK(summary.find("  others  p50") != std::string::npos);
    CHECK(summary.find("  /work   p50") != std::string::npos);
}
