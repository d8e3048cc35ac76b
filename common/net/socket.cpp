// common/net/socket.cpp — the two implementations of socket.h, chosen at compile time.
#include "common/net/socket.h"

#include <cstring>
#include <vector>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#else
#include <arpa/inet.h>
#include <csignal>
#include <cerrno>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace socklab::net {

#ifdef _WIN32
NativeSocket invalid_socket() { return static_cast<NativeSocket>(INVALID_SOCKET); }
static SOCKET as_native(const Socket& s) { return static_cast<SOCKET>(s.native()); }
#else
NativeSocket invalid_socket() { return -1; }
static int as_native(const Socket& s) { return s.native(); }
#endif

Startup::Startup() {
#ifdef _WIN32
    WSADATA data;
    WSAStartup(MAKEWORD(2, 2), &data);
#else
    std::signal(SIGPIPE, SIG_IGN);
#endif
}

Startup::~Startup() {
#ifdef _WIN32
    WSACleanup();
#endif
}

Socket& Socket::operator=(Socket&& other) noexcept {
    if (this != &other) {
        close();
        handle_ = other.release();
    }
    return *this;
}

NativeSocket Socket::release() {
    NativeSocket handle = handle_;
    handle_ = invalid_socket();
    return handle;
}

void Socket::close() {
    if (!valid()) return;
#ifdef _WIN32
    closesocket(static_cast<SOCKET>(handle_));
#else
    ::close(handle_);
#endif
    handle_ = invalid_socket();
}

int last_error() {
#ifdef _WIN32
    return WSAGetLastError();
#else
    return errno;
#endif
}

std::string error_text(int code) {
#ifdef _WIN32
    char text[512] = {};
    DWORD length = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                                  static_cast<DWORD>(code), 0, text, sizeof text, nullptr);
    while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\r' || text[length - 1] == ' '))
        text[--length] = '\0';
    return length ? std::string(text) : "error " + std::to_string(code);
#else
    return std::strerror(code);
#endif
}

bool would_block(int code) {
#ifdef _WIN32
    return code == WSAEWOULDBLOCK;
#else
    return code == EWOULDBLOCK || code == EAGAIN || code == EINPROGRESS;
#endif
}

static bool resolve(const std::string& host, std::uint16_t port, sockaddr_in& address, std::string& error) {
    std::memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    std::string name = host == "localhost" ? "127.0.0.1" : host;
    if (inet_pton(AF_INET, name.c_str(), &address.sin_addr) == 1) return true;
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0 || !found) {
        error = "cannot resolve '" + host + "'";
        return false;
    }
    address.sin_addr = reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr;
    freeaddrinfo(found);
    return true;
}

// A new TCP socket that programs this process starts do not inherit: a server started by the visualizer must
// not keep the viewer's connections open (to itself, among others) after the viewer closed them.
static Socket open_tcp_socket() {
#ifdef _WIN32
    return Socket(static_cast<NativeSocket>(
        WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT)));
#else
    return Socket(static_cast<NativeSocket>(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP)));
#endif
}

// A non-blocking connect that has started and not finished yet reports this "error".
static bool connect_in_progress(int code) {
#ifdef _WIN32
    return code == WSAEWOULDBLOCK;
#else
    return code == EINPROGRESS;
#endif
}

Socket connect_tcp(const std::string& host, std::uint16_t port, std::string& error, int timeout_ms) {
    sockaddr_in address;
    if (!resolve(host, port, address, error)) return Socket();
    Socket socket = open_tcp_socket();
    if (!socket.valid()) {
        error = "socket: " + error_text(last_error());
        return Socket();
    }
    const std::string where = "connect to " + host + ":" + std::to_string(port) + ": ";
    if (timeout_ms < 0) {
        if (::connect(as_native(socket), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            error = where + error_text(last_error());
            return Socket();
        }
    } else {
        // Start the connect without waiting, then wait for it to finish (writable) for at most timeout_ms.
        set_nonblocking(socket, true);
        if (::connect(as_native(socket), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            int code = last_error();
            if (!connect_in_progress(code)) {
                error = where + error_text(code);
                return Socket();
            }
            PollEntry entry{socket.native(), poll_out(), 0};
            if (poll(&entry, 1, timeout_ms) <= 0) {
                error = where + "no answer within " + std::to_string(timeout_ms) + " ms";
                return Socket();
            }
            if (const int failure = connect_result(socket); failure != 0) {
                error = where + error_text(failure);
                return Socket();
            }
        }
        set_nonblocking(socket, false);
    }
    set_no_delay(socket, true);
    return socket;
}

Socket start_connect(const std::string& host, std::uint16_t port, bool& connected, std::string& error) {
    connected = false;
    sockaddr_in address;
    if (!resolve(host, port, address, error)) return Socket();
    Socket socket = open_tcp_socket();
    if (!socket.valid() || !set_nonblocking(socket, true)) {
        error = "socket: " + error_text(last_error());
        return Socket();
    }
    if (::connect(as_native(socket), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        connected = true;  // loopback can finish at once
        return socket;
    }
    if (const int code = last_error(); !connect_in_progress(code)) {
        error = "connect to " + host + ":" + std::to_string(port) + ": " + error_text(code);
        return Socket();
    }
    return socket;
}

int connect_result(const Socket& socket) {
    int failure = 0;
    socklen_t length = sizeof failure;
    if (getsockopt(as_native(socket), SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&failure), &length) != 0)
        return last_error();
    return failure;
}

Socket listen_tcp(const std::string& address_text, std::uint16_t port, std::string& error, int backlog) {
    sockaddr_in address;
    if (!resolve(address_text, port, address, error)) return Socket();
    Socket socket = open_tcp_socket();
    if (!socket.valid()) {
        error = "socket: " + error_text(last_error());
        return Socket();
    }
#ifndef _WIN32
    int yes = 1;  // POSIX: let a restarted tool reuse its port at once (Windows semantics differ; not set there)
    setsockopt(socket.native(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
#endif
    if (::bind(as_native(socket), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        error = "bind " + address_text + ":" + std::to_string(port) + ": " + error_text(last_error());
        return Socket();
    }
    if (::listen(as_native(socket), backlog) != 0) {
        error = "listen: " + error_text(last_error());
        return Socket();
    }
    return socket;
}

Socket accept_client(const Socket& listener) {
    return Socket(static_cast<NativeSocket>(::accept(as_native(listener), nullptr, nullptr)));
}

std::uint16_t local_port(const Socket& socket) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (getsockname(as_native(socket), reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
    return ntohs(address.sin_port);
}

bool set_nonblocking(const Socket& socket, bool on) {
#ifdef _WIN32
    u_long mode = on ? 1 : 0;
    return ioctlsocket(as_native(socket), FIONBIO, &mode) == 0;
#else
    int flags = fcntl(socket.native(), F_GETFL, 0);
    if (flags < 0) return false;
    return fcntl(socket.native(), F_SETFL, on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK)) == 0;
#endif
}

bool set_no_delay(const Socket& socket, bool on) {
    int value = on ? 1 : 0;
    return setsockopt(as_native(socket), IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&value),
                      sizeof value) == 0;
}

long send_some(const Socket& socket, const char* data, std::size_t size) {
#ifdef _WIN32
    int sent = ::send(as_native(socket), data, static_cast<int>(size), 0);
#else
    ssize_t sent = ::send(socket.native(), data, size, MSG_NOSIGNAL);
#endif
    if (sent >= 0) return static_cast<long>(sent);
    return would_block(last_error()) ? kWouldBlock : kFailed;
}

long receive_some(const Socket& socket, char* data, std::size_t size) {
#ifdef _WIN32
    int received = ::recv(as_native(socket), data, static_cast<int>(size), 0);
#else
    ssize_t received = ::recv(socket.native(), data, size, 0);
#endif
    if (received >= 0) return static_cast<long>(received);
    return would_block(last_error()) ? kWouldBlock : kFailed;
}

bool send_all(const Socket& socket, const char* data, std::size_t size) {
    while (size > 0) {
        long sent = send_some(socket, data, size);
        if (sent == kWouldBlock) {
            PollEntry entry{socket.native(), poll_out(), 0};
            poll(&entry, 1, 100);
            continue;
        }
        if (sent < 0) return false;
        data += sent;
        size -= static_cast<std::size_t>(sent);
    }
    return true;
}

void close_with_reset(Socket& socket) {
    linger option{};
    option.l_onoff = 1;
    option.l_linger = 0;
    setsockopt(as_native(socket), SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&option), sizeof option);
    socket.close();
}

void shutdown_send(const Socket& socket) {
#ifdef _WIN32
    ::shutdown(as_native(socket), SD_SEND);
#else
    ::shutdown(socket.native(), SHUT_WR);
#endif
}

short poll_in() { return POLLRDNORM; }
short poll_out() { return POLLWRNORM; }
short poll_error_mask() { return POLLERR | POLLHUP | POLLNVAL; }

int poll(PollEntry* entries, std::size_t count, int timeout_ms) {
    // The native structure differs (WSAPOLLFD's socket is a SOCKET, pollfd's an int), so copy through it.
#ifdef _WIN32
    std::vector<WSAPOLLFD> native(count);
#else
    std::vector<pollfd> native(count);
#endif
    for (std::size_t i = 0; i < count; ++i) {
        native[i].fd = entries[i].socket;
        native[i].events = entries[i].events;
        native[i].revents = 0;
    }
#ifdef _WIN32
    int ready = WSAPoll(native.data(), static_cast<ULONG>(count), timeout_ms);
#else
    int ready = ::poll(native.data(), count, timeout_ms);
#endif
    for (std::size_t i = 0; i < count; ++i) entries[i].returned = native[i].revents;
    return ready;
}

}  // namespace socklab::net
