// models/04_overlapped_event.cpp — overlapped WSARecv/WSASend, an event per I/O, WSAWaitForMultipleEvents.

// SECTION: abstract
//
// How the network reaches the code: as signalled events. Every overlapped WSARecv or WSASend is started with
// an OVERLAPPED whose hEvent is an event object of its own. The call returns at once; when the kernel has
// finished the I/O (the bytes are already in our buffer, or already handed to the transport) it signals that
// event. A thread waits for any of its events with WSAWaitForMultipleEvents, learns from the index which I/O
// finished, and asks WSAGetOverlappedResult how many bytes it moved and whether it failed.
//
// Where state lives: per socket, a Connection (socket, session, send queue, its receive and send in flight); per I/O,
// an IoRequest (the OVERLAPPED, the buffer, what kind of I/O it was), allocated when the I/O starts and freed
// when its event has been signalled and its result read — never earlier, because the kernel writes into it until
// then. Its OVERLAPPED's hEvent is an event object of its own.
//
// Threads and the 64 limit: one wait covers at most WSA_MAXIMUM_WAIT_EVENTS (64) handles. So connections are
// dealt out to groups (win::EventGroups, shared by event-select and overlapped-event): a group is a thread and the
// connections it serves, and only that thread touches them, but for a broadcast from another group. A group
// waits on the stop event, its arrival event (signalled when the acceptor hands it a new connection) and two
// I/O events per connection (one receive and one send in flight at most): a group serves (64 - 2) / 2 = 31
// connections, and 1,000 clients take 33 group threads. Only the group's thread starts I/O on its connections, so
// the list of events it waits on is its own to rebuild before each wait. A broadcast queues the bytes and
// signals the owner's arrival event, so that the owner's own thread starts the send.
//
// The acceptor blocks in accept(), as in the blocking and iocp models.
//
// Limits, honestly:
// - A /work that blocks stalls every client of its group (up to 31), but no other group.
// - WSAWaitForMultipleEvents reports the LOWEST signalled index, so a busy connection early in the list could
//   starve the others; each group rotates the order of its list after every wake, so every connection gets its
//   turn at the front.
// - A thread per 31 clients, and an event handle per I/O.

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "common/trace/recorder.h"
#include "common/win/connection.h"
#include "common/win/event_groups.h"
#include "models/model.h"

namespace socklab::models {
namespace {

using trace::CloseReason;
using trace::IoOp;
using trace::Wake;

// Two wait slots for the stop and arrival events, two per connection for its receive and its send.
constexpr std::size_t kConnectionsPerGroup = (WSA_MAXIMUM_WAIT_EVENTS - 2) / 2;

// SECTION: state
//
// One Connection per client, owned by its group's thread, which alone runs its session and closes and frees it.
// Other threads touch it only to broadcast, under its lock, which guards the send queue and whether the
// connection still takes bytes: the owner holds it when it changes them. The steps below marked "locked" are
// called with it held.
// Only the owner starts I/O on it: an IoRequest per I/O in flight, with an event of its own in overlapped.hEvent.
struct Group;

struct Connection : win::ConnectionBase {
    using ConnectionBase::ConnectionBase;
    std::mutex lock;
    Group* group = nullptr;                         // set by the group when it takes the connection
    win::IoRequest<Connection>* receive = nullptr;  // the receive in flight, or nullptr
    win::IoRequest<Connection>* send = nullptr;     // the send in flight, or nullptr
    bool cancelled = false;       // closed: no new I/O; the socket is closed after the last completion (teardown)
    bool reading_paused = false;  // no receive posted because the send queue is full (back-pressure)
};
using IoRequest = win::IoRequest<Connection>;

struct Server;
DWORD WINAPI group_main(LPVOID parameter);

// A group: one thread and the connections it waits for (the arrivals, the arrival event: win::EventGroup).
// Its members are its thread's alone.
struct Group : win::EventGroup<Connection> {
    Server& server;
    std::vector<Connection*> members;
    std::size_t first_in_wait = 0;  // where the next wait list starts: rotated for fairness
    explicit Group(Server& s) : server(s) {}
};

struct Server : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    SOCKET listener = INVALID_SOCKET;
    win::EventGroups<Group, Server> groups{*this, kConnectionsPerGroup, group_main};
    win::ConnectionTable<Connection> table;
    std::atomic<std::uint32_t> next_io_id{1};

    Server(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("overlapped-event"); }
};

void close_connection(Connection& connection, CloseReason reason);
void free_connection(Server& server, Connection* connection, CloseReason reason);
void finish_io(IoRequest* request);
void start_receive(Server& server, Connection& connection);
void queue_send(Server& server, Connection& connection, std::string_view bytes);

// SECTION: listen
//
// The acceptor blocks in accept() (win::accept_each_client) and hands each new connection to the first group with
// room (server.groups: a new group, with its thread, when every one is full), whose thread takes it in when its
// arrival event is signalled (take_arrivals).
// The group's thread starts the connection's first receive.
void accept_clients(Server& server) {
    win::accept_each_client(server.listener, server.control, [&](SOCKET client, std::uint16_t peer_port) {
        auto* connection = new Connection(server, server.options.max_line, client, peer_port);
        server.table.add(connection->id, connection);
        win::record_opened(server, *connection);
        if (!server.groups.hand_over(connection)) {
            free_connection(server, connection, CloseReason::server_stopping);  // stopping, or no group could start
        }
    });
}

// The arrival event also wakes the group for the sends a broadcast is waiting for: bytes it queued for a member
// whose send queue was idle.
void take_arrivals(Group& group) {
    for (Connection* connection : group.take_arrivals()) {
        std::lock_guard lock(connection->lock);
        connection->group = &group;
        group.members.push_back(connection);
        start_receive(group.server, *connection);
    }
    for (Connection* connection : group.members) {
        std::lock_guard lock(connection->lock);
        queue_send(group.server, *connection, {});
    }
}

// SECTION: wait
//
// A group's thread: build the list of events to wait for (stop, arrivals, then the event of every I/O in
// flight), wait for any one of them, handle it, repeat. The list is rebuilt before every wait because it changes
// with every I/O started or finished — which is why only this thread starts I/O on its connections.
// A failed wait stops the server (win::wait_failed); either way, the group then closes what it has and ends.
struct WaitList {
    WSAEVENT events[WSA_MAXIMUM_WAIT_EVENTS];
    IoRequest* requests[WSA_MAXIMUM_WAIT_EVENTS];  // requests[i] owns events[i]; nullptr for stop and arrivals
    DWORD count = 0;

    void add(WSAEVENT event, IoRequest* request) {
        events[count] = event;
        requests[count++] = request;
    }
};

void dispatch(Server& server, Connection& connection, IoRequest* request, BOOL wait);
void free_closed_members(Group& group);
void shut_down(Group& group);

DWORD WINAPI group_main(LPVOID parameter) {
    Group& group = *static_cast<Group*>(parameter);
    Server& server = group.server;
    trace::name_thread("group");
    for (;;) {
        WaitList wait;
        wait.add(server.control.stop_event(), nullptr);
        wait.add(group.arrival_event, nullptr);
        std::size_t count = group.members.size();
        for (std::size_t k = 0; k < count; ++k) {
            Connection* connection = group.members[(group.first_in_wait + k) % count];
            if (connection->receive) wait.add(connection->receive->overlapped.hEvent, connection->receive);
            if (connection->send) wait.add(connection->send->overlapped.hEvent, connection->send);
        }
        TRACE(wait_begin, 0, trace::WaitOn::events, wait.count, 0);
        // LESSON: overlapped-event-wait
        DWORD result = WSAWaitForMultipleEvents(wait.count, wait.events, FALSE, WSA_INFINITE, FALSE);
        if (result == WSA_WAIT_FAILED) {
            int error = WSAGetLastError();
            TRACE(wait_end, 0, Wake::error, 0, error);
            win::wait_failed("WSAWaitForMultipleEvents", error, server.control);
            break;
        }
        DWORD index = result - WSA_WAIT_EVENT_0;  // the LOWEST signalled index, whatever else is signalled
        IoRequest* request = wait.requests[index];
        if (index == 0) {  // the stop event
            TRACE(wait_end, 0, Wake::stop, index, 0);
            break;
        }
        if (request == nullptr) {  // the arrival event: new connections, or bytes a broadcast queued
            TRACE(wait_end, 0, Wake::event, index, 0);
            trace::gate_point(0);
            take_arrivals(group);
        } else {
            Connection& connection = *request->connection;
            TRACE(wait_end, connection.id, Wake::completion, index, 0);
            trace::gate_point(connection.id);
            dispatch(server, connection, request, FALSE);
            // Fairness: the next wait list starts just after the connection served now, so a connection that is
            // always busy cannot keep the lowest signalled index and starve the ones after it.
            // LESSON: overlapped-event-rotate
            auto position = std::find(group.members.begin(), group.members.end(), &connection);
            group.first_in_wait = static_cast<std::size_t>(position - group.members.begin()) + 1;
        }
        free_closed_members(group);
    }
    shut_down(group);
    trace::thread_exiting();
    return 0;
}

// SECTION: dispatch
//
// An event was signalled: its I/O is over, and WSAGetOverlappedResult says how (waiting only in shut_down).
// One event, one step of a connection's life. A receive feeds the session and starts the next receive; a
// send finishes (or continues, if partial) and starts the next queued one. An error ends the connection.
// Either way the IoRequest is freed here, after its completion — never before.
void on_received(Server& server, Connection& connection, IoRequest* request, DWORD bytes);
void on_sent(Server& server, Connection& connection, IoRequest* request, DWORD bytes);
void drain(Connection& connection);

void dispatch(Server& server, Connection& connection, IoRequest* request, BOOL wait) {
    DWORD bytes = 0;
    DWORD flags = 0;
    // LESSON: overlapped-event-get-result
    BOOL ok = WSAGetOverlappedResult(connection.socket, &request->overlapped, &bytes, wait, &flags);
    DWORD error = ok ? 0 : WSAGetLastError();
    TRACE(io_completed, connection.id, request->operation, bytes, error);
    (request->operation == IoOp::receive ? connection.receive : connection.send) = nullptr;
    if (error != 0) {
        // WSA_OPERATION_ABORTED: we cancelled it (teardown, or a close while this I/O was in flight).
        // Otherwise the receive or send failed (WSAECONNRESET: the client reset it). Either way the I/O is over.
        std::lock_guard lock(connection.lock);
        close_connection(connection,
                         error == WSA_OPERATION_ABORTED ? CloseReason::server_stopping : win::close_reason_for(error));
        finish_io(request);  // LESSON: overlapped-event-free-after-completion
        return;
    }
    if (request->operation == IoOp::receive) on_received(server, connection, request, bytes);
    else on_sent(server, connection, request, bytes);
}

void on_received(Server& server, Connection& connection, IoRequest* request, DWORD bytes) {
    std::string replies;
    // The session runs without the connection's lock, because of the lock order (models/README.md): a /all in it
    // takes the table's lock and then every other connection's, so a group holding this lock while another holds
    // the table's and waits for this one would deadlock. It is safe: only this group's thread runs the session,
    // and only it changes the closing state it reads. (A /work here stalls the group, but no other group.)
    auto verdict = win::run_session(connection, server, connection.closing(), request->data.data(), bytes, replies);
    finish_io(request);

    std::lock_guard lock(connection.lock);
    if (win::note_received(connection, bytes, verdict)) close_connection(connection, connection.reason);
    queue_send(server, connection, replies);
    drain(connection);
    // Keep one receive in flight while the client may still send, even when closing: a close with unread
    // bytes resets the connection, and the reset can destroy the last reply before the client reads it. But
    // not while replies pile up for a client that does not read them (back-pressure, model.h): on_sent reads
    // again once they have gone.
    if (connection.send_queue.size() >= kMaxQueuedBytes) connection.reading_paused = true;
    else if (!connection.peer_finished) start_receive(server, connection);
}

void on_sent(Server& server, Connection& connection, IoRequest* request, DWORD bytes) {
    server.counters.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    std::lock_guard lock(connection.lock);
    if (bytes < request->data.size() && !connection.cancelled) {
        // A partial send: the unsent rest goes back to the front of the queue, ahead of anything queued since.
        connection.send_queue.insert(0, request->data, bytes);  // LESSON: overlapped-event-partial-send
    }
    finish_io(request);
    queue_send(server, connection, {});
    drain(connection);
    if (connection.reading_paused && connection.send_queue.size() < kMaxQueuedBytes) {
        connection.reading_paused = false;  // the replies have gone: read from this client again
        start_receive(server, connection);
    }
}

// Once every reply is out: close, or say goodbye and drain (win::say_goodbye).
// Locked.
void drain(Connection& connection) {
    if (!connection.cancelled && !connection.send && win::say_goodbye(connection))
        close_connection(connection, connection.reason);
}

// SECTION: send
//
// One receive is kept in flight per connection. Replies and broadcasts are appended to the connection's send
// queue, and at most one WSASend is in flight, so bytes leave in the order they were queued. With an event,
// WSARecv and WSASend return 0 (done already — the event is signalled anyway) or SOCKET_ERROR with
// WSA_IO_PENDING (in progress). Anything else is a real error, and then no event will ever be signalled for that
// request: it is freed on the spot. Both starters are locked, and run on the owning group's thread only: the
// new request's event must join that thread's wait list.
IoRequest* new_request(Server& server, Connection& connection, IoOp operation) {
    auto* request = new IoRequest(operation, server.next_io_id++, &connection);
    // LESSON: overlapped-event-event-per-io
    request->overlapped.hEvent = WSACreateEvent();
    if (request->overlapped.hEvent == WSA_INVALID_EVENT) {
        win::report_error("WSACreateEvent", WSAGetLastError(), connection.id);
        delete request;
        close_connection(connection, CloseReason::error);
        return nullptr;
    }
    return request;
}

void start_receive(Server& server, Connection& connection) {
    if (connection.cancelled || connection.receive != nullptr) return;
    IoRequest* request = new_request(server, connection, IoOp::receive);
    if (request == nullptr) return;
    DWORD flags = 0;
    TRACE(io_posted, connection.id, IoOp::receive, request->buffer.len, request->id);
    // LESSON: overlapped-event-post-receive
    if (WSARecv(connection.socket, &request->buffer, 1, nullptr, &flags, &request->overlapped, nullptr) ==
            SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSARecv", error, connection.id);
        finish_io(request);
        close_connection(connection, win::close_reason_for(error));
        return;
    }
    connection.receive = request;
}

void queue_send(Server& server, Connection& connection, std::string_view bytes) {
    if (connection.cancelled) return;
    connection.send_queue.append(bytes);
    if (connection.send != nullptr || connection.send_queue.empty()) return;

    IoRequest* request = new_request(server, connection, IoOp::send);  // takes the whole queue
    if (request == nullptr) return;
    TRACE(io_posted, connection.id, IoOp::send, request->buffer.len, request->id);
    // LESSON: overlapped-event-post-send
    if (WSASend(connection.socket, &request->buffer, 1, nullptr, 0, &request->overlapped, nullptr) == SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSASend", error, connection.id);
        finish_io(request);
        close_connection(connection, win::close_reason_for(error));
        return;
    }
    connection.send = request;
}

// Runs on the sender's thread, which may belong to another group: queue the bytes and wake the owner, which
// starts the send (only the owner may add an event to its own wait list). A connection its group has not taken
// yet is woken by its arrival: the group sends what is queued when it takes it.
std::size_t Server::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        std::lock_guard lock(other->lock);
        if (other->cancelled || other->close_when_sent) return false;
        other->send_queue.append(message);
        if (other->group) SetEvent(other->group->arrival_event);  // LESSON: overlapped-event-broadcast-wakes-owner
        return true;
    });
}

// SECTION: teardown
//
// Cancelling is not freeing. CancelIoEx asks the kernel to end every I/O in flight on the socket; each one then
// completes with WSA_OPERATION_ABORTED and signals its event like any other completion, and only then is its
// IoRequest freed. The socket stays open until that last completion, because WSAGetOverlappedResult needs it;
// then it is closed and the Connection freed.
// At the stop (or when its wait failed) a group closes its members and every connection still arriving, and
// ends; run waits for each group's thread in turn (win::EventGroups::join).
// Locked.
void close_connection(Connection& connection, CloseReason reason) {
    if (connection.cancelled) return;
    win::note_close_reason(connection, reason);
    connection.cancelled = true;
    connection.send_queue.clear();
    if (connection.receive || connection.send) {
        // LESSON: overlapped-event-cancel
        if (!CancelIoEx(reinterpret_cast<HANDLE>(connection.socket), nullptr) && GetLastError() != ERROR_NOT_FOUND)
            TRACE_ERROR("CancelIoEx", GetLastError(), connection.id);
    }
}

// An I/O is over (or never started): its request and the request's event go.
void finish_io(IoRequest* request) {
    WSACloseEvent(request->overlapped.hEvent);
    delete request;
}

// Closes what is still open of a connection (it may never have reached a group) and frees it. Once it has left
// the table, no other thread can reach it: no lock is needed.
void free_connection(Server& server, Connection* connection, CloseReason reason) {
    server.table.remove(connection->id);  // waits for a broadcast that is writing to it right now
    win::note_close_reason(*connection, reason);
    win::close_socket(connection->socket);
    win::record_closed(server, *connection);
    delete connection;
}

// After every round, the members that closed are freed: the last member moves into the gap. An open member
// always has a receive or a send in flight (a paused reader has its send): else no event would ever come for it
// again, and nothing would close it.
void free_closed_members(Group& group) {
    for (std::size_t k = 0; k < group.members.size();) {
        Connection* connection = group.members[k];
        if (connection->receive || connection->send) {
            ++k;
            continue;
        }
        if (!connection->cancelled) win::broken_invariant("an open connection with no I/O in flight");
        group.members[k] = group.members.back();
        group.members.pop_back();
        free_connection(group.server, connection, connection->reason);
        group.member_left();
    }
}

// With no wait list any more, the completion of each cancelled I/O is waited for on its own event (dispatch).
void shut_down(Group& group) {
    do {
        for (Connection* connection : group.take_arrivals()) group.members.push_back(connection);
        for (Connection* connection : group.members) {
            {
                std::lock_guard lock(connection->lock);
                close_connection(*connection, CloseReason::server_stopping);
            }
            for (IoRequest* request : {connection->receive, connection->send})
                if (request) dispatch(group.server, *connection, request, TRUE);
        }
        free_closed_members(group);
    } while (!group.close_if_no_arrivals());
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    return win::run_with_groups<Server>("overlapped-event", options, control, accept_clients);
}

}  // namespace

int run_overlapped_event(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
