// visualizer/model/client_pool.cpp — see client_pool.h. The portable sockets of common/net/socket.h, one
// connection's bytes in a load::LineConnection (common/load/line_connection.h).
//
// Sections:
//   1. Connecting and queueing lines (the owning thread)
//   2. The socket work: poll, send, receive, match replies to send times (the I/O thread, under the mutex)
//   3. The I/O thread
#include "visualizer/model/client_pool.h"

#include <algorithm>
#include <chrono>

namespace socklab::viz {

namespace {

// The closed loop's lines are 64 bytes with their '\n', the size `socklab load` and `socklab compare` send by
// default, so a figure seen here and one in their tables come from the same kind of traffic.
constexpr std::size_t kSaturateLineSize = 64;

}  // namespace

// ---- 1. Connecting and queueing lines ---------------------------------------------------------------------

ClientPool::~ClientPool() {
    stop_io_thread();  // the I/O thread goes first: it must not touch sockets being closed
    disconnect_all();
}

std::int64_t ClientPool::now_ns() { return ns_of(load::LineConnection::Clock::now()); }

// The pool counts time in nanoseconds of the steady clock (LoadSeries does); a connection keeps its clock's
// time points.
std::int64_t ClientPool::ns_of(load::LineConnection::Clock::time_point time) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

load::LineConnection::Clock::time_point ClientPool::time_of(std::int64_t ns) {
    return load::LineConnection::Clock::time_point(
        std::chrono::duration_cast<load::LineConnection::Clock::duration>(std::chrono::nanoseconds(ns)));
}

void ClientPool::set_server(std::string host, std::uint16_t port) {
    std::lock_guard lock(mutex_);
    host_ = std::move(host);
    port_ = port;
}

void ClientPool::connect(std::size_t count) {
    connect_locked(count);
    start_io_thread();  // its sockets are read, and their replies timed, on a thread of their own from now on
}

void ClientPool::connect_locked(std::size_t count) {
    static net::Startup startup;  // Winsock must be set up before the first socket (no-op on Linux)
    std::lock_guard lock(mutex_);
    if (port_ == 0 || host_.empty()) {
        figures_.last_error = "no server address to connect to (" + host_ + ":" + std::to_string(port_) + ")";
        publish();
        return;
    }
    // The series counts from the first connect, so sessions whose clients start together share a time axis.
    if (!series_.started()) series_.start(now_ns());
    for (std::size_t i = 0; i < count; ++i) {
        Client client;
        std::string error;
        net::Socket socket = net::start_connect(host_, port_, client.connected, error);
        if (!socket.valid()) {
            figures_.last_error = error;
            ++figures_.connects_failed;
            continue;
        }
        net::set_no_delay(socket, true);  // one line, one packet: visible
        client.connection = load::LineConnection(std::move(socket));
        clients_.push_back(std::move(client));
    }
    ++clients_generation_;
    count_figures();
    publish();
}

void ClientPool::queue_line(Client& client, const std::string& line, std::int64_t now) {
    client.connection.queue_request(line + '\n', time_of(now));
    ++figures_.lines_sent;
}

void ClientPool::send_to_all(const std::string& line) {
    {
        std::lock_guard lock(mutex_);
        const std::int64_t now = now_ns();
        for (auto& client : clients_) {
            if (!client.connected) continue;
            queue_line(client, line, now);
            flush(client);
        }
    }
    poll();
}

void ClientPool::send_to_one(const std::string& line) {
    {
        std::lock_guard lock(mutex_);
        queue_to_next(line, now_ns());
    }
    poll();
}

void ClientPool::queue_to_next(const std::string& line, std::int64_t now) {
    for (std::size_t tries = 0; tries < clients_.size(); ++tries) {
        Client& client = clients_[next_one_++ % clients_.size()];
        if (!client.connected) continue;
        queue_line(client, line, now);
        flush(client);
        break;
    }
}

void ClientPool::burst(std::size_t lines_each, const std::string& line) {
    {
        std::lock_guard lock(mutex_);
        const std::int64_t now = now_ns();
        for (auto& client : clients_) {
            if (!client.connected) continue;
            for (std::size_t i = 0; i < lines_each; ++i) queue_line(client, line, now);
            flush(client);
        }
    }
    poll();
}

void ClientPool::drop(Client& client) {
    client.connection.close();  // its lines in flight will never be answered: no latency to count
    client.connected = false;
}

void ClientPool::disconnect_all() {
    std::lock_guard lock(mutex_);
    for (auto& client : clients_) drop(client);
    clients_.clear();
    ++clients_generation_;
    count_figures();
    publish();
}

void ClientPool::set_pace(double lines_per_second) {
    std::lock_guard lock(mutex_);
    pace_ = lines_per_second > 0 ? lines_per_second : 0;
    pace_credit_ = 0;
    pace_last_ns_ = 0;
}

void ClientPool::poll() {
    // The sockets are the I/O thread's business: the frame only takes the figures it measured. A reply is
    // timed when that thread reads it, however long the frame is.
    std::lock_guard lock(mutex_);
    series_.advance(now_ns());
    publish();
}

void ClientPool::send_paced(std::int64_t now) {
    if (pace_ <= 0 || clients_.empty()) return;
    if (pace_last_ns_ != 0) pace_credit_ += pace_ * static_cast<double>(now - pace_last_ns_) / 1e9;
    pace_last_ns_ = now;
    pace_credit_ = std::min(pace_credit_, pace_);  // after a stall, no more than a second's worth at once
    for (; pace_credit_ >= 1; pace_credit_ -= 1) queue_to_next("steady " + std::to_string(++paced_lines_), now);
}

void ClientPool::publish() {
    figures_view_ = figures_;
    // The series changes only when a window closes (four times a second): copy it then, not every frame.
    if (series_view_.windows_closed() != series_.windows_closed() || series_view_.started() != series_.started())
        series_view_ = series_;
}

// ---- 2. The socket work -----------------------------------------------------------------------------------

void ClientPool::flush(Client& client) {
    // A partial send keeps the rest. A failed one is left for the receive side to find: the read that follows
    // sees the reset or the close, and drops the client.
    if (client.connected) client.connection.send_queued();
}

void ClientPool::top_up_saturating(std::int64_t now) {
    if (!saturate_) return;
    for (auto& client : clients_) {
        if (!client.connected || client.connection.in_flight() > 0) continue;
        std::string line = "saturate " + std::to_string(++saturate_lines_) + " ";
        line.resize(kSaturateLineSize - 1, '.');
        queue_line(client, line, now);
        flush(client);
    }
}

void ClientPool::build_poll_set(std::vector<net::PollEntry>& polled) const {
    polled.resize(clients_.size());
    for (std::size_t i = 0; i < clients_.size(); ++i) {
        const Client& client = clients_[i];
        polled[i].socket = client.connection.socket().native();
        polled[i].events = net::poll_in();
        polled[i].returned = 0;
        if (!client.connected || client.connection.has_unsent()) polled[i].events |= net::poll_out();
    }
}

void ClientPool::handle_ready(const std::vector<net::PollEntry>& polled) {
    for (std::size_t i = 0; i < clients_.size() && i < polled.size(); ++i) {
        Client& client = clients_[i];
        const short ready = polled[i].returned;
        if (ready == 0 || !client.connection.valid()) continue;
        if (!client.connected) {
            if (const int error = net::connect_result(client.connection.socket()); error != 0) {
                figures_.last_error = "connect " + host_ + ":" + std::to_string(port_) + ": " + net::error_text(error);
                ++figures_.connects_failed;
                drop(client);
                continue;
            }
            if (ready & net::poll_out()) client.connected = true;
        }
        if (ready & net::poll_out()) flush(client);
        if (ready & (net::poll_in() | net::poll_error_mask())) receive(client);
    }
    // Dropped clients leave the list; the poll set changes shape, which the load thread must notice.
    if (std::erase_if(clients_, [](const Client& client) { return !client.connection.valid(); })) ++clients_generation_;
    top_up_saturating(now_ns());
    count_figures();
}

void ClientPool::receive(Client& client) {
    const long received = client.connection.receive();
    if (received == net::kWouldBlock) return;
    if (received <= 0) {
        drop(client);  // the server closed it (BYE, a limit) or it was reset
        return;
    }
    // One clock read per chunk, not per line: the lines of a chunk arrived together anyway.
    const std::int64_t now = now_ns();
    client.connection.take_lines([&](std::string_view line) {
        figures_.last_reply.assign(line.data(), line.size() - 1);  // without its '\n'
        ++figures_.replies_received;
        // The oldest line in flight is the one answered (docs/design.md §3). A line with none in flight is a
        // broadcast from another client's /all; one arriving while a line is in flight is taken for its reply, so
        // the /all button is for watching, not for measuring.
        if (client.connection.in_flight() > 0) {
            series_.add_reply(now, now - ns_of(client.connection.take_oldest_send_time()));
            ++figures_.replies_timed;
        }
    });
}

void ClientPool::count_figures() {
    const auto connected = std::count_if(clients_.begin(), clients_.end(), [](const Client& c) { return c.connected; });
    figures_.connected = static_cast<std::size_t>(connected);
    figures_.connecting = clients_.size() - figures_.connected;
}

// ---- 3. The I/O thread ------------------------------------------------------------------------------------

void ClientPool::set_saturate(bool on) {
    if (on == saturating_view_) return;
    saturating_view_ = on;
    {
        std::lock_guard lock(mutex_);
        saturate_ = on;  // off: the lines in flight are still answered and timed; no new ones follow
        if (on) top_up_saturating(now_ns());
    }
    if (on) start_io_thread();
}

void ClientPool::start_io_thread() {
    if (io_thread_.joinable()) return;
    io_thread_stop_ = false;
    io_thread_ = std::thread([this] { io_loop(); });
}

void ClientPool::stop_io_thread() {
    if (!io_thread_.joinable()) return;
    io_thread_stop_ = true;
    io_thread_.join();
}

void ClientPool::io_loop() {
    std::vector<net::PollEntry> polled;
    while (!io_thread_stop_) {
        std::uint64_t generation;
        {
            std::lock_guard lock(mutex_);
            const std::int64_t now = now_ns();
            send_paced(now);
            top_up_saturating(now);  // clients that just connected get their first line
            build_poll_set(polled);
            generation = clients_generation_;
        }
        // The wait happens without the lock, so the UI thread is never held up by the network. A short
        // timeout bounds how long a client added meanwhile waits to be seen.
        if (polled.empty()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            continue;
        }
        const int ready = net::poll(polled.data(), polled.size(), 5);
        std::lock_guard lock(mutex_);
        // If the clients changed while we waited, the results describe sockets that may be gone: poll again.
        if (ready > 0 && generation == clients_generation_) handle_ready(polled);
        series_.advance(now_ns());
    }
}

}  // namespace socklab::viz
