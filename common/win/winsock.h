// common/win/winsock.h — the Windows-only helpers every model shares, so that no model copies them.
//
// What is here is the scaffolding around a model, never the calls a lesson is about: start-up and options,
// error text, the listening socket, the counts of live sockets and per-I/O objects, the connection table that
// broadcast walks, and the facts a trace opens with. Each model still writes its own accept, recv, send,
// WSARecv, GetQueuedCompletionStatus... in full.
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/protocol/session.h"
#include "common/server/accounting.h"
#include "common/server/connection_table.h"
#include "common/server/server_options.h"

namespace socklab::win {

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

    // A manual-reset event: signalled once, when the model must shut down. Models wait on it directly.
    HANDLE stop_event() const { return stop_event_; }
    void request_stop() { SetEvent(stop_event_); }
    bool stop_requested() const { return WaitForSingleObject(stop_event_, 0) == WAIT_OBJECT_0; }

    // Called by the model once its listening socket accepts connections.
    void report_ready(std::uint16_t port);
    // Blocks until the model is ready (returns its port) or has failed (returns 0).
    std::uint16_t wait_until_ready(DWORD timeout_ms = 30000);
    void report_failed();

    std::function<void(std::uint16_t port)> on_ready;  // optional: the server executable prints the address

private:
    HANDLE stop_event_;
    HANDLE ready_event_;
    std::atomic<std::uint16_t> port_{0};
};

// ---- errors -----------------------------------------------------------------------------------------------
// "WSAECONNRESET (10054): An existing connection was forcibly closed by the remote host."
std::string error_text(DWORD code);
// Prints "socklab-server: <api> failed: <error text>" to stderr and records an error event.
void report_error(const char* api, DWORD code, std::uint32_t connection = 0);

// ---- the listening socket ---------------------------------------------------------------------------------
// WSASocketW (overlapped-capable), SO_EXCLUSIVEADDRUSE, bind and listen on options.listen_address:port.
// Returns INVALID_SOCKET after reporting which call failed. The actual port is written to `bound_port`.
SOCKET create_listener(const ServerOptions& options, std::uint16_t& bound_port);

// ---- the acceptor ------------------------------------------------------------------------------------------
// accept() failed because the client had already gone: it connected and reset (or aborted) before accept() took
// it. Windows reports WSAECONNRESET; Wine 8.0 reports WSAENOTCONN (measured) or WSAECONNABORTED. Nothing is wrong
// with the server and the next client may already be waiting, so every model simply accepts the next one — no
// message, no pause: a burst of such clients must delay nobody.
bool client_left_before_accept(int error);

// What a blocking acceptor does when accept() failed and the server is not stopping: nothing for a client that
// left (above); anything else (out of sockets or memory) is reported, then a 10 ms pause keeps the loop from
// spinning while the system recovers.
void after_failed_accept(int error);

// Wakes a thread blocked in accept() on `listener` by connecting to it once. The acceptor, seeing the stop event
// signalled when accept() returns, closes what it got and the listener itself. This is how a blocking acceptor is
// stopped within the documented contract: closing the listener under it instead "works" but is not allowed —
// closesocket's documentation: "an application should never issue closesocket on s concurrently with another
// Winsock function call" on the same socket.
void wake_blocked_accept(SOCKET listener);

// ---- threads ----------------------------------------------------------------------------------------------
// Waits for every thread in `threads` to end, then closes the handles and lowers accounting().threads. One
// WaitForMultipleObjects takes at most MAXIMUM_WAIT_OBJECTS (64) handles, so a larger pool is waited for in
// chunks of 64; a failed wait is reported and the rest waited for one by one, so this never returns early.
void join_threads(std::vector<HANDLE>& threads);

// ---- failures on purpose (tests) --------------------------------------------------------------------------
// A test arms a number of failures of one kind; the call site asks before making the real call and, while one
// is armed, fails the way the real call would (WSAGetLastError() says `error`). Only tests arm them, so that a
// failure that is rare on a healthy machine (out of sockets) can be shown to be reported and survived.
enum class InjectedFailure { accept_socket };
void arm_failures(InjectedFailure kind, int count);
bool take_armed_failure(InjectedFailure kind, int error);

// ---- accounting -------------------------------------------------------------------------------------------
// The counts are the same on every platform (common/server/accounting.h); what is counted here is Winsock's.
using server::Accounting;
using server::accounting;
using server::CountedIoObject;

// A socket the model accepted: counted until close_socket.
inline void track_socket(SOCKET) { accounting().sockets.fetch_add(1, std::memory_order_relaxed); }
// closesocket, counted; the SOCKET is set to INVALID_SOCKET so it cannot be closed twice.
void close_socket(SOCKET& socket);

// ---- connections ------------------------------------------------------------------------------------------
// A connection's lock: a slim reader/writer lock (SRWLOCK), taken exclusively. It works with std::lock_guard and
// std::unique_lock. Not std::mutex, because in the MinGW build std::mutex is winpthreads' mutex, whose contended
// path waits on an event object: under Wine 8.0 that is a request to wineserver to wait and another to wake the
// waiter, on the path of every completion two workers handle at once (measured with `socklab compare --scenario
// cost`). An SRWLOCK is what a Windows programmer writes; it is the size of a pointer and, like std::mutex, cannot
// be taken again by the thread that holds it ("Slim Reader/Writer (SRW) Locks", Microsoft Learn).
class Lock {
public:
    Lock() = default;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    void lock() noexcept { AcquireSRWLockExclusive(&srw_); }
    bool try_lock() noexcept { return TryAcquireSRWLockExclusive(&srw_) != 0; }
    void unlock() noexcept { ReleaseSRWLockExclusive(&srw_); }

private:
    SRWLOCK srw_ = SRWLOCK_INIT;
};

// Connection ids start at 1 in every server run (common/server/accounting.h).
using server::next_connection_id;
using server::reset_connection_ids;

// The table of live connections that /all walks (common/server/connection_table.h), under an SRWLOCK.
template <class Connection>
using ConnectionTable = server::ConnectionTable<Connection, Lock>;

// ---- facts about the run ----------------------------------------------------------------------------------
// "Wine 8.0 (Linux)" or "Windows 10.0.19045": which runtime the numbers come from.
std::string runtime_name();
bool running_under_wine();
unsigned processor_count();
// Records the facts every trace opens with (model, runtime, processors, concurrency) and server_start.
void announce_server(const std::string& model, unsigned concurrency);

// "threads=12 working_set_kb=5120 peak_working_set_kb=6000 cpu_ms=830": this process, now (for /stats).
std::string process_figures();

// Number of packets queued on a completion port (NtQueryIoCompletion), or -1 where it cannot be read.
long completion_queue_depth(HANDLE port);
// The three below record queue_depth events; with SOCKLAB_TRACE_DISABLED they are empty inline functions, so a
// model's calls to them compile to nothing (common/trace/recorder.h).
#ifdef SOCKLAB_TRACE_DISABLED
inline void sample_queue_depth(HANDLE) noexcept {}
inline void sample_queue_depth_going_idle(HANDLE) noexcept {}
inline void record_final_queue_depth(HANDLE) noexcept {}
#else
// While recording: a queue_depth event for the port, at most one every 5 ms for the whole process. Reading the
// depth is a call into the kernel; under Wine a round trip to wineserver, 35-40 us measured on our 2-core
// machine: once a millisecond, that was 4% of a worker's time, enough to show as tracing cost.
void sample_queue_depth(HANDLE port);
// While recording: called by a worker that has handled its packet and goes back to the port. When it is the last
// busy worker and a sample was skipped since the last one recorded, it records one now, so a port that goes
// quiet shows its real depth (0: every worker waits, so any packet would have released one), not the depth of
// its last busy moment for as long as it stays quiet. Busy load rarely leaves no worker busy: this costs little.
void sample_queue_depth_going_idle(HANDLE port);
// While recording: the depth once more, whatever the rate limit, when the workers have been joined and the port
// is about to close: a trace then ends with what was left on the port (0 after a clean stop) instead of the
// last sample of a busy moment, which a replay would show at its end as packets no thread will ever take.
void record_final_queue_depth(HANDLE port);
#endif

}  // namespace socklab::win
