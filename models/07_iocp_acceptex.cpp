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
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <unordered_map>
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

// AcceptEx writes each address into a slot 16 bytes longer than the address structure (documented).
constexpr DWORD kAddressSlot = sizeof(sockaddr_in) + 16;
constexpr DWORD kIdleCheckMilliseconds = 500;
constexpr unsigned kAcceptPoolLimitFactor = 16;  // the silent-client check grows the pool up to this times --accepts

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
using IoRequest = win::IoRequest<Connection>;  // an accept's has no connection until the accept is finished

struct Server : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    HANDLE port = nullptr;
    SOCKET listener = INVALID_SOCKET;
    win::ConnectionTable<Connection> table;
    win::LiveConnections live;
    std::atomic<std::uint32_t> next_io_id{1};
    LPFN_ACCEPTEX accept_ex = nullptr;
    LPFN_GETACCEPTEXSOCKADDRS get_accept_ex_sockaddrs = nullptr;
    DWORD accept_receive_length = 0;  // 0: AcceptEx completes on connection; > 0: on the first data

    // The pool of posted accepts. Its lock guards the four below it; workers and the run thread post, teardown
    // stops the posting and waits (accept_ended) until the last accept is over.
    std::mutex accepts_lock;
    std::unordered_map<IoRequest*, SOCKET> pending_accepts;  // AcceptEx posted, packet not yet taken: its socket
    unsigned accepts_outstanding = 0;                        // AcceptEx posted, packet not yet handled
    unsigned accepts_wanted = 0;                             // --accepts, grown by close_silent_clients
    bool stopping = false;                                   // post no more accepts
    std::condition_variable accept_ended;
    HANDLE post_failed = nullptr;  // auto-reset event: a worker's post failed; wakes the run thread
    bool said_pool_empty = false;  // run thread only: "no AcceptEx is posted" was said, "again" not yet

    Server(const ServerOptions& o, ServerControl& c)
        : options(o), control(c), post_failed(CreateEventW(nullptr, FALSE, FALSE, nullptr)) {}
    ~Server() { CloseHandle(post_failed); }

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("iocp-acceptex"); }
};

bool start_receive(Server& server, Connection& connection);
void queue_send(Server& server, Connection& connection, std::string_view bytes);
void close_connection(Connection& connection, CloseReason reason);
void finish_io(Server& server, Connection& connection, IoRequest* request);
void on_received(Server& server, Connection& connection, IoRequest* request, DWORD bytes);

// SECTION: listen
//
// The extension functions, looked up on the listening socket; then AcceptEx calls kept posted. A posted accept
// needs a socket of its own, created now, before any client exists — the work accept() does after the
// connection arrives is done ahead of time.
bool load_extension_functions(Server& server) {
    GUID accept_ex_id = WSAID_ACCEPTEX;
    GUID sockaddrs_id = WSAID_GETACCEPTEXSOCKADDRS;
    DWORD bytes = 0;
    // LESSON: iocp-acceptex-extension-pointer
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
// problem, not a client's: the pool is one short, and the run thread refills it (refill_accepts).
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

    std::lock_guard lock(server.accepts_lock);  // so teardown and the idle check see every pending accept
    if (server.stopping) {
        win::close_socket(accept_socket);
        delete request;
        return false;
    }
    DWORD bytes = 0;
    TRACE(io_posted, 0, IoOp::accept, server.accept_receive_length, request->id);
    // LESSON: iocp-acceptex-post
    if (!server.accept_ex(server.listener, accept_socket, request->data.data(), server.accept_receive_length,
                          kAddressSlot, kAddressSlot, &bytes, &request->overlapped) &&
        WSAGetLastError() != ERROR_IO_PENDING) {
        win::report_error("AcceptEx", WSAGetLastError());
        win::close_socket(accept_socket);
        delete request;
        return false;
    }
    server.pending_accepts[request] = accept_socket;
    ++server.accepts_outstanding;
    return true;
}

// An accept that brought no connection: its socket (if still open) is closed and its request freed.
void accept_failed(Server& server, IoRequest* request, SOCKET& accept_socket) {
    win::close_socket(accept_socket);
    delete request;
    {
        std::lock_guard lock(server.accepts_lock);
        --server.accepts_outstanding;
    }
    server.accept_ended.notify_all();
}

// A worker got an accept's packet. The accept socket becomes a connection: it inherits the listener's
// properties (SO_UPDATE_ACCEPT_CONTEXT), learns its addresses (GetAcceptExSockaddrs), joins the port, and gets
// its first receive — or, with --accept-data, its first bytes go straight to the session.
void on_accepted(Server& server, IoRequest* request, DWORD bytes, DWORD error) {
    TRACE(io_completed, 0, IoOp::accept, bytes, error);
    SOCKET client;
    {
        std::lock_guard lock(server.accepts_lock);  // out of the idle check's reach: this worker owns it now
        client = server.pending_accepts.extract(request).mapped();  // INVALID_SOCKET: the idle check closed it
    }
    // Replace it first: the next client should not wait for this one's set-up. If that fails, the run thread is
    // told, and it refills the pool; this worker goes on with its client.
    if (!post_accept(server)) SetEvent(server.post_failed);  // LESSON: iocp-acceptex-replenish
    // A failed accept is that client's problem: it is gone, and its accept has just been replaced.
    // ERROR_OPERATION_ABORTED: teardown cancelled it, or the idle check closed its socket.
    if (error != 0 || client == INVALID_SOCKET) return accept_failed(server, request, client);
    // LESSON: iocp-acceptex-update-context
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
    // LESSON: iocp-acceptex-sockaddrs
    server.get_accept_ex_sockaddrs(request->data.data(), server.accept_receive_length, kAddressSlot, kAddressSlot,
                                   &local, &local_length, &remote, &remote_length);
    bool inet = remote && remote->sa_family == AF_INET;
    auto* connection = new Connection(server, server.options.max_line, client,
                                      inet ? ntohs(reinterpret_cast<sockaddr_in*>(remote)->sin_port) : 0);
    // LESSON: iocp-acceptex-associate-client
    if (CreateIoCompletionPort(reinterpret_cast<HANDLE>(client), server.port, reinterpret_cast<ULONG_PTR>(connection),
                               0) == nullptr) {
        win::report_error("CreateIoCompletionPort", GetLastError(), connection->id);
        delete connection;
        return accept_failed(server, request, client);
    }
    server.live.opened();
    bool stopping;
    {
        // The accept stops counting only once the connection counts, so teardown never sees neither; the table
        // entry is made under the lock teardown sets `stopping` under, so its walk of the table cannot miss it.
        std::lock_guard lock(server.accepts_lock);
        --server.accepts_outstanding;
        stopping = server.stopping;
        server.table.add(connection->id, connection);
    }
    server.accept_ended.notify_all();
    win::record_opened(server, *connection);

    request->connection = connection;  // the accept counts as the connection's first I/O until it is finished
    std::unique_lock lock(connection->lock);
    ++connection->io_in_flight;
    if (stopping) close_connection(*connection, CloseReason::server_stopping);
    if (server.accept_receive_length > 0) {
        // The first bytes came with the accept (0 bytes: the client connected and closed without a word).
        lock.unlock();
        on_received(server, *connection, request, bytes);  // LESSON: iocp-acceptex-first-data
        return;
    }
    start_receive(server, *connection);
    lock.unlock();
    finish_io(server, *connection, request);
}

// The silent-client guard of --accept-data: an accept socket that has had a client for idle_seconds without a
// byte arriving is closed, which ends its AcceptEx with an error; the worker that takes that packet posts a new
// AcceptEx in its place. And when every posted accept already holds a client, clients arriving now wait in the
// listen backlog behind the silent ones: post as many accepts again (up to kAcceptPoolLimitFactor times
// --accepts), so a burst of silent clients costs one idle period, not one per --accepts of them.
void close_silent_clients(Server& server) {
    std::lock_guard lock(server.accepts_lock);
    unsigned holding_a_client = 0;
    for (auto& [request, accept_socket] : server.pending_accepts) {
        if (accept_socket == INVALID_SOCKET) continue;
        DWORD seconds = 0;
        int length = sizeof seconds;
        // LESSON: iocp-acceptex-connect-time
        if (getsockopt(accept_socket, SOL_SOCKET, SO_CONNECT_TIME, reinterpret_cast<char*>(&seconds), &length) ==
            SOCKET_ERROR) {
            TRACE_ERROR("getsockopt(SO_CONNECT_TIME)", WSAGetLastError(), 0);
            continue;
        }
        if (seconds == 0xFFFFFFFF) continue;  // no client yet
        ++holding_a_client;
        if (seconds < server.options.idle_seconds) continue;
        TRACE(connection_close, 0, CloseReason::idle, seconds, request->id);
        win::close_socket(accept_socket);  // LESSON: iocp-acceptex-close-idle
    }
    unsigned posted = static_cast<unsigned>(server.pending_accepts.size());
    if (posted > 0 && holding_a_client == posted) {
        unsigned most = kAcceptPoolLimitFactor * std::max(1u, server.options.accepts);
        server.accepts_wanted = std::min(most, server.accepts_wanted + posted);  // LESSON: iocp-acceptex-grow
    }
}

// Posts accepts until the pool holds accepts_wanted; true if it is still short because a post failed. The
// pool running dry would be silent — the server would look ready and accept nobody — so that is said, once,
// and so is the moment accepting resumes.
bool refill_accepts(Server& server) {
    bool short_of_accepts = false;
    for (;;) {
        {
            std::lock_guard lock(server.accepts_lock);
            if (server.stopping || server.pending_accepts.size() >= server.accepts_wanted) break;
        }
        if (!post_accept(server)) {
            short_of_accepts = true;
            break;
        }
    }
    bool pool_empty;
    {
        std::lock_guard lock(server.accepts_lock);
        pool_empty = server.pending_accepts.empty() && !server.stopping;
    }
    if (pool_empty && !server.said_pool_empty) {
        std::fprintf(stderr,
                     "socklab-server: no AcceptEx is posted: new clients wait in the listen backlog; "
                     "trying again every %lu ms\n",
                     static_cast<unsigned long>(kIdleCheckMilliseconds));
        TRACE_ERROR("no AcceptEx posted", WSAEMFILE, 0);
    } else if (!pool_empty && server.said_pool_empty) {
        std::fprintf(stderr, "socklab-server: AcceptEx posted again: accepting\n");
    }
    server.said_pool_empty = pool_empty;
    return short_of_accepts;
}

// The run thread, until the stop: it keeps the pool of posted accepts full — woken by a worker whose post failed,
// and trying again every half second while short — and, when AcceptEx waits for data, wakes every half second to
// look for silent clients.
void keep_accepts_posted(Server& server) {
    HANDLE events[] = {server.control.stop_event(), server.post_failed};
    for (;;) {
        bool short_of_accepts = refill_accepts(server);
        DWORD timeout = server.accept_receive_length > 0 || short_of_accepts ? kIdleCheckMilliseconds : INFINITE;
        TRACE(wait_begin, 0, WaitOn::stop, 0, 0);
        DWORD result = WaitForMultipleObjects(2, events, FALSE, timeout);
        DWORD error = result == WAIT_FAILED ? GetLastError() : 0;
        if (result == WAIT_OBJECT_0 || result == WAIT_FAILED) {
            TRACE(wait_end, 0, error ? Wake::error : Wake::stop, 0, error);
            if (error) win::wait_failed("WaitForMultipleObjects", error, server.control);
            return;
        }
        TRACE(wait_end, 0, result == WAIT_TIMEOUT ? Wake::timeout : Wake::event, 0, 0);
        if (server.accept_receive_length > 0) close_silent_clients(server);
    }
}

// SECTION: wait
//
// A worker: wait on the port for one packet, handle it, wait again. The packet says which connection
// (the completion key), which I/O (the OVERLAPPED) and how many bytes it moved. An accept's packet names the
// listener's key, 0, and a request whose operation is accept.
void dispatch(Server& server, Connection& connection, IoRequest* request, DWORD bytes, DWORD error);

DWORD WINAPI worker_main(LPVOID parameter) {
    Server& server = *static_cast<Server*>(parameter);
    trace::name_thread("worker");
    for (;;) {
        DWORD bytes = 0;
        ULONG_PTR key = 0;
        OVERLAPPED* overlapped = nullptr;
        TRACE(wait_begin, 0, WaitOn::completion_port, 0, 0);
        // LESSON: iocp-acceptex-wait
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
        if (request->operation == IoOp::accept) on_accepted(server, request, bytes, error);
        else dispatch(server, *connection, request, bytes, error);
        win::sample_queue_depth_going_idle(server.port);
    }
    trace::thread_exiting();
    return 0;
}

// SECTION: dispatch
//
// One packet, one step of a connection's life. A receive feeds the session and starts the next receive; a
// send finishes (or continues, if partial) and starts the next queued one. An error ends the connection.
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

// Also called with an accept's request, whose first bytes came with the connection.
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
        connection.send_queue.insert(0, request->data, bytes);  // LESSON: iocp-acceptex-partial-send
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
    // LESSON: iocp-acceptex-post-receive
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
    // LESSON: iocp-acceptex-post-send
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
// still arrive, and only when the last one has been handled is the Connection freed. The same holds for the
// accepts: cancelling the I/O of the listener (CancelIoEx) ends every posted AcceptEx, and each one's packet frees
// its request and closes its accept socket. Shutdown therefore is: post no more accepts, cancel them, close every
// connection's socket, wait until every accept and every Connection is gone, close the listener, then tell the
// workers to exit.
void close_connection(Connection& connection, CloseReason reason) {  // locked
    if (connection.socket == INVALID_SOCKET) return;
    win::note_close_reason(connection, reason);
    win::close_socket(connection.socket);  // LESSON: iocp-acceptex-close-cancels
    connection.send_queue.clear();
}

// Called once per handled packet of a connection (an accept's included, once it made one).
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
    {
        std::lock_guard lock(server.accepts_lock);
        server.stopping = true;
        // Every posted AcceptEx ends with ERROR_OPERATION_ABORTED; each packet frees its request. The listener
        // itself stays open until the last of them has been handled: a worker finishing an accept still names it
        // in SO_UPDATE_ACCEPT_CONTEXT.
        if (!CancelIoEx(reinterpret_cast<HANDLE>(server.listener), nullptr) && GetLastError() != ERROR_NOT_FOUND)
            win::report_error("CancelIoEx", GetLastError());  // LESSON: iocp-acceptex-cancel-accepts
    }
    server.table.for_each_except(0, [](Connection* connection) {
        std::lock_guard lock(connection->lock);
        close_connection(*connection, CloseReason::server_stopping);
        return true;
    });
    {
        std::unique_lock lock(server.accepts_lock);
        auto all_ended = [&] { return server.accepts_outstanding == 0; };
        // Cancelling should end every accept within moments. If one is still outstanding after two seconds (seen
        // once under Wine on a loaded machine), closing the listener ends it for certain: a worker then finishing
        // that accept finds SO_UPDATE_ACCEPT_CONTEXT failing, reports it, and frees the request all the same.
        if (!server.accept_ended.wait_for(lock, std::chrono::seconds(2), all_ended)) {
            win::close_socket(server.listener);
            server.accept_ended.wait(lock, all_ended);
        }
    }
    server.live.wait_until_none();  // a connection counts before its accept stops counting: none is missed
    win::close_socket(server.listener);
    // Every accept and connection is gone; the workers are idle on the port. One empty packet (key 0, no
    // OVERLAPPED) each.
    for (std::size_t i = 0; i < workers.size(); ++i)
        PostQueuedCompletionStatus(server.port, 0, 0, nullptr);  // LESSON: iocp-acceptex-shutdown-packets
    win::join_threads(workers);  // in chunks: one WaitForMultipleObjects takes at most 64 handles
    win::record_final_queue_depth(server.port);
    CloseHandle(server.port);
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    Server server(options, control);
    unsigned processors = win::processor_count();
    server.accept_receive_length = options.accept_data ? win::kReceiveBufferSize - 2 * kAddressSlot : 0;
    if (server.post_failed == nullptr) {
        win::report_error("CreateEventW", GetLastError());
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
    // LESSON: iocp-acceptex-associate-listener
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
    server.accepts_wanted = std::max(1u, options.accepts);
    unsigned posted = 0;
    if (win::start_threads(options.workers ? options.workers : 2 * processors, worker_main, &server, workers))
        for (unsigned i = 0; i < server.accepts_wanted; ++i) posted += post_accept(server) ? 1 : 0;
    if (posted == 0) {
        // No worker, or not one accept posted: a server that would accept nobody does not claim to be ready.
        shut_down(server, workers);
        control.report_failed();
        trace::thread_exiting();
        return 1;
    }
    control.report_ready(port_number);
    keep_accepts_posted(server);
    shut_down(server, workers);
    trace::thread_exiting();
    return 0;
}

}  // namespace

int run_iocp_acceptex(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
