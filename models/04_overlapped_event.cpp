// models/04_overlapped_event.cpp — overlapped WSARecv/WSASend, an event per I/O, WSAWaitForMultipleEvents.

// SECTION: abstract
//
// How the network reaches the code: as signalled events. Every overlapped WSARecv or WSASend is started with
// an OVERLAPPED whose hEvent is an event object of its own. The call returns at once; when the kernel has
// finished the I/O (the bytes are already in our buffer, or already handed to the transport) it signals that
// event. A thread waits for any of its events with WSAWaitForMultipleEvents, learns from the index which I/O
// finished, and asks WSAGetOverlappedResult how many bytes it moved and whether it failed.
//
// Where state lives: per socket, a Connection (socket, session, send queue, the receive and the send in
// flight); per I/O, an IoRequest (the OVERLAPPED with its event, the buffer, what kind of I/O it was),
// allocated when the I/O starts and freed only after its event has been signalled and its result read — the
// kernel writes into the OVERLAPPED and the buffer until then.
//
// Threads: one acceptor blocked in accept(), and groups. A group is one thread and the connections it serves;
// only that thread starts I/O on them and only it waits for their events, so the list of events it waits on
// is its own to rebuild before each wait. A broadcast from another group appends to a connection's send queue
// and signals the owning group's wake event; the owner starts the send.
//
// Limits, honestly: WSAWaitForMultipleEvents waits for at most WSA_MAXIMUM_WAIT_EVENTS (64) handles. A group
// waits on the stop event, its wake event and two I/O events per connection (one receive and one send in
// flight at most), so a group serves at most (64 - 2) / 2 = 31 connections. The code gets past the limit the
// plain way: the acceptor fills groups and starts a new group thread when every group is full — 1,000 clients
// take 33 threads. The cost: a thread per 31 clients, a handle per I/O, and one /work that blocks stalls every
// client of its group (but no other group). WSAWaitForMultipleEvents reports only the lowest signalled index,
// so a busy connection early in the list could starve the others; each group rotates the order of its list
// after every wake, so every connection gets its turn at the front.

#include <algorithm>
#include <memory>
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
// Two wait slots for the stop and wake events, two per connection for its receive and its send.
constexpr std::size_t kConnectionsPerGroup = (WSA_MAXIMUM_WAIT_EVENTS - 2) / 2;

// SECTION: state
//
// One IoRequest per overlapped operation in flight, with an event object of its own in overlapped.hEvent.
struct Connection;
struct Group;

struct IoRequest : win::CountedIoObject<IoRequest> {
    OVERLAPPED overlapped{};  // overlapped.hEvent: the event the kernel signals when this I/O is done
    IoOp operation = IoOp::none;
    std::uint32_t id = 0;  // names the I/O in traces: io_posted → io_completed
    Connection* connection = nullptr;
    std::string data;  // receive: the buffer; send: the bytes being sent
    WSABUF buffer{};
};

// One Connection per client, owned by one group. Only the group's thread starts or finishes I/O on it and runs
// its session; the lock guards what other threads touch too: the send queue (a broadcast appends to it) and
// whether the connection still takes new bytes.
struct Connection {
    std::uint32_t id = 0;
    std::uint16_t peer_port = 0;
    Group* group = nullptr;
    protocol::Session session;
    SOCKET socket = INVALID_SOCKET;  // stays open until the last I/O on it has completed (see teardown)
    IoRequest* receive = nullptr;    // the receive in flight, or nullptr
    IoRequest* send = nullptr;       // the send in flight, or nullptr

    std::mutex lock;
    std::string send_queue;        // bytes waiting for the send in flight to finish
    bool closing = false;          // cancelled: no new I/O; freed once the I/O in flight has completed
    bool close_when_sent = false;  // the session asked to close once its replies are out
    bool peer_finished = false;    // the client closed its side (recv returned 0)
    bool draining = false;         // we said goodbye (shutdown SD_SEND); discarding what still arrives
    bool reading_paused = false;   // no receive posted because the send queue is full (back-pressure)
    std::size_t drained_bytes = 0;
    CloseReason reason = CloseReason::none;

    Connection(std::uint32_t connection_id, protocol::SessionHost& host, std::size_t max_line)
        : id(connection_id), session(connection_id, host, max_line) {}
};

struct OverlappedEventServer;

// A group: one thread, its wake event and up to kConnectionsPerGroup connections.
struct Group {
    OverlappedEventServer* server = nullptr;
    HANDLE thread = nullptr;
    HANDLE wake = nullptr;                 // auto-reset: a connection arrived, or a broadcast queued bytes
    std::vector<Connection*> connections;  // touched by the group's thread only
    std::size_t first_in_wait = 0;         // where the next wait list starts: rotated for fairness

    std::mutex lock;
    std::vector<Connection*> arriving;  // guarded by lock: handed over by the acceptor
    unsigned assigned = 0;              // guarded by lock: connections arriving or served
    bool finished = false;              // guarded by lock: the thread has exited; hand nothing more over
};

struct OverlappedEventServer : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    SOCKET listener = INVALID_SOCKET;
    win::ConnectionTable<Connection> table;
    std::atomic<std::uint32_t> next_io_id{1};
    std::vector<std::unique_ptr<Group>> groups;  // touched by the acceptor (the run thread) only

    OverlappedEventServer(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("overlapped-event"); }
};

void start_receive_locked(OverlappedEventServer& server, Connection& connection);
void start_send_locked(OverlappedEventServer& server, Connection& connection);
void close_locked(Connection& connection, CloseReason reason);
void free_request(IoRequest* request);
bool free_if_finished(OverlappedEventServer& server, Connection& connection);
DWORD WINAPI group_main(LPVOID parameter);

// SECTION: listen
//
// The acceptor: a blocking accept() loop. Each new socket becomes a Connection and is handed to the first group
// with room; when every group is full, a new group (and its thread) is started.
VOID CALLBACK on_stop_requested(PVOID context, BOOLEAN /*timed_out*/) {
    auto* server = static_cast<OverlappedEventServer*>(context);
    win::wake_blocked_accept(server->listener);  // accept() returns; the acceptor sees the stop
}

Group* start_group(OverlappedEventServer& server) {
    auto group = std::make_unique<Group>();
    group->server = &server;
    group->wake = CreateEventW(nullptr, FALSE, FALSE, nullptr);
    if (group->wake == nullptr) {
        win::report_error("CreateEventW", GetLastError());
        return nullptr;
    }
    // LESSON: overlapped-event-new-group
    group->thread = CreateThread(nullptr, 0, group_main, group.get(), 0, nullptr);
    if (group->thread == nullptr) {
        win::report_error("CreateThread", GetLastError());
        CloseHandle(group->wake);
        return nullptr;
    }
    win::accounting().threads.fetch_add(1);
    server.groups.push_back(std::move(group));
    return server.groups.back().get();
}

// Hands a connection to a group with room (starting one if needed). False if no group can take it.
bool hand_to_group(OverlappedEventServer& server, Connection* connection) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        for (auto& group : server.groups) {
            std::lock_guard lock(group->lock);
            if (group->finished || group->assigned >= kConnectionsPerGroup) continue;
            ++group->assigned;
            connection->group = group.get();
            group->arriving.push_back(connection);
            SetEvent(group->wake);  // LESSON: overlapped-event-hand-over
            return true;
        }
        if (server.control.stop_requested() || start_group(server) == nullptr) return false;
    }
    return false;
}

void accept_clients(OverlappedEventServer& server) {
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
        connection->socket = client;
        connection->peer_port = ntohs(peer.sin_port);
        server.counters.connection_opened();
        server.table.add(connection->id, connection);
        TRACE(connection_open, connection->id, 0, connection->peer_port, 0);
        if (!hand_to_group(server, connection)) {
            // Stopping, or no thread could be started: this client is not served.
            server.table.remove(connection->id);
            win::close_socket(connection->socket);
            TRACE(connection_close, connection->id, CloseReason::server_stopping, 0, 0);
            server.counters.connection_closed();
            delete connection;
            win::accounting().connections.fetch_sub(1);
        }
    }
}

// SECTION: wait
//
// A group's thread: build the list of events to wait for (stop, wake, then the event of every I/O in flight),
// wait for any one of them, handle it, repeat. The list is rebuilt before every wait because it changes with
// every I/O started or finished — which is why only this thread starts I/O on its connections.
struct WaitList {
    WSAEVENT events[WSA_MAXIMUM_WAIT_EVENTS];
    IoRequest* requests[WSA_MAXIMUM_WAIT_EVENTS];  // requests[i] owns events[i]; nullptr for stop and wake
    DWORD count = 0;

    void add(WSAEVENT event, IoRequest* request) {
        events[count] = event;
        requests[count] = request;
        ++count;
    }
};

void take_arrivals(OverlappedEventServer& server, Group& group);
void start_queued_sends(OverlappedEventServer& server, Group& group);
void dispatch(OverlappedEventServer& server, Connection& connection, IoRequest* request);
void cancel_everything(Group& group);
void free_finished_connections(OverlappedEventServer& server, Group& group);

DWORD WINAPI group_main(LPVOID parameter) {
    Group& group = *static_cast<Group*>(parameter);
    OverlappedEventServer& server = *group.server;
    trace::name_thread("group");
    bool stopping = false;
    for (;;) {
        WaitList wait;
        if (!stopping) wait.add(server.control.stop_event(), nullptr);  // manual-reset: leave it out once seen
        wait.add(group.wake, nullptr);
        std::size_t count = group.connections.size();
        for (std::size_t k = 0; k < count; ++k) {
            Connection* connection = group.connections[(group.first_in_wait + k) % count];
            if (connection->receive) wait.add(connection->receive->overlapped.hEvent, connection->receive);
            if (connection->send) wait.add(connection->send->overlapped.hEvent, connection->send);
        }
        if (stopping && group.connections.empty()) {
            std::lock_guard lock(group.lock);
            if (group.arriving.empty()) {
                group.finished = true;  // from now on the acceptor hands nothing to this group
                break;
            }
        }

        TRACE(wait_begin, 0, WaitOn::events, wait.count, 0);
        // LESSON: overlapped-event-wait
        DWORD result = WSAWaitForMultipleEvents(wait.count, wait.events, FALSE, WSA_INFINITE, FALSE);
        if (result == WSA_WAIT_FAILED) {
            int error = WSAGetLastError();
            TRACE(wait_end, 0, Wake::error, 0, error);
            win::report_error("WSAWaitForMultipleEvents", error);
            Sleep(10);
            continue;
        }
        DWORD index = result - WSA_WAIT_EVENT_0;  // the LOWEST signalled index, whatever else is signalled
        IoRequest* request = wait.requests[index];
        if (request == nullptr && wait.events[index] == server.control.stop_event()) {
            TRACE(wait_end, 0, Wake::stop, index, 0);
            stopping = true;
            cancel_everything(group);
        } else if (request == nullptr) {
            TRACE(wait_end, 0, Wake::event, index, 0);
            trace::gate_point(0);
            take_arrivals(server, group);
            start_queued_sends(server, group);
            if (stopping) cancel_everything(group);  // a connection that arrived while stopping
        } else {
            Connection& connection = *request->connection;
            TRACE(wait_end, connection.id, Wake::completion, index, 0);
            trace::gate_point(connection.id);
            dispatch(server, connection, request);
            // Fairness: the next wait list starts just after the connection served now, so a connection that is
            // always busy cannot keep the lowest signalled index and starve the ones after it.
            // LESSON: overlapped-event-rotate
            auto position = std::find(group.connections.begin(), group.connections.end(), &connection);
            group.first_in_wait = static_cast<std::size_t>(position - group.connections.begin()) + 1;
        }
        free_finished_connections(server, group);
    }
    trace::thread_exiting();
    return 0;
}

void take_arrivals(OverlappedEventServer& server, Group& group) {
    std::vector<Connection*> arrived;
    {
        std::lock_guard lock(group.lock);
        arrived.swap(group.arriving);
    }
    for (Connection* connection : arrived) {
        group.connections.push_back(connection);
        std::lock_guard lock(connection->lock);
        start_receive_locked(server, *connection);  // the connection's first I/O, started by its owner
    }
}

// Bytes a broadcast queued for a connection of this group while its send queue was idle.
void start_queued_sends(OverlappedEventServer& server, Group& group) {
    for (Connection* connection : group.connections) {
        std::lock_guard lock(connection->lock);
        if (connection->send == nullptr && !connection->send_queue.empty()) start_send_locked(server, *connection);
    }
}

// SECTION: dispatch
//
// An event was signalled: its I/O is over. WSAGetOverlappedResult (without waiting) says how it ended; a
// receive feeds the session and starts the next receive; a send finishes (or continues, if partial) and starts
// the next queued one. Either way the IoRequest is freed here, after its completion — never before.
void on_received(OverlappedEventServer& server, Connection& connection, const std::string& data);
void on_sent(OverlappedEventServer& server, Connection& connection, IoRequest* request, DWORD bytes);

void dispatch(OverlappedEventServer& server, Connection& connection, IoRequest* request) {
    DWORD bytes = 0;
    DWORD flags = 0;
    // LESSON: overlapped-event-get-result
    BOOL ok = WSAGetOverlappedResult(connection.socket, &request->overlapped, &bytes, FALSE, &flags);
    DWORD error = ok ? 0 : WSAGetLastError();
    TRACE(io_completed, connection.id, request->operation, bytes, error);
    if (request->operation == IoOp::receive) connection.receive = nullptr;
    else connection.send = nullptr;

    if (error != 0) {
        // WSA_OPERATION_ABORTED: we cancelled it (teardown, or a close while it was in flight). WSAECONNRESET:
        // the client reset the connection. Either way this I/O is over and its request can go.
        std::lock_guard lock(connection.lock);
        close_locked(connection, error == WSA_OPERATION_ABORTED ? CloseReason::server_stopping : CloseReason::reset);
        free_request(request);  // LESSON: overlapped-event-free-after-completion
        return;
    }
    if (request->operation == IoOp::receive) {
        server.counters.bytes_in.fetch_add(bytes, std::memory_order_relaxed);
        std::string data = std::move(request->data);
        data.resize(bytes);
        free_request(request);
        on_received(server, connection, data);
        return;
    }
    on_sent(server, connection, request, bytes);
}

void on_received(OverlappedEventServer& server, Connection& connection, const std::string& data) {
    std::string replies;
    protocol::Session::Verdict verdict = protocol::Session::Verdict::keep_open;
    bool draining;
    {
        std::lock_guard lock(connection.lock);
        draining = connection.draining || connection.close_when_sent;
    }
    // The session runs without the connection's lock: only this group's thread ever runs it. (A /work here
    // blocks this thread, and with it every connection of the group — but no other group.)
    if (data.empty()) {
        if (!draining) verdict = connection.session.on_peer_closed(replies);  // LESSON: overlapped-event-peer-closed
    } else if (!draining) {
        verdict = connection.session.on_receive(data.data(), data.size(), replies);
    }

    std::lock_guard lock(connection.lock);
    if (data.empty()) {
        connection.peer_finished = true;
        connection.close_when_sent = true;
        if (connection.reason == CloseReason::none) connection.reason = CloseReason::peer_closed;
    } else if (connection.draining || connection.close_when_sent) {
        connection.drained_bytes += data.size();
        if (connection.drained_bytes > kMaxDrainBytes) close_locked(connection, connection.reason);
    }
    if (verdict == protocol::Session::Verdict::close_after_replies && !connection.close_when_sent) {
        connection.close_when_sent = true;
        connection.reason = connection.session.close_reason();
    }
    if (!replies.empty() && !connection.closing) {
        connection.send_queue.append(replies);
        start_send_locked(server, connection);
    }
    if (connection.close_when_sent && connection.send == nullptr && !connection.closing) {
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
}

void on_sent(OverlappedEventServer& server, Connection& connection, IoRequest* request, DWORD bytes) {
    server.counters.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    std::lock_guard lock(connection.lock);
    if (bytes < request->data.size() && !connection.closing) {
        // A partial send: the unsent rest goes back to the front of the queue, ahead of anything queued since.
        connection.send_queue.insert(0, request->data, bytes);  // LESSON: overlapped-event-partial-send
    }
    free_request(request);
    if (!connection.send_queue.empty()) {
        start_send_locked(server, connection);
    } else if (connection.close_when_sent && !connection.closing) {
        if (connection.peer_finished) {
            close_locked(connection, connection.reason);
        } else if (!connection.draining) {
            shutdown(connection.socket, SD_SEND);  // goodbye said; read until the client closes too
            connection.draining = true;
        }
    }
    if (connection.reading_paused && connection.send_queue.size() < kMaxQueuedBytes) {
        connection.reading_paused = false;  // the replies have gone: read from this client again
        start_receive_locked(server, connection);
    }
}

// SECTION: send
//
// Replies and broadcasts are appended to the connection's send queue; at most one WSASend is in flight, so bytes
// leave in the order they were queued. Both calls return at once: 0 (done already — the event is signalled
// anyway) or SOCKET_ERROR with WSA_IO_PENDING (in progress). Anything else is a real error, and then no event
// will ever be signalled for that request: it is freed on the spot.
IoRequest* new_request(OverlappedEventServer& server, Connection& connection, IoOp operation) {
    // LESSON: overlapped-event-event-per-io
    WSAEVENT event = WSACreateEvent();
    if (event == WSA_INVALID_EVENT) {
        win::report_error("WSACreateEvent", WSAGetLastError(), connection.id);
        return nullptr;
    }
    auto* request = new IoRequest;
    request->overlapped.hEvent = event;
    request->operation = operation;
    request->id = server.next_io_id++;
    request->connection = &connection;
    return request;
}

void free_request(IoRequest* request) {
    WSACloseEvent(request->overlapped.hEvent);
    delete request;
}

void start_receive_locked(OverlappedEventServer& server, Connection& connection) {
    if (connection.closing || connection.receive != nullptr) return;
    IoRequest* request = new_request(server, connection, IoOp::receive);
    if (request == nullptr) {
        close_locked(connection, CloseReason::error);
        return;
    }
    request->data.resize(kReceiveBufferSize);
    request->buffer.buf = request->data.data();
    request->buffer.len = static_cast<ULONG>(request->data.size());
    DWORD flags = 0;
    TRACE(io_posted, connection.id, IoOp::receive, request->buffer.len, request->id);
    // LESSON: overlapped-event-post-receive
    if (WSARecv(connection.socket, &request->buffer, 1, nullptr, &flags, &request->overlapped, nullptr) ==
            SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSARecv", error, connection.id);
        free_request(request);
        close_locked(connection, error == WSAECONNRESET ? CloseReason::reset : CloseReason::error);
        return;
    }
    connection.receive = request;
}

// Called by the owning group's thread only: the new request's event must join that thread's wait list.
void start_send_locked(OverlappedEventServer& server, Connection& connection) {
    if (connection.closing || connection.send != nullptr || connection.send_queue.empty()) return;
    IoRequest* request = new_request(server, connection, IoOp::send);
    if (request == nullptr) {
        close_locked(connection, CloseReason::error);
        return;
    }
    request->data.swap(connection.send_queue);
    request->buffer.buf = request->data.data();
    request->buffer.len = static_cast<ULONG>(request->data.size());
    TRACE(io_posted, connection.id, IoOp::send, request->buffer.len, request->id);
    // LESSON: overlapped-event-post-send
    if (WSASend(connection.socket, &request->buffer, 1, nullptr, 0, &request->overlapped, nullptr) == SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSASend", error, connection.id);
        free_request(request);
        close_locked(connection, error == WSAECONNRESET ? CloseReason::reset : CloseReason::error);
        return;
    }
    connection.send = request;
}

// Runs on the sender's thread, which may belong to another group: queue the bytes and wake the owner, which
// starts the send (only the owner may add an event to its own wait list).
std::size_t OverlappedEventServer::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        std::lock_guard lock(other->lock);
        if (other->closing || other->close_when_sent) return false;
        other->send_queue.append(message);
        SetEvent(other->group->wake);  // LESSON: overlapped-event-broadcast-wakes-owner
        return true;
    });
}

// SECTION: teardown
//
// Cancelling is not freeing. CancelIoEx asks the kernel to end every I/O in flight on the socket; each one then
// completes with WSA_OPERATION_ABORTED and signals its event like any other completion, and only then is its
// IoRequest freed. The socket stays open until that last completion, because WSAGetOverlappedResult needs it;
// then it is closed and the Connection freed. Shutdown is the same for every connection at once: each group
// cancels all its I/O when it sees the stop event, waits until every request has come back, and exits.
void close_locked(Connection& connection, CloseReason reason) {
    if (connection.closing) return;
    if (connection.reason == CloseReason::none || reason == CloseReason::reset) connection.reason = reason;
    connection.closing = true;
    connection.send_queue.clear();
    if (connection.receive || connection.send) {
        // LESSON: overlapped-event-cancel
        if (!CancelIoEx(reinterpret_cast<HANDLE>(connection.socket), nullptr) && GetLastError() != ERROR_NOT_FOUND)
            TRACE_ERROR("CancelIoEx", GetLastError(), connection.id);
    }
}

void cancel_everything(Group& group) {
    for (Connection* connection : group.connections) {
        std::lock_guard lock(connection->lock);
        close_locked(*connection, CloseReason::server_stopping);
    }
}

// A connection with no I/O in flight is either closing (free it now) or stuck (nothing will ever wake it: close
// it). Returns true if it was freed.
bool free_if_finished(OverlappedEventServer& server, Connection& connection) {
    {
        std::lock_guard lock(connection.lock);
        if (connection.receive || connection.send) return false;
        if (!connection.send_queue.empty() && !connection.closing) return false;  // a broadcast is about to start
        close_locked(connection, connection.reason == CloseReason::none ? CloseReason::error : connection.reason);
    }
    // No event can mention this connection any more: leave the table (so no broadcast reaches it), close, free.
    server.table.remove(connection.id);
    win::close_socket(connection.socket);
    TRACE(connection_close, connection.id, connection.reason, 0, 0);
    server.counters.connection_closed();
    Group& group = *connection.group;
    delete &connection;
    win::accounting().connections.fetch_sub(1);
    std::lock_guard lock(group.lock);
    --group.assigned;
    return true;
}

void free_finished_connections(OverlappedEventServer& server, Group& group) {
    auto& connections = group.connections;
    connections.erase(std::remove_if(connections.begin(), connections.end(),
                                     [&](Connection* connection) { return free_if_finished(server, *connection); }),
                      connections.end());
}

// The groups exit by themselves once the stop event is signalled and their last I/O has come back.
void wait_for_groups(OverlappedEventServer& server) {
    // One at a time: WaitForMultipleObjects has the same 64-handle limit, and there may be more groups.
    for (auto& group : server.groups) {
        WaitForSingleObject(group->thread, INFINITE);  // LESSON: overlapped-event-join-groups
        CloseHandle(group->thread);
        CloseHandle(group->wake);
        win::accounting().threads.fetch_sub(1);
    }
    server.groups.clear();
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    OverlappedEventServer server(options, control);
    std::uint16_t port_number = 0;
    server.listener = win::create_listener(options, port_number);
    if (server.listener == INVALID_SOCKET) {
        control.report_failed();
        return 1;
    }
    trace::name_thread("acceptor");
    win::announce_server("overlapped-event", 0);
    HANDLE stop_wait = nullptr;
    RegisterWaitForSingleObject(&stop_wait, control.stop_event(), on_stop_requested, &server, INFINITE,
                                WT_EXECUTEONLYONCE);
    control.report_ready(port_number);

    accept_clients(server);

    UnregisterWaitEx(stop_wait, INVALID_HANDLE_VALUE);  // waits for the callback if it is running
    closesocket(server.listener);  // the acceptor has returned and the callback has finished: nobody uses it
    wait_for_groups(server);
    trace::thread_exiting();
    return 0;
}

}  // namespace

int run_overlapped_event(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
