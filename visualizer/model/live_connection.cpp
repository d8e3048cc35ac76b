// visualizer/model/live_connection.cpp — see live_connection.h. POSIX sockets.
#include "visualizer/model/live_connection.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace socklab::viz {

LiveConnection::~LiveConnection() { close(); }

void LiveConnection::open(const std::string& host, std::uint16_t port) {
    close();
    host_ = host;
    port_ = port;
    error_.clear();
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
        status_ = Status::failed;
        error_ = "not an IPv4 address: " + host;
        return;
    }
    socket_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (socket_ < 0) {
        status_ = Status::failed;
        error_ = std::string("socket: ") + std::strerror(errno);
        return;
    }
    if (::connect(socket_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        status_ = Status::connected;
    } else if (errno == EINPROGRESS) {
        status_ = Status::connecting;
    } else {
        status_ = Status::failed;
        error_ = "connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
        ::close(socket_);
        socket_ = -1;
    }
}

LiveConnection::Status LiveConnection::pump(const std::function<void(const char*, std::size_t)>& on_bytes) {
    if (status_ == Status::connecting) {
        pollfd polled{socket_, POLLOUT, 0};
        if (::poll(&polled, 1, 0) <= 0) return status_;
        int error = 0;
        socklen_t length = sizeof error;
        ::getsockopt(socket_, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
            error_ = "connect " + host_ + ":" + std::to_string(port_) + ": " + std::strerror(error);
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
        const ssize_t received = ::recv(socket_, chunk.data(), chunk.size(), 0);
        if (received > 0) {
            bytes_received_ += static_cast<std::uint64_t>(received);
            on_bytes(chunk.data(), static_cast<std::size_t>(received));
            continue;
        }
        if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (received < 0 && errno == EINTR) continue;
        error_ = received == 0 ? "the server closed the trace connection"
                               : std::string("recv: ") + std::strerror(errno);
        ::close(socket_);
        socket_ = -1;
        status_ = Status::closed;
        break;
    }
    return status_;
}

bool LiveConnection::send_control(const std::string& line) {
    if (status_ != Status::connected) return false;
    const std::string text = line + "\n";
    // Control lines are a few bytes; a loopback socket always takes them whole.
    return ::send(socket_, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

void LiveConnection::close() {
    if (socket_ >= 0) ::close(socket_);
    socket_ = -1;
    if (status_ == Status::connecting || status_ == Status::connected) status_ = Status::closed;
}

}  // namespace socklab::viz
