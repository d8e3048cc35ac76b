// models/07_iocp_acceptex.cpp — an I/O completion port and a pool of workers; connections arrive by AcceptEx.

// SECTION: abstract
//
// How the network reaches the code: as completion packets, accepts included. The listening socket is associated
// with the completion port like any other socket, and instead of a thread blocked in accept() the server keeps
// several overlapped AcceptEx calls posted on it (--accepts, default 8). Each AcceptEx names a socket created in
// advance; when a client connects, the kernel accepts the connection INTO that socket and queues a packet. A
// worker takes it, posts a new AcceptEx to replace it, and starts the connection's first WSARecv. From then on
// it is the completion-port model of 06: workers in GetQueuedCompletionStatus, one packet at a time.
//
// AcceptEx can also wait for the client's first bytes and deliver them with the accept (--accept-data, as the
// textbook AcceptEx server does): one packet instead of two. The price is the silent-client risk: a client that
// connects and says nothing holds one of the posted accepts forever, and enough of them stop the server from
// accepting anyone. So with --accept-data the run thread looks at the pending accepts every half second and
// closes those whose client has been silent for --idle-seconds (close_silent_clients says how).
//
// Where state lives: as in 06, a Connection per socket and an IoRequest per I/O — accepts included: AcceptEx
// writes the addresses (and the first bytes) into its request's buffer, and the server keeps the socket it
// accepts into until its packet is taken. AcceptEx and GetAcceptExSockaddrs are extension functions: their
// addresses come from WSAIoctl (SIO_GET_EXTENSION_FUNCTION_POINTER), the way Microsoft documents, not from
// linking mswsock.lib.
//
// Threads: as in 06, a pool of workers waiting on the port, but no acceptor: the run thread only keeps the pool
// of posted accepts full (and, with --accept-data, looks for silent clients).
//
// Limits, honestly: there is no 64 limit — a completion port takes any number of sockets, and no thread waits on
// a handle per client. More clients than posted accepts may arrive at once; the rest wait in the listen backlog
// until a worker replaces an accept, so a burst is accepted at the pace of the workers, not of one thread. Each
// posted accept costs a socket created in advance. Only accepts are checked for silence: a client silent after
// its first line is an ordinary idle connection, kept as in every other model.

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "common/trace/recorder.h"
#include "common/win/accept_pool.h"
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

// AcceptEx writes each address into a slot 16 bytes longer than the address structure (documented).
constexpr DWORD kAddressSlot = sizeof(sockaddr_in) + 16;
constexpr DWORD kIdleCheckMilliseconds = 500;
constexpr unsigned kAcceptPoolLimitFactor = 16;  // the silent-client check grows the pool up to this times --accepts

// SECTION: state
//
// One Connection per client; the completion key of its socket. Its lock guards its state (here and in
// win::OverlappedConnection) and is held while an I/O is started, so that the socket cannot be closed in the middle
// of a WSARecv or WSASend. The steps below marked "locked" are called with it held.
// It is made by a worker, out of an accept socket whose AcceptEx has completed (on_accepted).
struct Connection : win::OverlappedConnection {
    using OverlappedConnection::OverlappedConnection;
    win::Lock lock;  // an SRWLOCK (win::Lock says what a std::mutex would cost here)
};
using IoRequest = win::IoRequest<Connection>;  // an accept's has no connection until the accept is finished

struct Server : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    HANDLE port = nullptr;
    SOCKET listener = INVALID_SOCKET;  // associated with the port too: the accepts complete there
    win::ConnectionTable<Connection> table;
    win::LiveConnections live;
    std::atomic<std::uint32_t> next_io_id{1};
    LPFN_ACCEPTEX accept_ex = nullptr;
    LPFN_GETACCEPTEXSOCKADDRS get_accept_ex_sockaddrs = nullptr;
    DWORD accept_receive_length = 0;  // 0: AcceptEx completes on connection; > 0: on the first data
    // The posted accepts: the socket each holds, how many are wanted (--accepts, grown by close_silent_clients).
    win::AcceptPool accepts;

    Server(const ServerOptions& o, ServerControl& c)
        : options(o), control(c), accepts(o.accepts, kAcceptPoolLimitFactor * std::max(1u, o.accepts)) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("iocp-acceptex"); }
};

void dispatch(Server& server, Connection* connection, IoRequest* request, DWORD bytes, DWORD error);
bool start_receive(Server& server, Connection& connection);
void queue_send(Server& server, Connection& connection, std::string_view bytes);
void close_connection(Connection& connection, CloseReason reason);
void finish_io(Server& server, Connection& connection, IoRequest* request);

// SECTION: listen
//
// The extension functions, looked up on the listening socket; then AcceptEx calls kept posted. A posted accept
// needs a socket of its own, created now, before any client exists — the work accept() does after the
// connection arrives is done ahead of time.
bool load_extension_functions(Server& server) {
    GUID accept_ex_id = WSAID_ACCEPTEX;
    GUID sockaddrs_id = WSAID_GETACCEPTEXSOCKADDRS;
    DWORD bytes = 0;
    // LESSON: extension-pointer
    if (WSAIoctl(server.listener, SIO_GET_EXTENSION_FUNCTION_POINTER, &accept_ex_id, sizeof accept_ex_id,
                 &server.accept_ex, sizeof server.accept_ex, &bytes, nullptr, nullptr) == SOCKET_ERROR ||
        WSAIoctl(server.listener, SIO_GET_EXTENSION_FUNCTION_POINTER, &sockaddrs_id, sizeof sockaddrs_id,
                 &server.get_accept_ex_sockaddrs, sizeof server.get_accept_ex_sockaddrs, &bytes, nullptr,
                 nullptr) == SOCKET_ERROR) {
        win::report_error("WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)", WSAGetLastError());
        return false;
    }
    return true;
}

// Posts one AcceptEx. False if it could not be posted (or the server is stopping). A failed post is the server's
// problem, not a client's: the pool is one short, and the run thread refills it (win::AcceptPool::keep_posted).
bool post_accept(Server& server) {
    // (Tests make this call fail on purpose, as a process out of sockets would: win::arm_failures.)
    SOCKET accept_socket = win::take_armed_failure(win::InjectedFailure::accept_socket, WSAEMFILE)
                               ? INVALID_SOCKET
                               : WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED);
    if (accept_socket == INVALID_SOCKET) {
        win::report_error("WSASocketW", WSAGetLastError());
        return false;
    }
    win::track_socket(accept_socket);
    auto* request = new IoRequest(IoOp::accept, server.next_io_id++, nullptr);
    // The buffer: the first data (if we wait for it), then the local and the remote address.
    request->data.resize(server.accept_receive_length + 2 * kAddressSlot);
    bool posted = server.accepts.post(request->id, accept_socket, [&] {  // under the pool's lock
        DWORD bytes = 0;
        TRACE(io_posted, 0, IoOp::accept, server.accept_receive_length, request->id);
        // LESSON: post
        if (!server.accept_ex(server.listener, accept_socket, request->data.data(), server.accept_receive_length,
                              kAddressSlot, kAddressSlot, &bytes, &request->overlapped) &&
            WSAGetLastError() != ERROR_IO_PENDING) {
            win::report_error("AcceptEx", WSAGetLastError());
            return false;
        }
        return true;
    });
    if (!posted) delete request;  // stopping, or AcceptEx failed: no packet will come for it
    return posted;
}

// An accept that brought no connection: its socket (if still open) is closed and its request freed.
void accept_failed(Server& server, IoRequest* request, SOCKET& accept_socket) {
    win::close_socket(accept_socket);
    delete request;
    server.accepts.ended();
}

// A worker got an accept's packet. The accept socket becomes a connection: it inherits the listener's
// properties (SO_UPDATE_ACCEPT_CONTEXT), learns its addresses (GetAcceptExSockaddrs), joins the port, and gets
// its first receive — or, with --accept-data, its first bytes go straight to the session.
void on_accepted(Server& server, IoRequest* request, DWORD bytes, DWORD error) {
    TRACE(io_completed, 0, IoOp::accept, bytes, error);
    SOCKET client = server.accepts.take(request->id);  // INVALID_SOCKET: the idle check closed it
    // Replace it first: the next client should not wait for this one's set-up. If that fails, the run thread is
    // told, and it refills the pool; this worker goes on with its client.
    if (!post_accept(server)) server.accepts.post_failed();  // LESSON: replenish
    // A failed accept is that client's problem: it is gone, and its accept has just been replaced.
    // ERROR_OPERATION_ABORTED: teardown cancelled it, or the idle check closed its socket.
    if (error != 0 || client == INVALID_SOCKET) return accept_failed(server, request, client);
    // LESSON: update-context
    if (setsockopt(client, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, reinterpret_cast<const char*>(&server.listener),
                   sizeof server.listener) == SOCKET_ERROR) {
        win::report_error("setsockopt(SO_UPDATE_ACCEPT_CONTEXT)", WSAGetLastError());
        return accept_failed(server, request, client);
    }
    // Only now: until SO_UPDATE_ACCEPT_CONTEXT the socket is only "in the default state for a connected socket"
    // (AcceptEx's documentation), and under Wine 8.0 an option set before AcceptEx reads back as 0 after it.
    win::set_no_delay(client);
    sockaddr* local = nullptr;
    sockaddr* remote = nullptr;
    int local_length = 0;
    int remote_length = 0;
    // LESSON: sockaddrs
    server.get_accept_ex_sockaddrs(request->data.data(), server.accept_receive_length, kAddressSlot, kAddressSlot,
                                   &local, &local_length, &remote, &remote_length);
    bool inet = remote && remote->sa_family == AF_INET;
    auto* connection = new Connection(server, server.options.max_line, client,
                                      inet ? ntohs(reinterpret_cast<sockaddr_in*>(remote)->sin_port) : 0);
    // LESSON: associate-client
    if (CreateIoCompletionPort(reinterpret_cast<HANDLE>(client), server.port, reinterpret_cast<ULONG_PTR>(connection),
                               0) == nullptr) {
        win::report_error("CreateIoCompletionPort", GetLastError(), connection->id);
        delete connection;
        return accept_failed(server, request, client);
    }
    // LESSON: skip-on-success
    connection->no_packet_on_success =
        win::every_provider_returns_ifs_handles() &&
        SetFileCompletionNotificationModes(reinterpret_cast<HANDLE>(client), FILE_SKIP_COMPLETION_PORT_ON_SUCCESS);
    server.live.opened();
    // The accept stops counting only once the connection counts, so teardown never sees neither; the table entry is
    // made under the pool's lock, which teardown stops the pool under, so its walk of the table cannot miss it.
    bool stopping = server.accepts.ended([&] { server.table.add(connection); });
    win::record_opened(server, *connection);

    request->connection = connection;  // the accept counts as the connection's first I/O until it is finished
    std::unique_lock lock(connection->lock);
    ++connection->io_in_flight;
    if (stopping) close_connection(*connection, CloseReason::server_stopping);
    if (server.accept_receive_length > 0) {
        // The first bytes came with the accept (0 bytes: the client connected and closed without a word).
        lock.unlock();
        win::on_received(server, *connection, request, bytes);  // LESSON: first-data
        return;
    }
    start_receive(server, *connection);
    lock.unlock();
    finish_io(server, *connection, request);
}

// The silent-client guard of --accept-data, every half second on the run thread: an accept socket that has had a
// client for idle_seconds without a byte arriving is closed, which ends its AcceptEx with an error; the worker that
// takes that packet posts a new AcceptEx in its place. And when every posted accept already holds a client, clients
// arriving now wait in the listen backlog behind the silent ones: the pool grows by as many (up to
// kAcceptPoolLimitFactor times --accepts), so a burst of silent clients costs one idle period, not one per
// --accepts of them.
void close_silent_clients(Server& server) {
    server.accepts.check_pending([&](std::uint32_t io_id, SOCKET& accept_socket) {
        DWORD seconds = 0;
        int length = sizeof seconds;
        // LESSON: connect-time
        if (getsockopt(accept_socket, SOL_SOCKET, SO_CONNECT_TIME, reinterpret_cast<char*>(&seconds), &length) ==
            SOCKET_ERROR) {
            TRACE_ERROR("getsockopt(SO_CONNECT_TIME)", WSAGetLastError(), 0);
            return false;
        }
        if (seconds == 0xFFFFFFFF) return false;  // no client yet
        if (seconds < server.options.idle_seconds) return true;
        TRACE(connection_close, 0, CloseReason::idle, seconds, io_id);
        win::close_socket(accept_socket);  // LESSON: close-idle
        return true;
    });
}

// SECTION: wait
//
// A worker: wait on the port for one packet, handle it, wait again. The packet says which connection
// (the completion key), which I/O (the OVERLAPPED) and how many bytes it moved. An accept's packet names the
// listener's key, 0, and a request whose operation is accept.
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
        IoRequest* request = CONTAINING_RECORD(overlapped, IoRequest, overlapped);
        auto* connection = reinterpret_cast<Connection*>(key);  // nullptr for an accept
        std::uint32_t id = connection ? connection->id : 0;
        TRACE(wait_end, id, ok ? Wake::completion : Wake::failed_completion, bytes, error);
        win::packet_taken(server.port, id, request->id);
        dispatch(server, connection, request, bytes, error);
        win::sample_queue_depth_going_idle(server.port);
    }
    trace::thread_exiting();
    return 0;
}

// SECTION: dispatch
//
// One completion, one step: an accept's goes to on_accepted; a connection's to win::complete, where a receive
// feeds the session and starts the next receive, a send finishes or continues if partial, and a failure ends the
// connection. The model's own part: what the error in the packet means.
void dispatch(Server& server, Connection* connection, IoRequest* request, DWORD bytes, DWORD error) {
    if (request->operation == IoOp::accept) return on_accepted(server, request, bytes, error);  // no connection yet
    TRACE(io_completed, connection->id, request->operation, bytes, error);
    // ERROR_NETNAME_DELETED: the client reset the connection. ERROR_OPERATION_ABORTED: we closed the socket
    // (teardown, or a close while this I/O was in flight). Either way the I/O is over.
    CloseReason failed = error == 0 ? CloseReason::none : CloseReason::reset;
    if (error == ERROR_OPERATION_ABORTED) failed = CloseReason::server_stopping;
    win::complete(server, *connection, request, bytes, failed);
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
// still arrive, and only when the last one has been handled is the Connection freed. The same holds for the
// accepts: cancelling the I/O of the listener (CancelIoEx) ends every posted AcceptEx, and each one's packet frees
// its request and closes its accept socket. Shutdown therefore is: post no more accepts, cancel them, close every
// connection's socket, wait until every accept and every Connection is gone, close the listener, then tell the
// workers to exit.
// LESSON: close-cancels
void close_connection(Connection& connection, CloseReason reason) {  // locked
    if (!win::begin_close(connection, reason)) return;
    win::close_socket(connection.socket);
}

// Called once per completion handled (an accept's included, once it made a connection).
void finish_io(Server& server, Connection& connection, IoRequest* request) {
    if (!win::last_io_over(connection, request)) return;
    win::free_connection(server, server.table, connection);
    server.live.freed();
}

void shut_down(Server& server, std::vector<HANDLE>& workers) {
    server.accepts.stop([&] {
        // Every posted AcceptEx ends with ERROR_OPERATION_ABORTED; each packet frees its request. The listener
        // itself stays open until the last of them has been handled: a worker finishing an accept still names it
        // in SO_UPDATE_ACCEPT_CONTEXT.
        if (!CancelIoEx(reinterpret_cast<HANDLE>(server.listener), nullptr) && GetLastError() != ERROR_NOT_FOUND)
            win::report_error("CancelIoEx", GetLastError());  // LESSON: cancel-accepts
    });
    win::close_all(server.table);
    // Closing the listener ends for certain an accept that cancelling did not: a worker then finishing that accept
    // finds SO_UPDATE_ACCEPT_CONTEXT failing, reports it, and frees the request all the same.
    server.accepts.wait_until_ended([&] { win::close_socket(server.listener); });
    server.live.wait_until_none();  // a connection counts before its accept stops counting: none is missed
    win::close_socket(server.listener);
    // Every accept and connection is gone; the workers are idle on the port. One empty packet (key 0, no
    // OVERLAPPED) each.
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
    server.accept_receive_length = options.accept_data ? win::kReceiveBufferSize - 2 * kAddressSlot : 0;
    if (!server.accepts.ready()) {
        control.report_failed();
        return 1;
    }
    server.port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, options.concurrency);
    if (server.port == nullptr) {
        win::report_error("CreateIoCompletionPort", GetLastError());
        control.report_failed();
        return 1;
    }
    std::uint16_t port_number = 0;
    server.listener = win::create_listener(options, port_number);
    if (server.listener == INVALID_SOCKET) {
        CloseHandle(server.port);
        control.report_failed();
        return 1;
    }
    win::track_socket(server.listener);  // counted like the accept sockets, since win::close_socket closes it
    // LESSON: associate-listener
    bool listener_ready =
        CreateIoCompletionPort(reinterpret_cast<HANDLE>(server.listener), server.port, 0, 0) != nullptr;
    if (!listener_ready) win::report_error("CreateIoCompletionPort", GetLastError());
    if (!listener_ready || !load_extension_functions(server)) {
        win::close_socket(server.listener);
        CloseHandle(server.port);
        control.report_failed();
        return 1;
    }
    trace::name_thread("run");
    win::announce_server("iocp-acceptex", options.concurrency ? options.concurrency : processors);
    std::vector<HANDLE> workers;
    unsigned posted = 0;
    if (win::start_threads(options.workers ? options.workers : 2 * processors, worker_main, &server, workers))
        for (unsigned i = 0; i < std::max(1u, options.accepts); ++i) posted += post_accept(server) ? 1 : 0;
    if (posted == 0) {
        // No worker, or not one accept posted: a server that would accept nobody does not claim to be ready.
        shut_down(server, workers);
        control.report_failed();
        trace::thread_exiting();
        return 1;
    }
    control.report_ready(port_number);
    // The run thread, until the stop: it keeps the pool of posted accepts full and, when AcceptEx waits for data,
    // looks for silent clients every half second.
    server.accepts.keep_posted(
        server.control, kIdleCheckMilliseconds, [&] { return post_accept(server); },
        options.accept_data ? [&] { close_silent_clients(server); } : std::function<void()>());
    shut_down(server, workers);
    trace::thread_exiting();
    return 0;
}

}  // namespace

int run_iocp_acceptex(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
