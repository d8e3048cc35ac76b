// common/posix/sockets.h — the Linux helpers every native model shares, so that no model copies them: the
// counterpart of common/win/winsock.h, with the same names where the job is the same.
//
// What is here is the scaffolding around a model, never the calls a lesson is about: the stop and ready signals,
// error text, the listening socket, the counts of live sockets and threads, and the facts a trace opens with. Each
// model still writes its own accept, recv, send, poll, epoll_wait... in full.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol/session.h"
#include "common/server/accounting.h"
#include "common/server/server_options.h"

namespace socklab::posix {

// ---- options and control ----------------------------------------------------------------------------------
// The options are the same on every platform (common/server/server_options.h).
using server::ServerOptions;

// How the server executable, or a test, runs a model and stops it.
class ServerControl {
public:
    ServerControl();
    ~ServerControl();
    ServerControl(const ServerControl&) = delete;
    ServerControl& operator=(const ServerControl&) = delete;

    // An eventfd that becomes readable once, when the model must shut down, and stays readable: nobody reads it.
    // Models wait on it beside their sockets (poll, epoll_wait), as the Windows models wait on the stop event.
    int stop_fd() const { return stop_fd_; }
    // One write() to the eventfd: async-signal-safe, so a SIGINT handler may call it.
    void request_stop() noexcept;
    bool stop_requested() const;

    // Called by the model once its listening socket accepts connections.
    void report_ready(std::uint16_t port);
    // Blocks until the model is ready (returns its port) or has failed (returns 0).
    std::uint16_t wait_until_ready(unsigned timeout_ms = 30000);
    void report_failed();

    std::function<void(std::uint16_t port)> on_ready;  // optional: the server executable prints the address

private:
    void set_ready(std::uint16_t port);

    int stop_fd_;
    std::mutex mutex_;
    std::condition_variable ready_changed_;
    bool ready_ = false;
    std::uint16_t port_ = 0;
};

// ---- errors -----------------------------------------------------------------------------------------------
// "ECONNRESET (104): Connection reset by peer"
std::string error_text(int code);
// Prints "socklab-server: <api> failed: <error text>" to stderr and records an error event.
void report_error(const char* api, int code, std::uint32_t connection = 0);

// ---- the listening socket ---------------------------------------------------------------------------------
// socket, SO_REUSEADDR, bind and listen on options.listen_address:port. Returns -1 after reporting which call
// failed. The actual port is written to `bound_port`.
int create_listener(const ServerOptions& options, std::uint16_t& bound_port);

// ---- the acceptor ------------------------------------------------------------------------------------------
// accept() failed because the client had already gone, or for a reason that belongs to that one connection: Linux
// "passes already-pending network errors on the new socket as an error code from accept()" (accept(2)), and a
// client that reset in the backlog is ECONNABORTED. Nothing is wrong with the server and the next client may
// already be waiting, so every model simply accepts the next one — no message, no pause.
bool client_left_before_accept(int error);

// What a model does when accept() failed otherwise (out of descriptors: EMFILE, ENFILE; out of memory): reported,
// then a 10 ms pause keeps the loop from spinning while the system recovers.
void after_failed_accept(int error);

// ---- threads ----------------------------------------------------------------------------------------------
// Starts `count` threads running `main(parameter)`, counted in accounting().threads. A thread that cannot be
// created is reported, and the server runs with those it has; returns false when it has none.
bool start_threads(unsigned count, void (*main)(void* parameter), void* parameter, std::vector<std::thread>& threads);
// Waits for every thread in `threads` to end, then lowers accounting().threads.
void join_threads(std::vector<std::thread>& threads);

// ---- accounting -------------------------------------------------------------------------------------------
// The counts are the same on every platform (common/server/accounting.h); what is counted here is descriptors.
using server::Accounting;
using server::accounting;
using server::CountedIoObject;
using server::next_connection_id;
using server::reset_connection_ids;

// A socket the model accepted: counted until close_socket.
inline void track_socket(int) { accounting().sockets.fetch_add(1, std::memory_order_relaxed); }
// close(), counted; the descriptor is set to -1 so it cannot be closed twice (a descriptor closed twice may close
// somebody else's: Linux hands the lowest free number to the next open).
void close_socket(int& socket);

// ---- facts about the run ----------------------------------------------------------------------------------
// "Linux 6.1.0-18-amd64" (uname): which kernel the numbers come from.
std::string runtime_name();
unsigned processor_count();
// Records the facts every trace opens with (model, runtime, processors, concurrency) and server_start.
void announce_server(const std::string& model, unsigned concurrency);
// "threads=12 working_set_kb=5120 peak_working_set_kb=6000 cpu_ms=830": this process, now (for /stats).
std::string process_figures();

// Raises this process's limit of open descriptors (RLIMIT_NOFILE) from its soft value to its hard one: a server of
// 1,000 clients needs more than the usual soft 1,024, and a test that runs the clients in the same process twice
// that. Returns the limit now in force.
unsigned long raise_open_file_limit();

// ---- failures ---------------------------------------------------------------------------------------------
// A wait that fails (poll, epoll_wait...) was given something it cannot wait on: a bug, not a client's doing, and
// waiting again would fail again at once and spin. Every model does the same: report it and ask the server to stop,
// which then shuts down gracefully, so every client sees its connection closed and the trace shows why.
void wait_failed(const char* api, int error, ServerControl& control);
// A rule the model rests on did not hold. Going on would hide the bug behind a hang or a leak: stop loudly, at once.
[[noreturn]] void broken_invariant(const char* what);

}  // namespace socklab::posix
