// models/05_completion_routine.cpp — overlapped WSARecv/WSASend with completion routines, run as APCs.

// SECTION: abstract
//
// How the network reaches the code: as calls. Every overlapped WSARecv or WSASend is started with a completion
// routine. When the kernel has finished the I/O it does not signal anything: it queues an asynchronous procedure
// call (APC) to the thread that STARTED the I/O, and that thread runs the routine — but only while it sits in an
// alertable wait (SleepEx, WSAWaitForMultipleEvents, WaitForSingleObjectEx... with alertable TRUE). The wait
// returns WAIT_IO_COMPLETION once the queued routines have run. Outside an alertable wait, routines wait.
//
// Where state lives: per socket, a Connection (socket, session, send queue, count of I/O in flight); per I/O,
// an IoRequest (the OVERLAPPED, the buffer, what kind of I/O it was), allocated when the I/O starts and freed
// when its routine has run — never earlier, because the kernel writes into it until then. The routine gets the
// OVERLAPPED back and CONTAINING_RECORD turns it into the IoRequest around it (hEvent is unused here).
//
// Threads: one acceptor blocked in accept(), and one I/O thread that starts every I/O and so runs every routine.
// Since only the issuing thread runs a routine, accepted sockets must reach the I/O thread before their first
// WSARecv: the acceptor hands each one over with QueueUserAPC, an APC like the completions. The I/O thread does
// nothing but wait alertably; connections, completions and the order to stop all arrive as APCs. Everything a
// connection owns is touched by that one thread only, so connections need no lock.
//
// Limits, honestly: there is no 64 limit here — the thread waits on no handle per I/O, the kernel simply queues
// one APC per completion, so one thread holds thousands of connections. The limit is that thread: one CPU's
// worth of work, and a /work that blocks stalls every client. A thread pool of alertable threads is possible
// (each owning the connections it accepted), but balancing them is left to the completion port (06), which does
// exactly that.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/trace/recorder.h"
#include "models/model.h"

namespace socklab::models {
namespace {

using trace::CloseReason;
using trace::IoOp;
using trace::WaitOn;
using trace::Wake;

constexpr std::size_t kReceiveBufferSize = 4096;
constexpr std::size_t kMaxDrainBytes = 64 * 1024;  // what we read and discard while closing politely

// SECTION: state
//
// One IoRequest per overlapped operation in flight. The routine gets the OVERLAPPED back, and CONTAINING_RECORD
// turns it into the IoRequest around it.
struct Connection;
struct CompletionRoutineServer;

struct IoRequest : win::CountedIoObject<IoRequest> {
    OVERLAPPED overlapped{};
    IoOp operation = IoOp::none;
    std::uint32_t id = 0;  // names the I/O in traces: io_posted → apc_run
    Connection* connection = nullptr;
    std::string data;  // receive: the buffer; send: the bytes being sent
    WSABUF buffer{};
};

// One Connection per client. Created by the acceptor, then touched by the I/O thread only: no lock.
struct Connection {
    std::uint32_t id = 0;
    std::uint16_t peer_port = 0;
    CompletionRoutineServer* server = nullptr;
    protocol::Session session;
    SOCKET socket = INVALID_SOCKET;  // INVALID_SOCKET once closed
    int io_in_flight = 0;            // the Connection is freed when this is 0 and the socket is closed
    std::string send_queue;          // bytes waiting for the send in flight to finish
    bool send_in_flight = false;
    bool close_when_sent = false;  // the session asked to close once its replies are out
    bool peer_finished = false;    // the client closed its side (recv returned 0)
    bool draining = false;         // we said goodbye (shutdown SD_SEND); discarding what still arrives
    bool reading_paused = false;   // no receive posted because the send queue is full (back-pressure)
    std::size_t drained_bytes = 0;
    CloseReason reason = CloseReason::none;

    Connection(std::uint32_t connection_id, protocol::SessionHost& host, std::size_t max_line)
        : id(connection_id), session(connection_id, host, max_line) {}
};

struct CompletionRoutineServer : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    SOCKET listener = INVALID_SOCKET;
    HANDLE io_thread = nullptr;
    DWORD io_thread_id = 0;
    win::ConnectionTable<Connection> table;
    std::uint32_t next_io_id = 1;    // I/O thread only
    unsigned connections_alive = 0;  // I/O thread only: the thread exits when stopping and this is 0
    bool stopping = false;           // I/O thread only

    CompletionRoutineServer(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("completion-routine"); }
};

void start_receive(CompletionRoutineServer& server, Connection& connection);
void queue_send(CompletionRoutineServer& server, Connection& connection, std::string_view bytes);
void close_connection(Connection& connection, CloseReason reason);
void finish_io(CompletionRoutineServer& server, Connection& connection, IoRequest* request);

// SECTION: listen
//
// The acceptor: a blocking accept() loop on the run thread. It must not start the first WSARecv itself — its
// routine would then be queued to the acceptor, which never waits alertably. It queues an APC to the I/O thread
// instead, carrying the new Connection; the APC runs there, in the alertable wait, and starts the receive.
VOID CALLBACK on_stop_requested(PVOID context, BOOLEAN /*timed_out*/) {
    auto* server = static_cast<CompletionRoutineServer*>(context);
    win::wake_blocked_accept(server->listener);  // accept() returns; the acceptor sees the stop
}

// Runs on the I/O thread, as an APC: a connection handed over by the acceptor.
VOID CALLBACK on_connection_arrived(ULONG_PTR parameter) {
    auto* connection = reinterpret_cast<Connection*>(parameter);
    CompletionRoutineServer& server = *connection->server;
    TRACE(apc_run, connection->id, IoOp::accept, 0, 0);
    trace::gate_point(connection->id);
    ++server.connections_alive;
    server.table.add(connection->id, connection);
    if (server.stopping) close_connection(*connection, CloseReason::server_stopping);
    else start_receive(server, *connection);  // LESSON: completion-routine-first-receive
    if (connection->io_in_flight == 0) finish_io(server, *connection, nullptr);  // nothing in flight: free it now
}

void accept_clients(CompletionRoutineServer& server) {
    for (;;) {
        sockaddr_in peer{};
        int peer_length = sizeof peer;
        TRACE(wait_begin, 0, WaitOn::accept, 0, 0);
        SOCKET client = accept(server.listener, reinterpret_cast<sockaddr*>(&peer), &peer_length);
        int error = client == INVALID_SOCKET ? WSAGetLastError() : 0;
        if (server.control.stop_requested()) {  // woken by on_stop_requested (or a client that came just too late)
            TRACE(wait_end, 0, Wake::stop, 0, error);
            if (client != INVALID_SOCKET) closesocket(client);
            return;
        }
        if (client == INVALID_SOCKET) {
            TRACE(wait_end, 0, Wake::error, 0, error);
            win::after_failed_accept(error);  // a client that left before accept(): next at once; else report, pause
            continue;
        }
        TRACE(wait_end, 0, Wake::ready, 0, 0);
        trace::gate_point(0);
        win::track_socket(client);
        // Replies are small lines, and a client often gets two in a row (someone's broadcast, then its own reply).
        // Nagle's algorithm would hold the second until the first is acknowledged, and the client delays that ACK by
        // up to 40 ms: every such reply would stall. TCP_NODELAY sends each one at once.
        BOOL no_delay = TRUE;
        if (setsockopt(client, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&no_delay), sizeof no_delay) ==
            SOCKET_ERROR)
            win::report_error("setsockopt(TCP_NODELAY)", WSAGetLastError());  // slower replies, still correct: carry on

        auto* connection = new Connection(win::next_connection_id(), server, server.options.max_line);
        win::accounting().connections.fetch_add(1);
        connection->server = &server;
        connection->socket = client;
        connection->peer_port = ntohs(peer.sin_port);
        server.counters.connection_opened();
        TRACE(connection_open, connection->id, 0, connection->peer_port, 0);
        // LESSON: completion-routine-hand-over
        if (QueueUserAPC(on_connection_arrived, server.io_thread, reinterpret_cast<ULONG_PTR>(connection)) == 0) {
            win::report_error("QueueUserAPC", GetLastError(), connection->id);
            win::close_socket(connection->socket);
            TRACE(connection_close, connection->id, CloseReason::error, 0, 0);
            server.counters.connection_closed();
            delete connection;
            win::accounting().connections.fetch_sub(1);
        }
    }
}

// SECTION: wait
//
// The I/O thread: wait alertably, forever, until told to stop and every connection is gone. It never learns
// which routine ran from the wait's result — the routines ran inside the wait, before it returned.
DWORD WINAPI io_thread_main(LPVOID parameter) {
    CompletionRoutineServer& server = *static_cast<CompletionRoutineServer*>(parameter);
    trace::name_thread("io");
    while (!(server.stopping && server.connections_alive == 0)) {
        TRACE(wait_begin, 0, WaitOn::alertable, 0, 0);
        // LESSON: completion-routine-alertable-wait
        DWORD result = SleepEx(INFINITE, TRUE);
        // WAIT_IO_COMPLETION: one or more APCs (completion routines, hand-overs, the stop order) have run.
        TRACE(wait_end, 0, result == WAIT_IO_COMPLETION ? Wake::apc : Wake::timeout, result, 0);
    }
    trace::thread_exiting();
    return 0;
}

// SECTION: dispatch
//
// The completion routine: called by the kernel's APC on the I/O thread, inside SleepEx, with the I/O's result.
// A receive feeds the session and starts the next receive; a send finishes (or continues, if partial) and starts
// the next queued one. An error ends the connection.
void on_received(CompletionRoutineServer& server, Connection& connection, IoRequest* request, DWORD bytes);
void on_sent(CompletionRoutineServer& server, Connection& connection, IoRequest* request, DWORD bytes);

// LESSON: completion-routine-routine
void CALLBACK io_completed(DWORD error, DWORD bytes, LPWSAOVERLAPPED overlapped, DWORD /*flags*/) {
    IoRequest* request = CONTAINING_RECORD(overlapped, IoRequest, overlapped);
    Connection& connection = *request->connection;
    CompletionRoutineServer& server = *connection.server;
    TRACE(apc_run, connection.id, request->operation, bytes, request->id);
    // The rule the whole model rests on, checked rather than trusted: only the issuing thread runs a routine.
    if (GetCurrentThreadId() != server.io_thread_id) {
        std::fprintf(stderr, "socklab-server: a completion routine ran on a thread that did not start its I/O\n");
        std::abort();
    }
    trace::gate_point(connection.id);
    TRACE(io_completed, connection.id, request->operation, bytes, error);
    if (error != 0) {
        // WSA_OPERATION_ABORTED: we closed the socket (teardown, or a close while this I/O was in flight).
        // WSAECONNRESET: the client reset the connection. Either way the I/O is over; free it.
        close_connection(connection,
                         error == WSA_OPERATION_ABORTED ? CloseReason::server_stopping : CloseReason::reset);
        finish_io(server, connection, request);  // LESSON: completion-routine-free-after-completion
        return;
    }
    if (request->operation == IoOp::receive) on_received(server, connection, request, bytes);
    else on_sent(server, connection, request, bytes);
}

void on_received(CompletionRoutineServer& server, Connection& connection, IoRequest* request, DWORD bytes) {
    std::string replies;
    protocol::Session::Verdict verdict = protocol::Session::Verdict::keep_open;
    bool draining = connection.draining || connection.close_when_sent;
    if (bytes == 0) {
        if (!draining) verdict = connection.session.on_peer_closed(replies);  // LESSON: completion-routine-peer-closed
        connection.peer_finished = true;
        connection.close_when_sent = true;
        if (connection.reason == CloseReason::none) connection.reason = CloseReason::peer_closed;
    } else if (!draining) {
        server.counters.bytes_in.fetch_add(bytes, std::memory_order_relaxed);
        verdict = connection.session.on_receive(request->data.data(), bytes, replies);
    } else {
        connection.drained_bytes += bytes;
        if (connection.drained_bytes > kMaxDrainBytes) close_connection(connection, connection.reason);
    }
    if (verdict == protocol::Session::Verdict::close_after_replies && !connection.close_when_sent) {
        connection.close_when_sent = true;
        connection.reason = connection.session.close_reason();
    }
    if (!replies.empty()) queue_send(server, connection, replies);
    if (connection.close_when_sent && !connection.send_in_flight && connection.socket != INVALID_SOCKET) {
        if (connection.peer_finished) {
            close_connection(connection, connection.reason);
        } else if (!connection.draining) {
            shutdown(connection.socket, SD_SEND);  // goodbye said; read until the client closes too
            connection.draining = true;
        }
    }
    // Keep one receive in flight while the client may still send, even when closing: a close with unread
    // bytes resets the connection, and the reset can destroy the last reply before the client reads it. But
    // not while replies pile up for a client that does not read them (back-pressure, model.h): on_sent reads
    // again once they have gone.
    if (connection.send_queue.size() >= kMaxQueuedBytes) connection.reading_paused = true;
    else if (!connection.peer_finished) start_receive(server, connection);
    finish_io(server, connection, request);
}

void on_sent(CompletionRoutineServer& server, Connection& connection, IoRequest* request, DWORD bytes) {
    server.counters.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    if (bytes < request->data.size() && connection.socket != INVALID_SOCKET) {
        // A partial send: the unsent rest goes back to the front of the queue, ahead of anything queued since.
        connection.send_queue.insert(0, request->data, bytes);  // LESSON: completion-routine-partial-send
    }
    connection.send_in_flight = false;
    if (!connection.send_queue.empty()) {
        queue_send(server, connection, {});
    } else if (connection.close_when_sent && connection.socket != INVALID_SOCKET) {
        if (connection.peer_finished) {
            close_connection(connection, connection.reason);
        } else if (!connection.draining) {
            shutdown(connection.socket, SD_SEND);
            connection.draining = true;
        }
    }
    if (connection.reading_paused && connection.send_queue.size() < kMaxQueuedBytes) {
        connection.reading_paused = false;  // the replies have gone: read from this client again
        start_receive(server, connection);
    }
    finish_io(server, connection, request);
}

// SECTION: send
//
// Replies and broadcasts are appended to the connection's send queue; at most one WSASend is in flight, so bytes
// leave in the order they were queued. With a completion routine, WSASend returns 0 (done already — the routine
// is queued anyway) or SOCKET_ERROR with WSA_IO_PENDING (in progress). Anything else is a real error, and then no
// routine will ever run for that request: it is freed on the spot.
void start_receive(CompletionRoutineServer& server, Connection& connection) {
    if (connection.socket == INVALID_SOCKET) return;
    auto* request = new IoRequest;
    request->operation = IoOp::receive;
    request->id = server.next_io_id++;
    request->connection = &connection;
    request->data.resize(kReceiveBufferSize);
    request->buffer.buf = request->data.data();
    request->buffer.len = static_cast<ULONG>(request->data.size());
    DWORD flags = 0;
    TRACE(io_posted, connection.id, IoOp::receive, request->buffer.len, request->id);
    // LESSON: completion-routine-post-receive
    if (WSARecv(connection.socket, &request->buffer, 1, nullptr, &flags, &request->overlapped, io_completed) ==
            SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSARecv", error, connection.id);
        delete request;
        close_connection(connection, error == WSAECONNRESET ? CloseReason::reset : CloseReason::error);
        return;
    }
    ++connection.io_in_flight;
}

void queue_send(CompletionRoutineServer& server, Connection& connection, std::string_view bytes) {
    if (connection.socket == INVALID_SOCKET) return;
    connection.send_queue.append(bytes);
    if (connection.send_in_flight || connection.send_queue.empty()) return;

    auto* request = new IoRequest;
    request->operation = IoOp::send;
    request->id = server.next_io_id++;
    request->connection = &connection;
    request->data.swap(connection.send_queue);
    request->buffer.buf = request->data.data();
    request->buffer.len = static_cast<ULONG>(request->data.size());
    TRACE(io_posted, connection.id, IoOp::send, request->buffer.len, request->id);
    // LESSON: completion-routine-post-send
    if (WSASend(connection.socket, &request->buffer, 1, nullptr, 0, &request->overlapped, io_completed) ==
            SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSASend", error, connection.id);
        delete request;
        close_connection(connection, error == WSAECONNRESET ? CloseReason::reset : CloseReason::error);
        return;
    }
    connection.send_in_flight = true;
    ++connection.io_in_flight;
}

// Runs inside a session, so on the I/O thread: the WSASend it may start has its routine queued to this thread,
// as it must.
std::size_t CompletionRoutineServer::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        if (other->socket == INVALID_SOCKET || other->close_when_sent) return false;
        queue_send(*this, *other, message);
        return true;
    });
}

// SECTION: teardown
//
// Closing a socket makes every I/O still in flight on it complete with WSA_OPERATION_ABORTED; their routines
// still run (on this thread, in its next alertable wait), and only when the last one has run is the Connection
// freed. Shutdown is one more APC: the run thread, once accepting has stopped, queues the stop order to the I/O
// thread, which closes every socket and keeps waiting alertably until every routine has come back.
void close_connection(Connection& connection, CloseReason reason) {
    if (connection.socket == INVALID_SOCKET) return;
    if (connection.reason == CloseReason::none || reason == CloseReason::reset) connection.reason = reason;
    win::close_socket(connection.socket);  // LESSON: completion-routine-close-cancels
    connection.send_queue.clear();
}

// Called once per routine that ran (and once for a connection that never got an I/O started).
void finish_io(CompletionRoutineServer& server, Connection& connection, IoRequest* request) {
    if (request) --connection.io_in_flight;
    delete request;
    if (connection.io_in_flight > 0) return;
    // Nothing in flight: nothing will ever call us about this connection again. Close it if still open.
    close_connection(connection, connection.reason == CloseReason::none ? CloseReason::error : connection.reason);
    server.table.remove(connection.id);
    TRACE(connection_close, connection.id, connection.reason, 0, 0);
    server.counters.connection_closed();
    delete &connection;
    win::accounting().connections.fetch_sub(1);
    --server.connections_alive;
}

// Runs on the I/O thread, as an APC queued by the run thread after the acceptor stopped.
VOID CALLBACK on_stop(ULONG_PTR parameter) {
    auto* server = reinterpret_cast<CompletionRoutineServer*>(parameter);
    TRACE(apc_run, 0, IoOp::none, 0, 0);
    server->stopping = true;
    server->table.for_each_except(0, [](Connection* connection) {
        close_connection(*connection, CloseReason::server_stopping);  // LESSON: completion-routine-teardown
        return true;
    });
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    CompletionRoutineServer server(options, control);
    std::uint16_t port_number = 0;
    server.listener = win::create_listener(options, port_number);
    if (server.listener == INVALID_SOCKET) {
        control.report_failed();
        return 1;
    }
    server.io_thread = CreateThread(nullptr, 0, io_thread_main, &server, 0, &server.io_thread_id);
    if (server.io_thread == nullptr) {
        win::report_error("CreateThread", GetLastError());
        closesocket(server.listener);
        control.report_failed();
        return 1;
    }
    win::accounting().threads.fetch_add(1);
    trace::name_thread("acceptor");
    win::announce_server("completion-routine", 0);
    HANDLE stop_wait = nullptr;
    RegisterWaitForSingleObject(&stop_wait, control.stop_event(), on_stop_requested, &server, INFINITE,
                                WT_EXECUTEONLYONCE);
    control.report_ready(port_number);

    accept_clients(server);

    UnregisterWaitEx(stop_wait, INVALID_HANDLE_VALUE);  // waits for the callback if it is running
    closesocket(server.listener);  // the acceptor has returned and the callback has finished: nobody uses it
    // Every hand-over APC was queued before this one, and APCs run in order: the stop order comes last.
    if (QueueUserAPC(on_stop, server.io_thread, reinterpret_cast<ULONG_PTR>(&server)) == 0)
        win::report_error("QueueUserAPC", GetLastError());  // cannot happen while the thread lives
    WaitForSingleObject(server.io_thread, INFINITE);
    CloseHandle(server.io_thread);
    win::accounting().threads.fetch_sub(1);
    trace::thread_exiting();
    return 0;
}

}  // namespace

int run_completion_routine(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
