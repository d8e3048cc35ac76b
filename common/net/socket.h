// common/net/socket.h — small portable TCP sockets (POSIX and Winsock) for clients, tools and tests.
//
// This is deliberately NOT what the models use: every model writes its Winsock calls out in full, because
// those calls are the lesson. This file serves the code around the models — the load generator, the trace
// sinks, the CLI, the tests — so that it builds and runs the same on Linux and Windows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace socklab::net {

#ifdef _WIN32
using NativeSocket = std::uintptr_t;  // SOCKET
#else
using NativeSocket = int;
#endif
NativeSocket invalid_socket();

// Socket library set-up for the process: WSAStartup on Windows; on POSIX, SIGPIPE is ignored so that a send to
// a closed peer is an error code and not the death of the process. Create one before any socket.
class Startup {
public:
    Startup();
    ~Startup();
    Startup(const Startup&) = delete;
    Startup& operator=(const Startup&) = delete;
};

class Socket {
public:
    Socket() = default;
    explicit Socket(NativeSocket handle) : handle_(handle) {}
    ~Socket() { close(); }
    Socket(Socket&& other) noexcept : handle_(other.release()) {}
    Socket& operator=(Socket&& other) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    bool valid() const { return handle_ != invalid_socket(); }
    NativeSocket native() const { return handle_; }
    NativeSocket release();
    void close();

private:
    NativeSocket handle_ = invalid_socket();
};

// The last socket error of this thread (errno or WSAGetLastError) and its text.
int last_error();
std::string error_text(int code);
bool would_block(int code);

// Connect to host:port (numeric IPv4 or a name), waiting at most timeout_ms (-1: as long as the system does,
// which can be minutes when a server's accept queue is full). Returns a blocking socket, or an invalid one
// and sets error.
Socket connect_tcp(const std::string& host, std::uint16_t port, std::string& error, int timeout_ms = -1);
// Starts connecting to host:port without waiting, for programs that poll many sockets in one loop (the
// visualizer's clients and trace connection). Returns a non-blocking socket, `connected` true when the connect
// finished at once; otherwise it finishes later: wait for poll_out() (or an error) and ask connect_result().
// An invalid socket and error set when it failed at once.
Socket start_connect(const std::string& host, std::uint16_t port, bool& connected, std::string& error);
// After start_connect's socket polled ready: 0 when the connection is up, else its error code (for error_text).
int connect_result(const Socket& socket);
// A listening socket on address:port (port 0 = any free port). On failure sets error.
Socket listen_tcp(const std::string& address, std::uint16_t port, std::string& error, int backlog = 512);
Socket accept_client(const Socket& listener);
std::uint16_t local_port(const Socket& socket);

bool set_nonblocking(const Socket& socket, bool on);
bool set_no_delay(const Socket& socket, bool on);

// Results of the non-blocking transfer calls: a count of bytes, or one of these.
inline constexpr long kWouldBlock = -1;
inline constexpr long kFailed = -2;
long send_some(const Socket& socket, const char* data, std::size_t size);
long receive_some(const Socket& socket, char* data, std::size_t size);  // 0 = the peer closed
// Sends everything, waiting as needed (blocking sockets). False on error.
bool send_all(const Socket& socket, const char* data, std::size_t size);

// Ends the connection with a reset (SO_LINGER 0), the way a crashed client would.
void close_with_reset(Socket& socket);
// Half-close: no more sends from this side; replies can still be received.
void shutdown_send(const Socket& socket);

// poll() / WSAPoll over a set of sockets.
struct PollEntry {
    NativeSocket socket;
    short events;
    short returned;
};
short poll_in();
short poll_out();
short poll_error_mask();  // error, hang-up or invalid
int poll(PollEntry* entries, std::size_t count, int timeout_ms);

}  // namespace socklab::net
