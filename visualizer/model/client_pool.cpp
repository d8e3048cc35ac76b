// visualizer/model/client_pool.cpp — see client_pool.h. POSIX only (the visualizer's live mode runs on Linux).
#include "visualizer/model/client_pool.h"

#include <algorithm>
#include <chrono>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace socklab::viz {

ClientPool::~ClientPool() { disconnect_all(); }

void ClientPool::set_server(std::string host, std::uint16_t port) {
    host_ = std::move(host);
    port_ = port;
}

void ClientPool::connect(std::size_t count) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    if (port_ == 0 || inet_pton(AF_INET, host_.c_str(), &address.sin_addr) != 1) {
        figures_.last_error = "no server address to connect to (" + host_ + ":" + std::to_string(port_) + ")";
        return;
    }
    for (std::size_t i = 0; i < count; ++i) {
        Client client;
        client.socket = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (client.socket < 0) {
            figures_.last_error = std::string("socket: ") + std::strerror(errno);
            ++figures_.connects_failed;
            continue;
        }
        int on = 1;
        ::setsockopt(client.socket, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // one line, one packet: visible
        if (::connect(client.socket, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
            client.connected = true;
        } else if (errno != EINPROGRESS) {
            figures_.last_error = "connect " + host_ + ":" + std::to_string(port_) + ": " + std::strerror(errno);
            ++figures_.connects_failed;
            ::close(client.socket);
            continue;
        }
        clients_.push_back(std::move(client));
    }
    count_figures();
}

void ClientPool::send_to_all(const std::string& line) {
    for (auto& client : clients_)
        if (client.connected) {
            client.outbox += line + "\n";
            ++figures_.lines_sent;
        }
    poll();
}

void ClientPool::send_to_one(const std::string& line) {
    queue_to_next(line);
    poll();
}

void ClientPool::queue_to_next(const std::string& line) {
    for (std::size_t tries = 0; tries < clients_.size(); ++tries) {
        Client& client = clients_[next_one_++ % clients_.size()];
        if (!client.connected) continue;
        client.outbox += line + "\n";
        ++figures_.lines_sent;
        break;
    }
}

void ClientPool::burst(std::size_t lines_each, const std::string& line) {
    for (auto& client : clients_) {
        if (!client.connected) continue;
        for (std::size_t i = 0; i < lines_each; ++i) client.outbox += line + "\n";
        figures_.lines_sent += lines_each;
    }
    poll();
}

void ClientPool::drop(Client& client) {
    if (client.socket >= 0) ::close(client.socket);
    client.socket = -1;
    client.connected = false;
}

void ClientPool::disconnect_all() {
    for (auto& client : clients_) drop(client);
    clients_.clear();
    count_figures();
}

void ClientPool::set_pace(double lines_per_second) {
    pace_ = lines_per_second > 0 ? lines_per_second : 0;
    pace_credit_ = 0;
    pace_last_ns_ = 0;
}

void ClientPool::poll() {
    if (clients_.empty()) return;
    if (pace_ > 0) {
        std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch()).count();
        if (pace_last_ns_ != 0) pace_credit_ += pace_ * static_cast<double>(now - pace_last_ns_) / 1e9;
        pace_last_ns_ = now;
        pace_credit_ = std::min(pace_credit_, pace_);  // after a stall, no more than a second's worth at once
        for (; pace_credit_ >= 1; pace_credit_ -= 1) queue_to_next("steady " + std::to_string(++paced_lines_));
    }
    std::vector<pollfd> polled(clients_.size());
    for (std::size_t i = 0; i < clients_.size(); ++i) {
        polled[i].fd = clients_[i].socket;
        polled[i].events = POLLIN;
        if (!clients_[i].connected || !clients_[i].outbox.empty()) polled[i].events |= POLLOUT;
    }
    if (::poll(polled.data(), polled.size(), 0) <= 0) return;

    for (std::size_t i = 0; i < clients_.size(); ++i) {
        Client& client = clients_[i];
        const short ready = polled[i].revents;
        if (ready == 0) continue;
        if (!client.connected) {
            int error = 0;
            socklen_t length = sizeof error;
            ::getsockopt(client.socket, SOL_SOCKET, SO_ERROR, &error, &length);
            if (error != 0) {
                figures_.last_error = "connect " + host_ + ":" + std::to_string(port_) + ": " + std::strerror(error);
                ++figures_.connects_failed;
                drop(client);
                continue;
            }
            if (ready & POLLOUT) client.connected = true;
        }
        if ((ready & POLLOUT) && !client.outbox.empty()) {
            const ssize_t sent = ::send(client.socket, client.outbox.data(), client.outbox.size(), MSG_NOSIGNAL);
            if (sent > 0) client.outbox.erase(0, static_cast<std::size_t>(sent));  // a partial send keeps the rest
        }
        if (ready & (POLLIN | POLLHUP | POLLERR)) {
            char chunk[4096];
            const ssize_t received = ::recv(client.socket, chunk, sizeof chunk, 0);
            if (received <= 0) {
                if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
                drop(client);  // the server closed it (BYE, a limit) or it was reset
                continue;
            }
            client.inbox.append(chunk, static_cast<std::size_t>(received));
            for (std::size_t end; (end = client.inbox.find('\n')) != std::string::npos;) {
                ++figures_.replies_received;
                figures_.last_reply = client.inbox.substr(0, end);
                client.inbox.erase(0, end + 1);
            }
        }
    }
    std::erase_if(clients_, [](const Client& client) { return client.socket < 0; });
    count_figures();
}

void ClientPool::count_figures() {
    figures_.connected = static_cast<std::size_t>(
        std::count_if(clients_.begin(), clients_.end(), [](const Client& c) { return c.connected; }));
    figures_.connecting = clients_.size() - figures_.connected;
}

}  // namespace socklab::viz
