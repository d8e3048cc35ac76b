// visualizer/model/live_connection.cpp — see live_connection.h. The portable sockets of common/net/socket.h.
#include "visualizer/model/live_connection.h"

#include <vector>

namespace socklab::viz {

LiveConnection::~LiveConnection() { close(); }

void LiveConnection::open(const std::string& host, std::uint16_t port) {
    static net::Startup startup;  // Winsock must be set up before the first socket (no-op on Linux)
    close();
    host_ = host;
    port_ = port;
    error_.clear();
    bool connected = false;
    socket_ = net::start_connect(host, port, connected, error_);
    if (!socket_.valid()) status_ = Status::failed;
    else status_ = connected ? Status::connected : Status::connecting;
}

LiveConnection::Status LiveConnection::pump(const std::function<void(const char*, std::size_t)>& on_bytes) {
    if (status_ == Status::connecting) {
        // Ready for writing once connected; a failed connect shows as an error or hang-up instead.
        net::PollEntry entry{socket_.native(), net::poll_out(), 0};
        if (net::poll(&entry, 1, 0) <= 0) return status_;
        if (const int failure = net::connect_result(socket_); failure != 0) {
            error_ = "connect " + host_ + ":" + std::to_string(port_) + ": " + net::error_text(failure);
            close();
            status_ = Status::failed;
            return status_;
        }
        status_ = Status::connected;
    }
    if (status_ != Status::connected) return status_;

    // Read until the socket is empty: a live server can send megabytes a second and none may be dropped.
    static thread_local std::vector<char> chunk(1 << 20);
    for (;;) {
        const long received = net::receive_some(socket_, chunk.data(), chunk.size());
        if (received > 0) {
            bytes_received_ += static_cast<std::uint64_t>(received);
            on_bytes(chunk.data(), static_cast<std::size_t>(received));
            continue;
        }
        if (received == net::kWouldBlock) break;
        error_ =
            received == 0 ? "the server closed the trace connection" : "recv: " + net::error_text(net::last_error());
        socket_.close();
        status_ = Status::closed;
        break;
    }
    return status_;
}

bool LiveConnection::send_control(const std::string& line) {
    if (status_ != Status::connected) return false;
    const std::string text = line + "\n";
    // Control lines are a few bytes; a loopback socket always takes them whole.
    return net::send_some(socket_, text.data(), text.size()) == static_cast<long>(text.size());
}

void LiveConnection::close() {
    socket_.close();
    if (status_ == Status::connecting || status_ == Status::connected) status_ = Status::closed;
}

}  // namespace socklab::viz
