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

#include <condition_variable>
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

// SECTION: state
//
// One IoRequest per overlapped operation in flight. The OVERLAPPED comes back in the completion packet, and
// CONTAINING_RECORD turns it back into the IoRequest around it.
struct Connection;

struct IoRequest : win::CountedIoObject<IoRequest> {
    OVERLAPPED overlapped{};
    IoOp operation = IoOp::none;
    std::uint32_t id = 0;  // names the I/O in traces: io_posted → packet_dequeued
    Connection* connection = nullptr;
    std::string data;  // receive: the buffer; send: the bytes still to send
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

struct IocpServer : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    HANDLE port = nullptr;
    SOCKET listener = INVALID_SOCKET;
    win::ConnectionTable<Connection> table;
    std::atomic<std::uint32_t> next_io_id{1};

    std::mutex connections_lock;
    std::condition_variable connections_gone;
    unsigned connections_alive = 0;  // guarded by connections_lock

    IocpServer(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("iocp"); }
};

bool start_receive_locked(IocpServer& server, Connection& connection);
void queue_send_locked(IocpServer& server, Connection& connection, std::string_view bytes);
void close_locked(Connection& connection, CloseReason reason);
void finish_io(IocpServer& server, Connection& connection, IoRequest* request);

// SECTION: listen
//
// The acceptor: a blocking accept() loop. Each new socket is associated with the completion port, with its
// Connection as the completion key, and gets its first overlapped receive.
VOID CALLBACK on_stop_requested(PVOID context, BOOLEAN /*timed_out*/) {
    auto* server = static_cast<IocpServer*>(context);
    win::wake_blocked_accept(server->listener);  // accept() returns; the acceptor sees the stop
}

void accept_clients(IocpServer& server) {
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
        connection->socket = client;
        connection->peer_port = ntohs(peer.sin_port);
        // LESSON: iocp-associate
        if (CreateIoCompletionPort(reinterpret_cast<HANDLE>(client), server.port,
                                   reinterpret_cast<ULONG_PTR>(connection), 0) == nullptr) {
            win::report_error("CreateIoCompletionPort", GetLastError(), connection->id);
            win::close_socket(client);
            delete connection;
            win::accounting().connections.fetch_sub(1);
            continue;
        }
        {
            std::lock_guard lock(server.connections_lock);
            ++server.connections_alive;
        }
        server.counters.connection_opened();
        server.table.add(connection->id, connection);
        TRACE(connection_open, connection->id, 0, connection->peer_port, 0);

        std::unique_lock lock(connection->lock);
        if (!start_receive_locked(server, *connection) && connection->io_in_flight == 0) {
            lock.unlock();
            finish_io(server, *connection, nullptr);  // nothing in flight: free it now
        }
    }
}

// SECTION: wait
//
// A worker: wait on the port for one packet, handle it, wait again. The packet says which connection
// (the completion key), which I/O (the OVERLAPPED) and how many bytes it moved.
DWORD WINAPI worker_main(LPVOID parameter);
void dispatch(IocpServer& server, Connection& connection, IoRequest* request, DWORD bytes, DWORD error);

DWORD WINAPI worker_main(LPVOID parameter) {
    IocpServer& server = *static_cast<IocpServer*>(parameter);
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
            if (!ok) win::report_error("GetQueuedCompletionStatus", error);
            break;
        }
        // LESSON: iocp-containing-record
        IoRequest* request = CONTAINING_RECORD(overlapped, IoRequest, overlapped);
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
void on_received(IocpServer& server, Connection& connection, IoRequest* request, DWORD bytes);
void on_sent(IocpServer& server, Connection& connection, IoRequest* request, DWORD bytes);

void dispatch(IocpServer& server, Connection& connection, IoRequest* request, DWORD bytes, DWORD error) {
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

void on_received(IocpServer& server, Connection& connection, IoRequest* request, DWORD bytes) {
    std::string replies;
    protocol::Session::Verdict verdict = protocol::Session::Verdict::keep_open;
    bool draining;
    {
        std::lock_guard lock(connection.lock);
        draining = connection.draining || connection.close_when_sent;
    }
    // The session runs without the connection's lock: only this worker touches it, since one receive at a time
    // is in flight per connection. (A /work here may block; other connections carry on on other workers.)
    if (bytes == 0) {
        if (!draining) verdict = connection.session.on_peer_closed(replies);  // LESSON: iocp-peer-closed
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

void on_sent(IocpServer& server, Connection& connection, IoRequest* request, DWORD bytes) {
    server.counters.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    std::unique_lock lock(connection.lock);
    if (bytes < request->data.size() && connection.socket != INVALID_SOCKET) {
        // A partial send: the unsent rest goes back to the front of the queue, ahead of anything queued since.
        connection.send_queue.insert(0, request->data, bytes);  // LESSON: iocp-partial-send
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
bool start_receive_locked(IocpServer& server, Connection& connection) {
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
    // LESSON: iocp-post-receive
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

void queue_send_locked(IocpServer& server, Connection& connection, std::string_view bytes) {
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
    // LESSON: iocp-post-send
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

std::size_t IocpServer::broadcast(std::uint32_t from, std::string_view message) {
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
// still arrive, and only when the last one has been handled is the Connection freed. Shutdown therefore is:
// stop accepting, close every socket, wait until every Connection is gone, then tell the workers to exit.
void close_locked(Connection& connection, CloseReason reason) {
    if (connection.socket == INVALID_SOCKET) return;
    if (connection.reason == CloseReason::none || reason == CloseReason::reset) connection.reason = reason;
    win::close_socket(connection.socket);  // LESSON: iocp-close-cancels
    connection.send_queue.clear();
}

// Called once per handled packet (and once for a connection whose first receive could not start).
void finish_io(IocpServer& server, Connection& connection, IoRequest* request) {
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
        std::lock_guard lock(server.connections_lock);
        --server.connections_alive;
    }
    server.connections_gone.notify_all();
}

void shut_down(IocpServer& server, std::vector<HANDLE>& workers) {
    server.table.for_each_except(0, [](Connection* connection) {
        std::lock_guard lock(connection->lock);
        close_locked(*connection, CloseReason::server_stopping);
        return true;
    });
    {
        std::unique_lock lock(server.connections_lock);
        server.connections_gone.wait(lock, [&] { return server.connections_alive == 0; });
    }
    // Every connection is gone; the workers are idle on the port. One empty packet (key 0, no OVERLAPPED) each.
    for (std::size_t i = 0; i < workers.size(); ++i)
        PostQueuedCompletionStatus(server.port, 0, 0, nullptr);  // LESSON: iocp-shutdown-packets
    win::join_threads(workers);  // in chunks: one WaitForMultipleObjects takes at most 64 handles
    win::record_final_queue_depth(server.port);
    CloseHandle(server.port);
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    IocpServer server(options, control);
    unsigned processors = win::processor_count();
    unsigned worker_count = options.workers ? options.workers : 2 * processors;
    // LESSON: iocp-create-port
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
    trace::name_thread("acceptor");
    win::announce_server("iocp", options.concurrency ? options.concurrency : processors);

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
    HANDLE stop_wait = nullptr;
    RegisterWaitForSingleObject(&stop_wait, control.stop_event(), on_stop_requested, &server, INFINITE,
                                WT_EXECUTEONLYONCE);
    control.report_ready(port_number);

    accept_clients(server);

    UnregisterWaitEx(stop_wait, INVALID_HANDLE_VALUE);
    closesocket(server.listener);  // the acceptor has returned and the callback has finished: nobody uses it
    shut_down(server, workers);
    trace::thread_exiting();
    return 0;
}

}  // namespace

int run_iocp(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
