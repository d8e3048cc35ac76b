// visualizer/model/client_pool.h — the test clients the visualizer drives: its buttons, steady traffic, and
// the closed-loop load of the compare view.
//
// Nonblocking sockets (common/net/socket.h, the same on Linux and Windows), so the UI never waits on the network. It speaks the line protocol of docs/design.md
// §3: it sends lines and counts the reply lines that come back. Replies on one connection leave the server in
// the order their requests arrived (§3), so each client keeps a FIFO of its lines' send times and the reply
// at the head of its inbox answers the oldest: that gives every reply's round-trip latency, which feeds a
// LoadSeries (load_series.h) sampled every 250 ms.
//
// Two ways to make traffic:
//   paced (set_pace)         open loop: N lines a second in all, the clients taking turns;
//   saturating (set_saturate) closed loop: every connected client keeps exactly one line in flight and sends
//                            the next the moment its reply arrives. With the same number of clients, "the same
//                            load" for two servers means the same number of requests outstanding, so their
//                            throughput is the comparison.
//
// Latency is timed at the socket, never by the frame: from the first connect, the sockets belong to an I/O
// thread of the pool's own that waits in poll() on all of them and reads each reply the moment it arrives, so a
// reply is timed when it arrives, not when the next frame (16 ms, or 50 ms headless) gets round to it. Lines are
// timed when they are handed to the kernel (the buttons' on the UI thread, paced and closed-loop lines on the
// I/O thread). Finished samples go into the LoadSeries under the mutex; the UI only reads copies.
//
// Threads: every public function is for the one thread that owns the pool (the UI's). The I/O thread is
// internal; a mutex guards what both touch, and the UI reads copies (figures(), series()) refreshed by poll().
//
// One connection's bytes are a load::LineConnection (common/load/line_connection.h), the piece the load generator
// is made of too: queued bytes sent as the kernel takes them, received bytes cut into lines, send times taken
// oldest first. The two stay two because they do different jobs. `load::run` is a bounded measurement: it blocks
// its caller until the run is over, connects every client before it sends, and checks every byte against
// content fixed by (client, sequence). This pool is traffic a class steers while it watches: connects and
// disconnects at any time, buttons that send any text, /all broadcasts it cannot tell apart from replies, a pace
// that changes mid-run, figures sampled every 250 ms for the plots, and a UI thread that must never wait.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/load/line_connection.h"
#include "common/net/socket.h"
#include "visualizer/model/load_series.h"

namespace socklab::viz {

class ClientPool {
public:
    struct Figures {
        std::size_t connecting = 0;
        std::size_t connected = 0;
        std::uint64_t connects_failed = 0;
        std::uint64_t lines_sent = 0;
        std::uint64_t replies_received = 0;
        std::uint64_t replies_timed = 0;  // replies matched to a line sent (the rest: broadcasts from /all)
        std::string last_reply;           // the most recent reply line, for the UI to show
        std::string last_error;           // "connect 127.0.0.1:5000: Connection refused"
    };

    ClientPool() = default;
    ~ClientPool();
    ClientPool(const ClientPool&) = delete;
    ClientPool& operator=(const ClientPool&) = delete;

    void set_server(std::string host, std::uint16_t port);
    std::uint16_t server_port() const { return port_; }
    // Starts `count` more connections; each completes during a later poll().
    void connect(std::size_t count);
    // Queues one line (without its '\n') to every connected client, or to the next one in turn.
    void send_to_all(const std::string& line);
    void send_to_one(const std::string& line);
    // Every connected client sends `lines_each` lines at once: the queue fills faster than workers drain it.
    void burst(std::size_t lines_each, const std::string& line);
    void disconnect_all();
    // Steady traffic: the clients take turns sending one line each, `lines_per_second` in all (0 = off), so a
    // class watching the timeline sees workers wake one packet at a time. Lines are "steady <n>".
    void set_pace(double lines_per_second);
    double pace() const { return pace_; }
    // Closed loop (see the top of this file): each connected client keeps one 64-byte line in flight, like
    // `socklab load` and `socklab compare` do by default. Lines are "saturate <n>" padded with dots.
    void set_saturate(bool on);
    bool saturating() const { return saturating_view_; }
    // Refreshes figures() and series() from what the I/O thread measured; no socket work. Never blocks for
    // long. Call once per frame.
    void poll();
    const Figures& figures() const { return figures_view_; }
    // Replies per second and round-trip latency over time, one sample per 250 ms since the first connect.
    const LoadSeries& series() const { return series_view_; }

private:
    struct Client {
        load::LineConnection connection;  // the socket, its queued and received bytes, its lines' send times
        bool connected = false;
    };
    static std::int64_t now_ns();
    static std::int64_t ns_of(load::LineConnection::Clock::time_point time);
    static load::LineConnection::Clock::time_point time_of(std::int64_t ns);
    void queue_line(Client& client, const std::string& line, std::int64_t now);  // counts it, notes its time
    void flush(Client& client);    // sends what the kernel takes now; the rest waits until the socket is writable
    void receive(Client& client);  // reads one chunk, times the replies in it; drops the client when it closed
    void drop(Client& client);
    void queue_to_next(const std::string& line, std::int64_t now);  // to the next connected client in turn
    void top_up_saturating(std::int64_t now);  // one line to every connected client with none in flight
    void build_poll_set(std::vector<net::PollEntry>& polled) const;
    void handle_ready(const std::vector<net::PollEntry>& polled);
    void count_figures();
    void publish();  // copies the figures and, when a window closed, the series, for the UI
    void connect_locked(std::size_t count);
    void send_paced(std::int64_t now);  // the paced lines due by now (I/O thread)
    void start_io_thread();
    void stop_io_thread();
    void io_loop();

    // Guarded by mutex_ while the I/O thread runs (and touched by the owning thread only otherwise).
    std::mutex mutex_;
    std::string host_ = "127.0.0.1";
    std::uint16_t port_ = 0;
    std::vector<Client> clients_;
    std::uint64_t clients_generation_ = 0;  // changes whenever clients_ gains or loses entries
    std::size_t next_one_ = 0;
    Figures figures_;
    LoadSeries series_;
    double pace_ = 0;
    double pace_credit_ = 0;  // lines due but not yet sent
    std::uint64_t paced_lines_ = 0;
    std::int64_t pace_last_ns_ = 0;
    bool saturate_ = false;
    std::uint64_t saturate_lines_ = 0;

    // The owning thread's copies.
    Figures figures_view_;
    LoadSeries series_view_;
    bool saturating_view_ = false;

    std::thread io_thread_;
    std::atomic<bool> io_thread_stop_{false};
};

}  // namespace socklab::viz
