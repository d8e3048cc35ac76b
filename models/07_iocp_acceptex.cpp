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
// accepting anyone. So with --accept-data the run thread wakes every half second, asks each pending accept
// socket how long it has been connected (getsockopt SO_CONNECT_TIME: 0xFFFFFFFF while nobody is connected) and
// closes those silent for --idle-seconds; their AcceptEx fails, and a fresh one replaces it. When every posted
// accept holds a silent client, the next clients wait in the listen backlog behind more silent ones; so the same
// check then posts a second batch of accepts (the pool doubles, up to 16 times --accepts), and a crowd of silent
// clients costs a newcomer about one idle period, not one per --accepts of them.
//
// Where state lives: per socket, a Connection (socket, session, send queue, count of I/O in flight); per I/O, an
// IoRequest (the OVERLAPPED, the buffer, what kind of I/O it was — accept, receive or send; an accept also holds
// the socket it accepts into), allocated when the I/O starts and freed when its packet has been handled. AcceptEx
// and GetAcceptExSockaddrs are extension functions: their addresses come from WSAIoctl
// (SIO_GET_EXTENSION_FUNCTION_POINTER), the way Microsoft documents, not from linking mswsock.lib.
//
// Threads: a pool of workers (--workers, default twice the processors) waiting on the port; the run thread only
// waits for the stop event (and, with --accept-data, checks for silent clients). Wine 8.0 wakes waiters FIFO and
// ignores the concurrency value; Windows wakes LIFO and releases waiters only below it (see 06).
//
// Limits, honestly: there is no 64 limit — a completion port takes any number of sockets, and no thread waits on
// a handle per client. More clients than posted accepts may arrive at once; the rest wait in the listen backlog
// until a worker replaces an accept, so a burst is accepted at the pace of the workers, not of one thread. Each
// posted accept costs a socket created in advance. One receive is outstanding per connection, which keeps
// replies in order without further locking. Only accepts are checked for silence: a client silent after its
// first line is an ordinary idle connection, kept as in every other model.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <list>
#include <mutex>
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
// AcceptEx writes each address into a slot 16 bytes longer than the address structure (documented).
constexpr DWORD kAddressSlot = sizeof(sockaddr_in) + 16;
constexpr DWORD kIdleCheckMilliseconds = 500;

// SECTION: state
//
// One IoRequest per overlapped operation in flight — accepts too. The OVERLAPPED comes back in the completion
// packet, and CONTAINING_RECORD turns it back into the IoRequest around it.
struct Connection;

struct IoRequest : win::CountedIoObject<IoRequest> {
    OVERLAPPED overlapped{};
    IoOp operation = IoOp::none;
    std::uint32_t id = 0;                   // names the I/O in traces: io_posted → packet_dequeued
    Connection* connection = nullptr;       // nullptr for an accept still waiting for its client
    SOCKET accept_socket = INVALID_SOCKET;  // accept: the socket the connection is accepted into
    std::string data;  // accept: first bytes then both addresses; receive: the buffer; send: bytes to send
    WSABUF buffer{};
};

// One Connection per client; the completion key of its socket. Its lock guards everything below it, and is
// held while an I/O is started so that the socket cannot be closed in the middle of a WSARecv or WSASend.
struct Connection {
    std::uint32_t id = 0;
    std::uint16_t peer_port = 0;
    protocol::Session session;

    std::mutex lock;
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

struct AcceptExServer : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    HANDLE port = nullptr;
    SOCKET listener = INVALID_SOCKET;
    LPFN_ACCEPTEX accept_ex = nullptr;
    LPFN_GETACCEPTEXSOCKADDRS get_accept_ex_sockaddrs = nullptr;
    DWORD accept_receive_length = 0;  // 0: AcceptEx completes on connection; > 0: on the first data
    win::ConnectionTable<Connection> table;
    std::atomic<std::uint32_t> next_io_id{1};

    std::mutex lifetime_lock;
    std::condition_variable something_ended;
    std::list<IoRequest*> pending_accepts;  // guarded by lifetime_lock: AcceptEx posted, packet not yet taken
    unsigned accepts_outstanding = 0;       // guarded by lifetime_lock: AcceptEx posted, packet not yet handled
    unsigned connections_alive = 0;         // guarded by lifetime_lock
    unsigned accepts_wanted = 0;            // guarded by lifetime_lock: the pool's size (--accepts, grown by the
                                            // silent-client check); the run thread refills it up to this
    bool stopping = false;                  // guarded by lifetime_lock: post no more accepts
    HANDLE post_failed = nullptr;           // auto-reset event: a worker's post failed; wakes the run thread
    bool said_pool_empty = false;           // run thread only: "no AcceptEx is posted" was said, "again" not yet

    AcceptExServer(const ServerOptions& o, ServerControl& c)
        : options(o), control(c), post_failed(CreateEventW(nullptr, FALSE, FALSE, nullptr)) {}
    ~AcceptExServer() { CloseHandle(post_failed); }

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("iocp-acceptex"); }
};

bool start_receive_locked(AcceptExServer& server, Connection& connection);
void queue_send_locked(AcceptExServer& server, Connection& connection, std::string_view bytes);
void close_locked(Connection& connection, CloseReason reason);
void finish_io(AcceptExServer& server, Connection& connection, IoRequest* request);
void on_received(AcceptExServer& server, Connection& connection, IoRequest* request, DWORD bytes);

// SECTION: listen
//
// The extension functions, looked up on the listening socket; then AcceptEx calls kept posted. A posted accept
// needs a socket of its own, created now, before any client exists — the work accept() does after the
// connection arrives is done ahead of time.
bool load_extension_functions(AcceptExServer& server) {
    GUID accept_ex_id = WSAID_ACCEPTEX;
    GUID sockaddrs_id = WSAID_GETACCEPTEXSOCKADDRS;
    DWORD bytes = 0;
    // LESSON: iocp-acceptex-extension-pointer
    if (WSAIoctl(server.listener, SIO_GET_EXTENSION_FUNCTION_POINTER, &accept_ex_id, sizeof accept_ex_id,
                 &server.accept_ex, sizeof server.accept_ex, &bytes, nullptr, nullptr) == SOCKET_ERROR) {
        win::report_error("WSAIoctl(WSAID_ACCEPTEX)", WSAGetLastError());
        return false;
    }
    if (WSAIoctl(server.listener, SIO_GET_EXTENSION_FUNCTION_POINTER, &sockaddrs_id, sizeof sockaddrs_id,
                 &server.get_accept_ex_sockaddrs, sizeof server.get_accept_ex_sockaddrs, &bytes, nullptr,
                 nullptr) == SOCKET_ERROR) {
        win::report_error("WSAIoctl(WSAID_GETACCEPTEXSOCKADDRS)", WSAGetLastError());
        return false;
    }
    return true;
}

// Posts one AcceptEx. False if it could not be posted (or the server is stopping). A failed post is the server's
// problem, not a client's: the pool is one short, and the run thread refills it (refill_accepts).
bool post_accept(AcceptExServer& server) {
    // (Tests make this call fail on purpose, as a process out of sockets would: win::arm_failures.)
    SOCKET accept_socket = win::take_armed_failure(win::InjectedFailure::accept_socket, WSAEMFILE)
                               ? INVALID_SOCKET
                               : WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED);
    if (accept_socket == INVALID_SOCKET) {
        win::report_error("WSASocketW", WSAGetLastError());
        return false;
    }
    win::track_socket(accept_socket);
    auto* request = new IoRequest;
    request->operation = IoOp::accept;
    request->id = server.next_io_id++;
    request->accept_socket = accept_socket;
    // The buffer: the first data (if we wait for it), then the local and the remote address.
    request->data.resize(server.accept_receive_length + 2 * kAddressSlot);

    std::lock_guard lock(server.lifetime_lock);  // so teardown and the idle check see every pending accept
    if (server.stopping) {
        win::close_socket(request->accept_socket);
        delete request;
        return false;
    }
    DWORD bytes = 0;
    TRACE(io_posted, 0, IoOp::accept, server.accept_receive_length, request->id);
    // LESSON: iocp-acceptex-post
    if (!server.accept_ex(server.listener, accept_socket, request->data.data(), server.accept_receive_length,
                          kAddressSlot, kAddressSlot, &bytes, &request->overlapped) &&
        WSAGetLastError() != ERROR_IO_PENDING) {
        int error = WSAGetLastError();
        win::report_error("AcceptEx", error);
        win::close_socket(request->accept_socket);
        delete request;
        return false;
    }
    server.pending_accepts.push_back(request);
    ++server.accepts_outstanding;
    return true;
}

// A worker got an accept's packet. The accept socket becomes a connection: it inherits the listener's
// properties (SO_UPDATE_ACCEPT_CONTEXT), learns its addresses (GetAcceptExSockaddrs), joins the port, and gets
// its first receive — or, with --accept-data, its first bytes go straight to the session.
void accept_finished(AcceptExServer& server, IoRequest* request) {
    win::close_socket(request->accept_socket);
    delete request;
    {
        std::lock_guard lock(server.lifetime_lock);
        --server.accepts_outstanding;
    }
    server.something_ended.notify_all();
}

void on_accepted(AcceptExServer& server, IoRequest* request, DWORD bytes, DWORD error) {
    bool closed_as_idle;
    {
        std::lock_guard lock(server.lifetime_lock);
        server.pending_accepts.remove(request);  // out of the idle check's reach: this worker owns it now
        closed_as_idle = request->accept_socket == INVALID_SOCKET;  // the idle check closed it meanwhile
    }
    // Replace it first: the next client should not wait for this one's set-up. If that fails, the run thread is
    // told, and it refills the pool; this worker goes on with its client.
    if (!post_accept(server)) SetEvent(server.post_failed);  // LESSON: iocp-acceptex-replenish
    if (error != 0 || closed_as_idle) {
        // A failed accept is that client's problem: it is gone, and its accept has just been replaced.
        // ERROR_OPERATION_ABORTED: teardown closed the listener, or the idle check closed the accept socket.
        accept_finished(server, request);
        return;
    }
    SOCKET client = request->accept_socket;
    // LESSON: iocp-acceptex-update-context
    if (setsockopt(client, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, reinterpret_cast<const char*>(&server.listener),
                   sizeof server.listener) == SOCKET_ERROR) {
        win::report_error("setsockopt(SO_UPDATE_ACCEPT_CONTEXT)", WSAGetLastError());
        accept_finished(server, request);
        return;
    }
    // Replies are small lines, and a client often gets two in a row (someone's broadcast, then its own reply).
    // Nagle's algorithm would hold the second until the first is acknowledged, and the client delays that ACK by
    // up to 40 ms: every such reply would stall. TCP_NODELAY sends each one at once. It is set here, after
    // SO_UPDATE_ACCEPT_CONTEXT, not on the accept socket before AcceptEx: until that update the socket is only "in
    // the default state for a connected socket" (AcceptEx's documentation), and under Wine 8.0 an option set before
    // AcceptEx reads back as 0 after it (measured) — the stall stays.
    BOOL no_delay = TRUE;
    if (setsockopt(client, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&no_delay), sizeof no_delay) ==
        SOCKET_ERROR)
        win::report_error("setsockopt(TCP_NODELAY)", WSAGetLastError());  // slower replies, still correct: carry on
    sockaddr* local = nullptr;
    sockaddr* remote = nullptr;
    int local_length = 0;
    int remote_length = 0;
    // LESSON: iocp-acceptex-sockaddrs
    server.get_accept_ex_sockaddrs(request->data.data(), server.accept_receive_length, kAddressSlot, kAddressSlot,
                                   &local, &local_length, &remote, &remote_length);

    auto* connection = new Connection(win::next_connection_id(), server, server.options.max_line);
    if (remote && remote->sa_family == AF_INET)
        connection->peer_port = ntohs(reinterpret_cast<sockaddr_in*>(remote)->sin_port);
    // LESSON: iocp-acceptex-associate-client
    if (CreateIoCompletionPort(reinterpret_cast<HANDLE>(client), server.port, reinterpret_cast<ULONG_PTR>(connection),
                               0) == nullptr) {
        win::report_error("CreateIoCompletionPort", GetLastError(), connection->id);
        delete connection;
        accept_finished(server, request);
        return;
    }
    win::accounting().connections.fetch_add(1);
    connection->socket = client;
    request->accept_socket = INVALID_SOCKET;  // the connection owns the socket now
    bool stopping;
    {
        // The accept stops counting as the connection starts, in one step, so teardown never sees neither; and
        // the table entry is made under the same lock, so teardown's walk of the table cannot miss it.
        std::lock_guard lock(server.lifetime_lock);
        --server.accepts_outstanding;
        ++server.connections_alive;
        stopping = server.stopping;
        server.table.add(connection->id, connection);
    }
    server.counters.connection_opened();
    TRACE(connection_open, connection->id, 0, connection->peer_port, 0);

    // The accept request counts as the connection's first I/O until it is finished with.
    request->connection = connection;
    std::unique_lock lock(connection->lock);
    ++connection->io_in_flight;
    if (stopping) close_locked(*connection, CloseReason::server_stopping);
    if (server.accept_receive_length > 0) {
        // The first bytes came with the accept (0 bytes: the client connected and closed without a word).
        lock.unlock();
        on_received(server, *connection, request, bytes);  // LESSON: iocp-acceptex-first-data
        return;
    }
    start_receive_locked(server, *connection);
    lock.unlock();
    finish_io(server, *connection, request);
}

// SECTION: wait
//
// A worker: wait on the port for one packet, handle it, wait again. An accept's packet names the listener's key
// (0) and an IoRequest whose operation is accept; every other packet names its Connection.
DWORD WINAPI worker_main(LPVOID parameter);
void dispatch(AcceptExServer& server, Connection& connection, IoRequest* request, DWORD bytes, DWORD error);

DWORD WINAPI worker_main(LPVOID parameter) {
    AcceptExServer& server = *static_cast<AcceptExServer*>(parameter);
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
            if (!ok) win::report_error("GetQueuedCompletionStatus", error);
            break;
        }
        IoRequest* request = CONTAINING_RECORD(overlapped, IoRequest, overlapped);
        if (request->operation == IoOp::accept) {
            TRACE(wait_end, 0, ok ? Wake::completion : Wake::failed_completion, bytes, error);
            TRACE(packet_dequeued, 0, 0, 0, request->id);
            trace::gate_point(0);
            TRACE(io_completed, 0, IoOp::accept, bytes, error);
            on_accepted(server, request, bytes, error);
            continue;
        }
        auto* connection = reinterpret_cast<Connection*>(key);
        TRACE(wait_end, connection->id, ok ? Wake::completion : Wake::failed_completion, bytes, error);
        TRACE(packet_dequeued, connection->id, 0, 0, request->id);
        win::sample_queue_depth(server.port);
        trace::gate_point(connection->id);
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
void on_sent(AcceptExServer& server, Connection& connection, IoRequest* request, DWORD bytes);

void dispatch(AcceptExServer& server, Connection& connection, IoRequest* request, DWORD bytes, DWORD error) {
    TRACE(io_completed, connection.id, request->operation, bytes, error);
    if (error != 0) {
        // ERROR_NETNAME_DELETED: the client reset the connection. ERROR_OPERATION_ABORTED: we closed the socket
        // (teardown, or a close while this I/O was in flight). Either way the I/O is over; free it.
        std::unique_lock lock(connection.lock);
        close_locked(connection, error == ERROR_OPERATION_ABORTED ? CloseReason::server_stopping : CloseReason::reset);
        lock.unlock();
        finish_io(server, connection, request);
        return;
    }
    if (request->operation == IoOp::receive) on_received(server, connection, request, bytes);
    else on_sent(server, connection, request, bytes);
}

// Also called with an accept request whose first bytes (request->data) came with the connection.
void on_received(AcceptExServer& server, Connection& connection, IoRequest* request, DWORD bytes) {
    std::string replies;
    protocol::Session::Verdict verdict = protocol::Session::Verdict::keep_open;
    bool draining;
    {
        std::lock_guard lock(connection.lock);
        draining = connection.draining || connection.close_when_sent;
    }
    // The session runs without the connection's lock: only this worker touches it, since one receive at a time
    // is in flight per connection.
    if (bytes == 0) {
        if (!draining) verdict = connection.session.on_peer_closed(replies);  // LESSON: iocp-acceptex-peer-closed
    } else if (!draining) {
        server.counters.bytes_in.fetch_add(bytes, std::memory_order_relaxed);
        verdict = connection.session.on_receive(request->data.data(), bytes, replies);
    }

    std::unique_lock lock(connection.lock);
    if (bytes == 0) {
        connection.peer_finished = true;
        connection.close_when_sent = true;
        if (connection.reason == CloseReason::none) connection.reason = CloseReason::peer_closed;
    } else if (connection.draining || connection.close_when_sent) {
        connection.drained_bytes += bytes;
        if (connection.drained_bytes > kMaxDrainBytes) close_locked(connection, connection.reason);
    }
    if (verdict == protocol::Session::Verdict::close_after_replies && !connection.close_when_sent) {
        connection.close_when_sent = true;
        connection.reason = connection.session.close_reason();
    }
    if (!replies.empty()) queue_send_locked(server, connection, replies);
    if (connection.close_when_sent && !connection.send_in_flight && connection.socket != INVALID_SOCKET) {
        if (connection.peer_finished) {
            close_locked(connection, connection.reason);
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
    else if (!connection.peer_finished) start_receive_locked(server, connection);
    lock.unlock();
    finish_io(server, connection, request);
}

void on_sent(AcceptExServer& server, Connection& connection, IoRequest* request, DWORD bytes) {
    server.counters.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    std::unique_lock lock(connection.lock);
    if (bytes < request->data.size() && connection.socket != INVALID_SOCKET) {
        // A partial send: the unsent rest goes back to the front of the queue, ahead of anything queued since.
        connection.send_queue.insert(0, request->data, bytes);  // LESSON: iocp-acceptex-partial-send
    }
    connection.send_in_flight = false;
    if (!connection.send_queue.empty()) {
        queue_send_locked(server, connection, {});
    } else if (connection.close_when_sent && connection.socket != INVALID_SOCKET) {
        if (connection.peer_finished) {
            close_locked(connection, connection.reason);
        } else if (!connection.draining) {
            shutdown(connection.socket, SD_SEND);
            connection.draining = true;
        }
    }
    if (connection.reading_paused && connection.send_queue.size() < kMaxQueuedBytes) {
        connection.reading_paused = false;  // the replies have gone: read from this client again
        start_receive_locked(server, connection);
    }
    lock.unlock();
    finish_io(server, connection, request);
}

// SECTION: send
//
// Replies and broadcasts are appended to the connection's send queue; at most one WSASend is in flight, so bytes
// leave in the order they were queued. WSASend on an overlapped socket returns at once: 0 (done already — the
// packet is queued anyway) or SOCKET_ERROR with WSA_IO_PENDING (in progress). Anything else is a real error.
bool start_receive_locked(AcceptExServer& server, Connection& connection) {
    if (connection.socket == INVALID_SOCKET) return false;
    auto* request = new IoRequest;
    request->operation = IoOp::receive;
    request->id = server.next_io_id++;
    request->connection = &connection;
    request->data.resize(kReceiveBufferSize);
    request->buffer.buf = request->data.data();
    request->buffer.len = static_cast<ULONG>(request->data.size());
    DWORD flags = 0;
    TRACE(io_posted, connection.id, IoOp::receive, request->buffer.len, request->id);
    // LESSON: iocp-acceptex-post-receive
    if (WSARecv(connection.socket, &request->buffer, 1, nullptr, &flags, &request->overlapped, nullptr) ==
            SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSARecv", error, connection.id);
        delete request;
        close_locked(connection, error == WSAECONNRESET ? CloseReason::reset : CloseReason::error);
        return false;
    }
    ++connection.io_in_flight;
    return true;
}

void queue_send_locked(AcceptExServer& server, Connection& connection, std::string_view bytes) {
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
    // LESSON: iocp-acceptex-post-send
    if (WSASend(connection.socket, &request->buffer, 1, nullptr, 0, &request->overlapped, nullptr) == SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSASend", error, connection.id);
        delete request;
        close_locked(connection, error == WSAECONNRESET ? CloseReason::reset : CloseReason::error);
        return;
    }
    connection.send_in_flight = true;
    ++connection.io_in_flight;
}

std::size_t AcceptExServer::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        std::lock_guard lock(other->lock);
        if (other->socket == INVALID_SOCKET || other->close_when_sent) return false;
        queue_send_locked(*this, *other, message);
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
void close_locked(Connection& connection, CloseReason reason) {
    if (connection.socket == INVALID_SOCKET) return;
    if (connection.reason == CloseReason::none || reason == CloseReason::reset) connection.reason = reason;
    win::close_socket(connection.socket);  // LESSON: iocp-acceptex-close-cancels
    connection.send_queue.clear();
}

// Called once per handled packet of a connection.
void finish_io(AcceptExServer& server, Connection& connection, IoRequest* request) {
    bool last;
    {
        std::lock_guard lock(connection.lock);
        if (request) --connection.io_in_flight;
        last = connection.io_in_flight == 0 && connection.socket == INVALID_SOCKET;
        if (!last && connection.io_in_flight == 0 && !connection.send_in_flight) {
            // Nothing in flight and nothing to wait for: a connection we must close ourselves.
            close_locked(connection, connection.reason == CloseReason::none ? CloseReason::error : connection.reason);
            last = true;
        }
    }
    delete request;
    if (!last) return;
    // No packet can mention this connection any more: leave the table (so no broadcast reaches it) and free it.
    server.table.remove(connection.id);
    TRACE(connection_close, connection.id, connection.reason, 0, 0);
    server.counters.connection_closed();
    delete &connection;
    win::accounting().connections.fetch_sub(1);
    {
        std::lock_guard lock(server.lifetime_lock);
        --server.connections_alive;
    }
    server.something_ended.notify_all();
}

// The silent-client guard of --accept-data: an accept socket that has had a client for idle_seconds without a
// byte arriving is closed, which ends its AcceptEx with an error; the worker that takes that packet posts a new
// AcceptEx in its place. And when every posted accept already holds a client, clients arriving now wait in the
// listen backlog behind the silent ones: post as many accepts again (up to kAcceptPoolLimitFactor times
// --accepts), so a burst of silent clients costs one idle period, not one per --accepts of them.
constexpr unsigned kAcceptPoolLimitFactor = 16;

void close_silent_clients(AcceptExServer& server) {
    unsigned holding_a_client = 0;
    unsigned posted = 0;
    {
        std::lock_guard lock(server.lifetime_lock);
        posted = static_cast<unsigned>(server.pending_accepts.size());
        for (IoRequest* request : server.pending_accepts) {
            if (request->accept_socket == INVALID_SOCKET) continue;
            DWORD seconds = 0;
            int length = sizeof seconds;
            // LESSON: iocp-acceptex-connect-time
            if (getsockopt(request->accept_socket, SOL_SOCKET, SO_CONNECT_TIME, reinterpret_cast<char*>(&seconds),
                           &length) == SOCKET_ERROR) {
                TRACE_ERROR("getsockopt(SO_CONNECT_TIME)", WSAGetLastError(), 0);
                continue;
            }
            if (seconds == 0xFFFFFFFF) continue;  // no client yet
            ++holding_a_client;
            if (seconds < server.options.idle_seconds) continue;
            TRACE(connection_close, 0, CloseReason::idle, seconds, request->id);
            win::close_socket(request->accept_socket);  // LESSON: iocp-acceptex-close-idle
        }
    }
    if (posted > 0 && holding_a_client == posted) {
        unsigned most = kAcceptPoolLimitFactor * std::max(1u, server.options.accepts);
        std::lock_guard lock(server.lifetime_lock);
        server.accepts_wanted = std::min(most, server.accepts_wanted + posted);  // LESSON: iocp-acceptex-grow
    }
}

// Posts accepts until the pool holds accepts_wanted; true if it is still short because a post failed. The
// pool running dry would be silent — the server would look ready and accept nobody — so that is said, once,
// and so is the moment accepting resumes.
bool refill_accepts(AcceptExServer& server) {
    bool short_of_accepts = false;
    for (;;) {
        {
            std::lock_guard lock(server.lifetime_lock);
            if (server.stopping || server.pending_accepts.size() >= server.accepts_wanted) break;
        }
        if (!post_accept(server)) {
            short_of_accepts = true;
            break;
        }
    }
    bool pool_empty;
    {
        std::lock_guard lock(server.lifetime_lock);
        pool_empty = server.pending_accepts.empty() && !server.stopping;
    }
    if (pool_empty && !server.said_pool_empty) {
        std::fprintf(stderr,
                     "socklab-server: no AcceptEx is posted: new clients wait in the listen backlog; "
                     "trying again every %lu ms\n",
                     static_cast<unsigned long>(kIdleCheckMilliseconds));
        TRACE_ERROR("no AcceptEx posted", WSAEMFILE, 0);
        server.said_pool_empty = true;
    } else if (!pool_empty && server.said_pool_empty) {
        std::fprintf(stderr, "socklab-server: AcceptEx posted again: accepting\n");
        server.said_pool_empty = false;
    }
    return short_of_accepts;
}

// The run thread's wait: for the stop event and for a failed post. It keeps the pool of posted accepts full —
// a post that failed is tried again every half second — and, when AcceptEx waits for data, wakes every half
// second to look for silent clients.
void wait_for_stop(AcceptExServer& server) {
    HANDLE events[] = {server.control.stop_event(), server.post_failed};
    for (;;) {
        bool short_of_accepts = refill_accepts(server);
        DWORD timeout = server.accept_receive_length > 0 || short_of_accepts ? kIdleCheckMilliseconds : INFINITE;
        TRACE(wait_begin, 0, WaitOn::stop, 0, 0);
        DWORD result = WaitForMultipleObjects(2, events, FALSE, timeout);
        if (result == WAIT_OBJECT_0) {
            TRACE(wait_end, 0, Wake::stop, 0, 0);
            return;
        }
        if (result == WAIT_FAILED) {
            TRACE(wait_end, 0, Wake::error, 0, GetLastError());
            win::report_error("WaitForMultipleObjects", GetLastError());
            return;
        }
        TRACE(wait_end, 0, result == WAIT_TIMEOUT ? Wake::timeout : Wake::event, 0, 0);
        if (server.accept_receive_length > 0) close_silent_clients(server);
    }
}

void shut_down(AcceptExServer& server, std::vector<HANDLE>& workers) {
    {
        std::lock_guard lock(server.lifetime_lock);
        server.stopping = true;
        // Every posted AcceptEx ends with ERROR_OPERATION_ABORTED; each packet frees its request. The listener
        // itself stays open until the last of them has been handled: a worker finishing an accept still names it
        // in SO_UPDATE_ACCEPT_CONTEXT.
        if (!CancelIoEx(reinterpret_cast<HANDLE>(server.listener), nullptr) && GetLastError() != ERROR_NOT_FOUND)
            win::report_error("CancelIoEx", GetLastError());  // LESSON: iocp-acceptex-cancel-accepts
    }
    server.table.for_each_except(0, [](Connection* connection) {
        std::lock_guard lock(connection->lock);
        close_locked(*connection, CloseReason::server_stopping);
        return true;
    });
    {
        std::unique_lock lock(server.lifetime_lock);
        auto all_ended = [&] { return server.connections_alive == 0 && server.accepts_outstanding == 0; };
        // Cancelling should end every accept within moments. If one is still outstanding after two seconds (seen
        // once under Wine on a loaded machine), closing the listener ends it for certain: a worker then finishing
        // that accept finds SO_UPDATE_ACCEPT_CONTEXT failing, reports it, and frees the request all the same.
        if (!server.something_ended.wait_for(lock, std::chrono::seconds(2), all_ended)) {
            win::close_socket(server.listener);
            server.something_ended.wait(lock, all_ended);
        }
    }
    win::close_socket(server.listener);
    // Every accept and connection is gone; the workers are idle on the port. One empty packet each.
    for (std::size_t i = 0; i < workers.size(); ++i)
        PostQueuedCompletionStatus(server.port, 0, 0, nullptr);  // LESSON: iocp-acceptex-shutdown-packets
    win::join_threads(workers);  // in chunks: one WaitForMultipleObjects takes at most 64 handles
    win::record_final_queue_depth(server.port);
    CloseHandle(server.port);
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    AcceptExServer server(options, control);
    unsigned processors = win::processor_count();
    unsigned worker_count = options.workers ? options.workers : 2 * processors;
    server.accept_receive_length = options.accept_data ? kReceiveBufferSize - 2 * kAddressSlot : 0;
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
    SOCKET listener = win::create_listener(options, port_number);
    if (listener == INVALID_SOCKET) {
        CloseHandle(server.port);
        control.report_failed();
        return 1;
    }
    win::track_socket(listener);  // counted like the accept sockets, since win::close_socket closes it
    server.listener = listener;
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
    for (unsigned i = 0; i < worker_count; ++i) {
        HANDLE worker = CreateThread(nullptr, 0, worker_main, &server, 0, nullptr);
        if (worker == nullptr) {
            win::report_error("CreateThread", GetLastError());
            break;
        }
        workers.push_back(worker);
        win::accounting().threads.fetch_add(1);
    }
    server.accepts_wanted = std::max(1u, options.accepts);
    unsigned posted = 0;
    for (unsigned i = 0; i < server.accepts_wanted; ++i) posted += post_accept(server) ? 1 : 0;
    if (posted == 0 || workers.empty()) {
        // Not one accept could be posted at start: a server that would accept nobody does not claim to be ready.
        shut_down(server, workers);
        control.report_failed();
        trace::thread_exiting();
        return 1;
    }
    control.report_ready(port_number);

    wait_for_stop(server);

    shut_down(server, workers);
    trace::thread_exiting();
    return 0;
}

}  // namespace

int run_iocp_acceptex(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
