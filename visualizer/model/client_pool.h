// visualizer/model/client_pool.h — a few test clients the visualizer drives from its buttons.
//
// Nonblocking POSIX sockets polled once per frame, so the UI never waits on the network. It speaks the line
// protocol of DESIGN.md §3: it sends lines and counts the reply lines that come back. This is the one file to
// replace when the load generator in common/load/ takes over (it is kept apart for exactly that reason).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace socklab::viz {

class ClientPool {
public:
    struct Figures {
        std::size_t connecting = 0;
        std::size_t connected = 0;
        std::uint64_t connects_failed = 0;
        std::uint64_t lines_sent = 0;
        std::uint64_t replies_received = 0;
        std::string last_reply;  // the most recent reply line, for the UI to show
        std::string last_error;  // "connect 127.0.0.1:5000: Connection refused"
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
    // Completes connects, sends what is queued and reads replies. Never blocks. Call once per frame.
    void poll();
    const Figures& figures() const { return figures_; }

private:
    struct Client {
        int socket = -1;
        bool connected = false;
        std::string outbox;  // bytes queued, not yet accepted by the kernel
        std::string inbox;   // bytes received, not yet a whole line
    };
    void drop(Client& client);
    void queue_to_next(const std::string& line);  // one line to the next connected client in turn
    void count_figures();

    std::string host_ = "127.0.0.1";
    std::uint16_t port_ = 0;
    std::vector<Client> clients_;
    std::size_t next_one_ = 0;
    Figures figures_;
    double pace_ = 0;
    double pace_credit_ = 0;  // lines due but not yet sent
    std::uint64_t paced_lines_ = 0;
    std::int64_t pace_last_ns_ = 0;
};

}  // namespace socklab::viz
