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

#include <string>
#include <vector>

#include "common/trace/recorder.h"
#include "common/win/connection.h"
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
// One Connection per client. Created by the acceptor, then touched by the I/O thread only: no lock. A routine is
// given nothing but the OVERLAPPED, so the connection knows its server.
struct Server;

struct Connection : win::OverlappedConnection {
    using OverlappedConnection::OverlappedConnection;
    win::NoLock lock;  // the I/O thread alone touches it
    Server* server = nullptr;
};
using IoRequest = win::IoRequest<Connection>;

struct Server : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    SOCKET listener = INVALID_SOCKET;
    HANDLE io_thread = nullptr;  // starts every I/O, so runs every routine
    DWORD io_thread_id = 0;      // known before the acceptor hands over its first connection (see run)
    win::ConnectionTable<Connection> table;
    std::uint32_t next_io_id = 1;    // I/O thread only
    unsigned connections_alive = 0;  // I/O thread only: the thread exits when stopping and this is 0
    bool stopping = false;           // I/O thread only

    Server(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("completion-routine"); }
};

void dispatch(Server& server, Connection& connection, IoRequest* request, DWORD bytes, DWORD error);
bool start_receive(Server& server, Connection& connection);
void queue_send(Server& server, Connection& connection, std::string_view bytes);
void close_connection(Connection& connection, CloseReason reason);
void finish_io(Server& server, Connection& connection, IoRequest* request);

// SECTION: listen
//
// The acceptor: a blocking accept() loop (win::accept_each_client) on the run thread. It must not start the first
// WSARecv itself — its routine would then be queued to the acceptor, which never waits alertably. It queues an APC
// to the I/O thread instead, carrying the new Connection; the APC runs there, in the alertable wait, and starts
// the receive.
VOID CALLBACK on_connection_arrived(ULONG_PTR parameter) {  // on the I/O thread, as an APC
    auto* connection = reinterpret_cast<Connection*>(parameter);
    Server& server = *connection->server;
    TRACE(apc_run, connection->id, IoOp::accept, 0, 0);
    trace::gate_point(connection->id);
    ++server.connections_alive;
    server.table.add(connection);
    // LESSON: first-receive
    if (!start_receive(server, *connection)) finish_io(server, *connection, nullptr);  // nothing in flight: free it
}

void accept_clients(Server& server) {
    win::accept_each_client(server.listener, server.control, [&](SOCKET client, std::uint16_t peer_port) {
        auto* connection = new Connection(server, server.options.max_line, client, peer_port);
        connection->server = &server;
        win::record_opened(server, *connection);
        // LESSON: hand-over
        if (QueueUserAPC(on_connection_arrived, server.io_thread, reinterpret_cast<ULONG_PTR>(connection)) == 0) {
            win::report_error("QueueUserAPC", GetLastError(), connection->id);
            win::close_socket(connection->socket);
            win::note_close_reason(*connection, CloseReason::error);
            win::record_closed(server, *connection);
            delete connection;
        }
    });
}

// SECTION: wait
//
// The I/O thread: wait alertably, forever, until told to stop and every connection is gone. It never learns
// which routine ran from the wait's result — the routines ran inside the wait, before it returned.
DWORD WINAPI io_main(LPVOID parameter) {
    Server& server = *static_cast<Server*>(parameter);
    trace::name_thread("io");
    while (!(server.stopping && server.connections_alive == 0)) {
        TRACE(wait_begin, 0, WaitOn::alertable, 0, 0);
        // LESSON: alertable-wait
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
// One completion, one step of a connection's life (win::complete): a receive feeds the session and starts the
// next receive; a send finishes, or continues if partial; a failure ends the connection. The model's own part:
// the routine, and what the error means.
// LESSON: routine
void CALLBACK io_completed(DWORD error, DWORD bytes, LPWSAOVERLAPPED overlapped, DWORD /*flags*/) {
    IoRequest* request = CONTAINING_RECORD(overlapped, IoRequest, overlapped);
    Connection& connection = *request->connection;
    Server& server = *connection.server;
    TRACE(apc_run, connection.id, request->operation, bytes, request->id);
    // The rule the whole model rests on, checked rather than trusted: only the issuing thread runs a routine.
    if (GetCurrentThreadId() != server.io_thread_id)
        win::broken_invariant("a completion routine ran on a thread that did not start its I/O");
    trace::gate_point(connection.id);
    dispatch(server, connection, request, bytes, error);
}

void dispatch(Server& server, Connection& connection, IoRequest* request, DWORD bytes, DWORD error) {
    TRACE(io_completed, connection.id, request->operation, bytes, error);
    // WSA_OPERATION_ABORTED: we closed the socket (teardown, or a close while this I/O was in flight). Otherwise
    // the receive or send failed (WSAECONNRESET: the client reset it). Either way the I/O is over.
    CloseReason failed = error == 0 ? CloseReason::none : win::close_reason_for(error);
    if (error == WSA_OPERATION_ABORTED) failed = CloseReason::server_stopping;
    win::complete(server, connection, request, bytes, failed);
}

// SECTION: send
//
// One receive is kept in flight per connection. Replies and broadcasts are appended to the connection's send
// queue, and at most one WSASend is in flight, so bytes leave in the order they were queued. WSARecv and WSASend
// return 0 (done already) or SOCKET_ERROR with WSA_IO_PENDING (in progress): either way, its routine will run.
// Anything else is a real error, and then nothing will ever come back for that request: it is freed on the spot.
// LESSON: post-receive
bool start_receive(Server& server, Connection& connection) {
    if (connection.closed) return false;
    auto* request = new IoRequest(IoOp::receive, server.next_io_id++, &connection);
    DWORD flags = 0;
    TRACE(io_posted, connection.id, IoOp::receive, request->buffer.len, request->id);
    if (WSARecv(connection.socket, &request->buffer, 1, nullptr, &flags, &request->overlapped, io_completed) ==
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

// LESSON: post-send
void queue_send(Server& server, Connection& connection, std::string_view bytes) {
    if (connection.closed) return;
    connection.send_queue.append(bytes);
    if (connection.send_in_flight || connection.send_queue.empty()) return;
    auto* request = new IoRequest(IoOp::send, server.next_io_id++, &connection);  // takes the whole queue
    TRACE(io_posted, connection.id, IoOp::send, request->buffer.len, request->id);
    if (WSASend(connection.socket, &request->buffer, 1, nullptr, 0, &request->overlapped, io_completed) ==
            SOCKET_ERROR &&
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

// Runs inside a session, so on the I/O thread: the WSASend it may start has its routine queued to this thread,
// as it must.
std::size_t Server::broadcast(std::uint32_t from, std::string_view message) {
    return win::queue_to_all(*this, table, from, message);
}

// SECTION: teardown
//
// Closing a socket makes every I/O still in flight on it complete with WSA_OPERATION_ABORTED; their routines
// still run (on this thread, in its next alertable wait), and only when the last one has run is the Connection
// freed. Shutdown is one more APC: the run thread, once accepting has stopped, queues the stop order to the I/O
// thread, which closes every socket and keeps waiting alertably until every routine has come back.
// LESSON: close-cancels
void close_connection(Connection& connection, CloseReason reason) {
    if (!win::begin_close(connection, reason)) return;
    win::close_socket(connection.socket);
}

// Called once per completion handled (and once for a connection whose first receive could not start).
// LESSON: free-after-completion
void finish_io(Server& server, Connection& connection, IoRequest* request) {
    if (!win::last_io_over(connection, request)) return;
    win::free_connection(server, server.table, connection);
    --server.connections_alive;
}

// The stop order, run on the I/O thread as an APC: every socket closes, and io_main waits on until the last
// routine has run and the last connection is freed.
// LESSON: teardown
VOID CALLBACK close_every_connection(ULONG_PTR parameter) {
    auto* server = reinterpret_cast<Server*>(parameter);
    TRACE(apc_run, 0, IoOp::none, 0, 0);
    server->stopping = true;
    win::close_all(server->table);
}

void shut_down(Server& server, std::vector<HANDLE>& threads) {
    // Every hand-over APC was queued before this one, and APCs run in order: the stop order comes last.
    if (QueueUserAPC(close_every_connection, server.io_thread, reinterpret_cast<ULONG_PTR>(&server)) == 0) {
        win::report_error("QueueUserAPC", GetLastError());
        win::broken_invariant("the I/O thread could never be stopped");
    }
    win::join_threads(threads);
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    Server server(options, control);
    std::vector<HANDLE> threads;
    if (!win::start_threads(1, io_main, &server, threads)) {
        control.report_failed();
        return 1;
    }
    server.io_thread = threads.front();
    // Taken here, not by the I/O thread at its start: "if an application queues an APC before the thread begins
    // running, the thread begins by calling the APC function" (QueueUserAPC, Remarks) — the first hand-over, and a
    // routine its WSARecv queues, can run before io_main's first line.
    server.io_thread_id = GetThreadId(server.io_thread);
    int failed =
        win::run_acceptor("completion-routine", options, control, server.listener, [&] { accept_clients(server); });
    shut_down(server, threads);
    trace::thread_exiting();
    return failed;
}

}  // namespace

int run_completion_routine(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
