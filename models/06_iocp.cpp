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
//
// Limits, honestly: accept() is still a blocking call on one thread, so connection set-up is serial (the
// AcceptEx model fixes that). One receive is outstanding per connection, which keeps replies in order without
// further locking but caps each connection's throughput at one buffer per round trip.

#include <mutex>
#include <string>
#include <vector>

#include "common/trace/recorder.h"
#include "common/win/connection.h"
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
// ConnectionBase) and is held while an I/O is started, so that the socket cannot be closed in the middle of a
// WSARecv or WSASend. The steps below marked "locked" are called with it held.
struct Connection : win::ConnectionBase {
    using ConnectionBase::ConnectionBase;
    std::mutex lock;
    int io_in_flight = 0;         // freed when this is 0 and the socket is closed
    bool send_in_flight = false;  // at most one WSASend at a time, so bytes leave in order
    bool reading_paused = false;  // no receive posted because the send queue is full (back-pressure)
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
        // LESSON: iocp-associate
        if (CreateIoCompletionPort(reinterpret_cast<HANDLE>(client), server.port,
                                   reinterpret_cast<ULONG_PTR>(connection), 0) == nullptr) {
            win::report_error("CreateIoCompletionPort", GetLastError(), connection->id);
            win::close_socket(connection->socket);
            delete connection;
            return;
        }
        server.live.opened();
        server.table.add(connection->id, connection);
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
void dispatch(Server& server, Connection& connection, IoRequest* request, DWORD bytes, DWORD error);

DWORD WINAPI worker_main(LPVOID parameter) {
    Server& server = *static_cast<Server*>(parameter);
    trace::name_thread("worker");
    for (;;) {
        DWORD bytes = 0;
        ULONG_PTR key = 0;
        OVERLAPPED* overlapped = nullptr;
        TRACE(wait_begin, 0, WaitOn::completion_port, 0, 0);
        // LESSON: iocp-wait
        BOOL ok = GetQueuedCompletionStatus(server.port, &bytes, &key, &overlapped, INFINITE);
        DWORD error = ok ? 0 : GetLastError();
        if (overlapped == nullptr) {
            // No I/O came back: either our shutdown packet (key 0) or the port itself failed.
            TRACE(wait_end, 0, ok ? Wake::stop : Wake::error, 0, error);
            if (!ok) win::wait_failed("GetQueuedCompletionStatus", error, server.control);
            break;
        }
        // LESSON: iocp-containing-record
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
// One packet, one step of a connection's life. A receive feeds the session and starts the next receive; a
// send finishes (or continues, if partial) and starts the next queued one. An error ends the connection.
void on_received(Server& server, Connection& connection, IoRequest* request, DWORD bytes);
void on_sent(Server& server, Connection& connection, IoRequest* request, DWORD bytes);
void drain(Connection& connection);

void dispatch(Server& server, Connection& connection, IoRequest* request, DWORD bytes, DWORD error) {
    TRACE(io_completed, connection.id, request->operation, bytes, error);
    if (error != 0) {
        // ERROR_NETNAME_DELETED: the client reset the connection. ERROR_OPERATION_ABORTED: we closed the socket
        // (teardown, or a close while this I/O was in flight). Either way the I/O is over; free it.
        std::unique_lock lock(connection.lock);
        close_connection(connection,
                         error == ERROR_OPERATION_ABORTED ? CloseReason::server_stopping : CloseReason::reset);
        lock.unlock();
        finish_io(server, connection, request);
        return;
    }
    if (request->operation == IoOp::receive) on_received(server, connection, request, bytes);
    else on_sent(server, connection, request, bytes);
}

void on_received(Server& server, Connection& connection, IoRequest* request, DWORD bytes) {
    std::string replies;
    bool closing;
    {
        std::lock_guard lock(connection.lock);
        closing = connection.closing();
    }
    // The session runs without the connection's lock, because of the lock order (models/README.md): a /all in
    // it takes the table's lock and then every other connection's, so a worker holding this lock while another
    // holds the table's and waits for this one would deadlock. It is safe: only this worker touches the session,
    // since one receive at a time is in flight per connection. (A /work here may block; others carry on.)
    auto verdict = win::run_session(connection, server, closing, request->data.data(), bytes, replies);

    std::unique_lock lock(connection.lock);
    if (win::note_received(connection, bytes, verdict)) close_connection(connection, connection.reason);
    if (!replies.empty()) queue_send(server, connection, replies);
    drain(connection);
    // Keep one receive in flight while the client may still send, even when closing: a close with unread
    // bytes resets the connection, and the reset can destroy the last reply before the client reads it. But
    // not while replies pile up for a client that does not read them (back-pressure, model.h): on_sent reads
    // again once they have gone.
    if (connection.send_queue.size() >= kMaxQueuedBytes) connection.reading_paused = true;
    else if (!connection.peer_finished) start_receive(server, connection);
    lock.unlock();
    finish_io(server, connection, request);
}

void on_sent(Server& server, Connection& connection, IoRequest* request, DWORD bytes) {
    server.counters.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    std::unique_lock lock(connection.lock);
    if (bytes < request->data.size() && connection.socket != INVALID_SOCKET) {
        // A partial send: the unsent rest goes back to the front of the queue, ahead of anything queued since.
        connection.send_queue.insert(0, request->data, bytes);  // LESSON: iocp-partial-send
    }
    connection.send_in_flight = false;
    queue_send(server, connection, {});
    drain(connection);
    if (connection.reading_paused && connection.send_queue.size() < kMaxQueuedBytes) {
        connection.reading_paused = false;  // the replies have gone: read from this client again
        start_receive(server, connection);
    }
    lock.unlock();
    finish_io(server, connection, request);
}

// Locked. Once every reply is out: close, or say goodbye and drain (win::say_goodbye).
void drain(Connection& connection) {
    if (!connection.send_in_flight && win::say_goodbye(connection)) close_connection(connection, connection.reason);
}

// SECTION: send
//
// Both starters are locked. One receive is kept in flight per connection. Replies and broadcasts are appended
// to the connection's send queue, and at most one WSASend is in flight, so bytes leave in the order they were
// queued. WSARecv and WSASend on an overlapped socket return at once: 0 (done already — the packet is queued
// anyway) or SOCKET_ERROR with WSA_IO_PENDING (in progress). Anything else is a real error, and then no packet
// will come for that request: it is freed on the spot.
bool start_receive(Server& server, Connection& connection) {
    if (connection.socket == INVALID_SOCKET) return false;
    auto* request = new IoRequest(IoOp::receive, server.next_io_id++, &connection);
    DWORD flags = 0;
    TRACE(io_posted, connection.id, IoOp::receive, request->buffer.len, request->id);
    // LESSON: iocp-post-receive
    if (WSARecv(connection.socket, &request->buffer, 1, nullptr, &flags, &request->overlapped, nullptr) ==
            SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSARecv", error, connection.id);
        delete request;
        close_connection(connection, win::close_reason_for(error));
        return false;
    }
    ++connection.io_in_flight;
    return true;
}

void queue_send(Server& server, Connection& connection, std::string_view bytes) {
    if (connection.socket == INVALID_SOCKET) return;
    connection.send_queue.append(bytes);
    if (connection.send_in_flight || connection.send_queue.empty()) return;

    auto* request = new IoRequest(IoOp::send, server.next_io_id++, &connection);  // takes the whole queue
    TRACE(io_posted, connection.id, IoOp::send, request->buffer.len, request->id);
    // LESSON: iocp-post-send
    if (WSASend(connection.socket, &request->buffer, 1, nullptr, 0, &request->overlapped, nullptr) == SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSASend", error, connection.id);
        delete request;
        close_connection(connection, win::close_reason_for(error));
        return;
    }
    connection.send_in_flight = true;
    ++connection.io_in_flight;
}

std::size_t Server::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        std::lock_guard lock(other->lock);
        if (other->socket == INVALID_SOCKET || other->close_when_sent) return false;
        queue_send(*this, *other, message);
        return true;
    });
}

// SECTION: teardown
//
// Closing a socket makes every I/O still in flight on it complete with ERROR_OPERATION_ABORTED; their packets
// still arrive, and only when the last one has been handled is the Connection freed. Shutdown therefore is:
// stop accepting, close every socket, wait until every Connection is gone, then tell the workers to exit.
void close_connection(Connection& connection, CloseReason reason) {  // locked
    if (connection.socket == INVALID_SOCKET) return;
    win::note_close_reason(connection, reason);
    win::close_socket(connection.socket);  // LESSON: iocp-close-cancels
    connection.send_queue.clear();
}

// Called once per handled packet (and once for a connection whose first receive could not start).
void finish_io(Server& server, Connection& connection, IoRequest* request) {
    bool last;
    {
        std::lock_guard lock(connection.lock);
        if (request) --connection.io_in_flight;
        last = connection.io_in_flight == 0 && connection.socket == INVALID_SOCKET;
        // An open connection always has a receive or a send in flight (a paused reader has its send): else no
        // packet would ever come for it again, and nothing would close it.
        if (connection.io_in_flight == 0 && !last) win::broken_invariant("an open connection with no I/O in flight");
    }
    delete request;
    if (!last) return;
    // No packet can mention this connection any more: leave the table (so no broadcast reaches it) and free it.
    server.table.remove(connection.id);
    win::record_closed(server, connection);
    delete &connection;
    server.live.freed();
}

void shut_down(Server& server, std::vector<HANDLE>& workers) {
    server.table.for_each_except(0, [](Connection* connection) {
        std::lock_guard lock(connection->lock);
        close_connection(*connection, CloseReason::server_stopping);
        return true;
    });
    server.live.wait_until_none();
    // Every connection is gone; the workers are idle on the port. One empty packet (key 0, no OVERLAPPED) each.
    for (std::size_t i = 0; i < workers.size(); ++i)
        PostQueuedCompletionStatus(server.port, 0, 0, nullptr);  // LESSON: iocp-shutdown-packets
    win::join_threads(workers);  // in chunks: one WaitForMultipleObjects takes at most 64 handles
    win::record_final_queue_depth(server.port);
    CloseHandle(server.port);
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    Server server(options, control);
    unsigned processors = win::processor_count();
    // LESSON: iocp-create-port
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
