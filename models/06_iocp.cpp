// models/06_iocp.cpp — an I/O completion port and a pool of workers; accept() in one thread.

// SECTION: abstract
//
// How the network reaches the code: as completion packets. Every socket is associated with one completion
// port; the server starts an overlapped WSARecv or WSASend and returns at once. When the kernel finishes the
// I/O it queues a packet on the port — the bytes transferred, the completion key (here, the Connection) and
// the OVERLAPPED the I/O was started with (here, inside an IoRequest). Workers sit in
// GetQueuedCompletionStatus and each takes one packet at a time.
//
// Where state lives: per socket, a Connection (socket, session, send queue, count of I/O in flight); per I/O,
// an IoRequest (the OVERLAPPED, the buffer, what kind of I/O it was), allocated when the I/O starts and freed
// when its packet has been handled — never earlier, because the kernel writes into it until then.
//
// Threads: one acceptor blocked in accept(); a pool of workers (--workers, default twice the processors) waiting
// on the port. Windows wakes the most recently waiting worker first (LIFO: its stack and cache are warm) and
// releases a waiting worker only while fewer are running than the concurrency value (--concurrency, default the
// number of processors); a worker that blocks (the Sleep of /work) no longer counts, so the port releases
// another. The value limits releases, not running: when the blocked worker wakes, both run, and "there may be a
// brief period when the number of active threads exceeds the concurrency value" ("I/O Completion Ports"). Wine 8.0 does
// neither — it wakes waiters in FIFO order and ignores the concurrency value — so watch what the trace shows.
// What the extra workers cost: on Windows, by that LIFO rule, the most recent waiter takes the next packet and the
// others sleep until one blocks; under Wine's FIFO every packet wakes another worker — measured with `socklab
// compare --scenario cost`: 8.3 wineserver requests per echo with 1 worker, 10.5 with 2, 13.6 with 4 (before
// skip-on-success, section send).
//
// Limits, honestly: accept() is still a blocking call on one thread, so connection set-up is serial (the
// AcceptEx model fixes that). One receive is outstanding per connection, which keeps replies in order without
// further locking but caps each connection's throughput at one buffer per round trip.

#include <mutex>
#include <string>
#include <vector>

#include "common/trace/recorder.h"
#include "common/win/connection.h"
#include "common/win/ifs_handles.h"
#include "common/win/overlapped_steps.h"
#include "models/model.h"

namespace socklab::models {
namespace {

using trace::CloseReason;
using trace::IoOp;
using trace::WaitOn;
using trace::Wake;

// SECTION: state
//
// One Connection per client; the completion key of its socket. Its lock guards its state (here and in
// win::OverlappedConnection) and is held while an I/O is started, so that the socket cannot be closed in the middle
// of a WSARecv or WSASend. The steps below marked "locked" are called with it held.
struct Connection : win::OverlappedConnection {
    using OverlappedConnection::OverlappedConnection;
    win::Lock lock;  // an SRWLOCK (win::Lock says what a std::mutex would cost here)
};
using IoRequest = win::IoRequest<Connection>;

struct Server : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    HANDLE port = nullptr;
    SOCKET listener = INVALID_SOCKET;
    win::ConnectionTable<Connection> table;
    win::LiveConnections live;
    std::atomic<std::uint32_t> next_io_id{1};

    Server(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("iocp"); }
};

void dispatch(Server& server, Connection& connection, IoRequest* request, DWORD bytes, DWORD error);
bool start_receive(Server& server, Connection& connection);
void queue_send(Server& server, Connection& connection, std::string_view bytes);
void close_connection(Connection& connection, CloseReason reason);
void finish_io(Server& server, Connection& connection, IoRequest* request);

// SECTION: listen
//
// The acceptor: a blocking accept() loop (win::accept_each_client) on the run thread. Each new socket is associated
// with the completion port, with its Connection as the completion key, and gets its first overlapped receive.
void accept_clients(Server& server) {
    win::accept_each_client(server.listener, server.control, [&](SOCKET client, std::uint16_t peer_port) {
        auto* connection = new Connection(server, server.options.max_line, client, peer_port);
        // LESSON: associate
        if (CreateIoCompletionPort(reinterpret_cast<HANDLE>(client), server.port,
                                   reinterpret_cast<ULONG_PTR>(connection), 0) == nullptr) {
            win::report_error("CreateIoCompletionPort", GetLastError(), connection->id);
            win::close_socket(connection->socket);
            delete connection;
            return;
        }
        // LESSON: skip-on-success
        connection->no_packet_on_success =
            win::every_provider_returns_ifs_handles() &&
            SetFileCompletionNotificationModes(reinterpret_cast<HANDLE>(client), FILE_SKIP_COMPLETION_PORT_ON_SUCCESS);
        server.live.opened();
        server.table.add(connection);
        win::record_opened(server, *connection);

        std::unique_lock lock(connection->lock);
        if (!start_receive(server, *connection)) {
            lock.unlock();
            finish_io(server, *connection, nullptr);  // nothing in flight: free it now
        }
    });
}

// SECTION: wait
//
// A worker: wait on the port for one packet, handle it, wait again. The packet says which connection
// (the completion key), which I/O (the OVERLAPPED) and how many bytes it moved.
// LESSON: wait
DWORD WINAPI worker_main(LPVOID parameter) {
    Server& server = *static_cast<Server*>(parameter);
    trace::name_thread("worker");
    for (;;) {
        DWORD bytes = 0;
        ULONG_PTR key = 0;
        OVERLAPPED* overlapped = nullptr;
        TRACE(wait_begin, 0, WaitOn::completion_port, 0, 0);
        BOOL ok = GetQueuedCompletionStatus(server.port, &bytes, &key, &overlapped, INFINITE);
        DWORD error = ok ? 0 : GetLastError();
        if (overlapped == nullptr) {
            // No I/O came back: either our shutdown packet (key 0) or the port itself failed.
            TRACE(wait_end, 0, ok ? Wake::stop : Wake::error, 0, error);
            if (!ok) win::wait_failed("GetQueuedCompletionStatus", error, server.control);
            break;
        }
        // LESSON: containing-record
        IoRequest* request = CONTAINING_RECORD(overlapped, IoRequest, overlapped);
        auto* connection = reinterpret_cast<Connection*>(key);
        TRACE(wait_end, connection->id, ok ? Wake::completion : Wake::failed_completion, bytes, error);
        win::packet_taken(server.port, connection->id, request->id);
        dispatch(server, *connection, request, bytes, error);
        win::sample_queue_depth_going_idle(server.port);
    }
    trace::thread_exiting();
    return 0;
}

// SECTION: dispatch
//
// One completion, one step of a connection's life (win::complete): a receive feeds the session and starts the
// next receive; a send finishes, or continues if partial; a failure ends the connection. The model's own part:
// what the error in the packet means.
void dispatch(Server& server, Connection& connection, IoRequest* request, DWORD bytes, DWORD error) {
    TRACE(io_completed, connection.id, request->operation, bytes, error);
    // ERROR_NETNAME_DELETED: the client reset the connection. ERROR_OPERATION_ABORTED: we closed the socket
    // (teardown, or a close while this I/O was in flight). Either way the I/O is over.
    CloseReason failed = error == 0 ? CloseReason::none : CloseReason::reset;
    if (error == ERROR_OPERATION_ABORTED) failed = CloseReason::server_stopping;
    win::complete(server, connection, request, bytes, failed);
}

// SECTION: send
//
// One receive is kept in flight per connection. Replies and broadcasts are appended to the connection's send
// queue, and at most one WSASend is in flight, so bytes leave in the order they were queued. WSARecv and WSASend
// return 0 (done already) or SOCKET_ERROR with WSA_IO_PENDING (in progress): either way, its packet is queued —
// unless the I/O was done already on a socket with skip-on-success: then no packet comes. Such a send is finished
// by the thread that started it, which saves its packet and the wake of a second worker; such a receive is posted
// to the port by the model, so that its session runs where every receive's runs: in a worker, unlocked. Anything
// else is a real error, and then nothing will ever come back for that request: it is freed on the spot. Both
// starters are locked.
// LESSON: post-receive
bool start_receive(Server& server, Connection& connection) {
    if (connection.closed) return false;
    auto* request = new IoRequest(IoOp::receive, server.next_io_id++, &connection);
    DWORD flags = 0, received = 0;
    TRACE(io_posted, connection.id, IoOp::receive, request->buffer.len, request->id);
    int result = WSARecv(connection.socket, &request->buffer, 1, &received, &flags, &request->overlapped, nullptr);
    if (result == 0 && connection.no_packet_on_success &&
        !PostQueuedCompletionStatus(server.port, received, reinterpret_cast<ULONG_PTR>(&connection),
                                    &request->overlapped))
        result = SOCKET_ERROR;  // its bytes are lost with it: the connection closes below
    if (result == SOCKET_ERROR && WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSARecv", error, connection.id);
        delete request;
        close_connection(connection, win::close_reason_for(error));
        return false;
    }
    ++connection.io_in_flight;
    return true;
}

// LESSON: post-send
void queue_send(Server& server, Connection& connection, std::string_view bytes) {
    if (connection.closed) return;
    connection.send_queue.append(bytes);
    if (connection.send_in_flight || connection.send_queue.empty()) return;
    auto* request = new IoRequest(IoOp::send, server.next_io_id++, &connection);  // takes the whole queue
    DWORD sent = 0;
    TRACE(io_posted, connection.id, IoOp::send, request->buffer.len, request->id);
    int result = WSASend(connection.socket, &request->buffer, 1, &sent, 0, &request->overlapped, nullptr);
    if (result == SOCKET_ERROR && WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSASend", error, connection.id);
        delete request;
        close_connection(connection, win::close_reason_for(error));
        return;
    }
    if (result == 0 && connection.no_packet_on_success) {  // done at once: what follows its packet, here
        if (win::sent_at_once(server, connection, request, sent)) queue_send(server, connection, {});
        return;
    }
    connection.send_in_flight = true;
    ++connection.io_in_flight;
}

std::size_t Server::broadcast(std::uint32_t from, std::string_view message) {
    return win::queue_to_all(*this, table, from, message);
}

// SECTION: teardown
//
// Closing a socket makes every I/O still in flight on it complete with ERROR_OPERATION_ABORTED; their packets
// still arrive, and only when the last one has been handled is the Connection freed. Shutdown therefore is:
// stop accepting, close every socket, wait until every Connection is gone, then tell the workers to exit.
// LESSON: close-cancels
void close_connection(Connection& connection, CloseReason reason) {  // locked
    if (!win::begin_close(connection, reason)) return;
    win::close_socket(connection.socket);
}

// Called once per completion handled (and once for a connection whose first receive could not start).
void finish_io(Server& server, Connection& connection, IoRequest* request) {
    if (!win::last_io_over(connection, request)) return;
    win::free_connection(server, server.table, connection);
    server.live.freed();
}

void shut_down(Server& server, std::vector<HANDLE>& workers) {
    win::close_all(server.table);
    server.live.wait_until_none();
    // Every connection is gone; the workers are idle on the port. One empty packet (key 0, no OVERLAPPED) each.
    for (std::size_t i = 0; i < workers.size(); ++i)
        PostQueuedCompletionStatus(server.port, 0, 0, nullptr);  // LESSON: shutdown-packets
    win::join_threads(workers);  // in chunks: one WaitForMultipleObjects takes at most 64 handles
    win::record_final_queue_depth(server.port);
    CloseHandle(server.port);
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    Server server(options, control);
    unsigned processors = win::processor_count();
    // LESSON: create-port
    server.port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, options.concurrency);
    if (server.port == nullptr) {
        win::report_error("CreateIoCompletionPort", GetLastError());
        control.report_failed();
        return 1;
    }
    std::vector<HANDLE> workers;
    if (!win::start_threads(options.workers ? options.workers : 2 * processors, worker_main, &server, workers)) {
        CloseHandle(server.port);
        control.report_failed();
        return 1;
    }
    int failed = win::run_acceptor(
        "iocp", options, control, server.listener, [&] { accept_clients(server); },
        options.concurrency ? options.concurrency : processors);
    shut_down(server, workers);
    trace::thread_exiting();
    return failed;
}

}  // namespace

int run_iocp(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
