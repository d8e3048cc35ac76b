// models/04_overlapped_event.cpp — overlapped WSARecv/WSASend, an event per I/O, WSAWaitForMultipleEvents.

// SECTION: abstract
//
// How the network reaches the code: as signalled events. Every overlapped WSARecv or WSASend is started with
// an OVERLAPPED whose hEvent is an event object of its own. The call returns at once; when the kernel has
// finished the I/O (the bytes are already in our buffer, or already handed to the transport) it signals that
// event. A thread waits for any of its events with WSAWaitForMultipleEvents, learns from the index which I/O
// finished, and asks WSAGetOverlappedResult how many bytes it moved and whether it failed.
//
// Where state lives: per socket, a Connection (socket, session, send queue, count of I/O in flight); per I/O,
// an IoRequest (the OVERLAPPED, the buffer, what kind of I/O it was), allocated when the I/O starts and freed
// when its event has been signalled and its result read — never earlier, because the kernel writes into it until
// then. Its OVERLAPPED's hEvent is an event object of its own, and its group keeps it in its list of I/O in flight.
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
//   starve the others; each group rotates its list after every completion it handles, so every I/O in flight
//   gets its turn at the front.
// - A thread per 31 clients, and an event handle per I/O.

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "common/trace/recorder.h"
#include "common/win/connection.h"
#include "common/win/event_groups.h"
#include "common/win/overlapped_steps.h"
#include "models/model.h"

namespace socklab::models {
namespace {

using trace::CloseReason;
using trace::IoOp;
using trace::Wake;

// A group's wait: the stop event, its arrival event, and the event of every I/O in flight — two per connection,
// for its receive and its send.
constexpr DWORD kStopIndex = 0;
constexpr DWORD kArrivalIndex = 1;
constexpr DWORD kFirstIoIndex = 2;
constexpr std::size_t kConnectionsPerGroup = (WSA_MAXIMUM_WAIT_EVENTS - kFirstIoIndex) / 2;

// SECTION: state
//
// One Connection per client, owned by its group's thread, which alone runs its session and closes and frees it.
// Other threads touch it only to broadcast, under its lock, which guards the send queue and whether the
// connection still takes bytes: the owner holds it when it changes them. The steps below marked "locked" are
// called with it held.
// Only the owner starts I/O on it: an IoRequest per I/O in flight, with an event of its own in overlapped.hEvent.
// Once closed, it starts no I/O, but its socket stays open until its last completion (teardown).
struct Group;

struct Connection : win::OverlappedConnection {
    using OverlappedConnection::OverlappedConnection;
    win::Lock lock;          // an SRWLOCK (win::Lock says what a std::mutex would cost here)
    Group* group = nullptr;  // set by the group when it takes the connection
};
using IoRequest = win::IoRequest<Connection>;

struct Server;
DWORD WINAPI group_main(LPVOID parameter);

// A group: one thread and the connections it waits for (the arrivals, the arrival event: win::EventGroup).
// Its members, and the I/O in flight on them, are its thread's alone.
struct Group : win::EventGroup<Connection> {
    Server& server;
    std::vector<Connection*> members;
    std::vector<IoRequest*> in_flight;  // started, not yet finished: its events, in this order, are the wait list
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

void dispatch(Server& server, Connection& connection, IoRequest* request, BOOL wait);
bool start_receive(Server& server, Connection& connection);
void queue_send(Server& server, Connection& connection, std::string_view bytes);
void close_connection(Connection& connection, CloseReason reason);
void finish_io(Server& server, Connection& connection, IoRequest* request);
void shut_down(Group& group);

// SECTION: listen
//
// The acceptor blocks in accept() (win::accept_each_client) and hands each new connection to the first group with
// room (server.groups: a new group, with its thread, when every one is full), whose thread takes it in when its
// arrival event is signalled (take_arrivals).
// The group's thread starts the connection's first receive.
void accept_clients(Server& server) {
    win::accept_each_client(server.listener, server.control, [&](SOCKET client, std::uint16_t peer_port) {
        auto* connection = new Connection(server, server.options.max_line, client, peer_port);
        server.table.add(connection);
        win::record_opened(server, *connection);
        if (!server.groups.hand_over(connection)) {  // stopping, or no group could start: it never reached one
            win::note_close_reason(*connection, CloseReason::server_stopping);
            win::close_socket(connection->socket);
            win::free_connection(server, server.table, *connection);
        }
    });
}

// The arrival event also wakes the group for the sends a broadcast is waiting for: bytes it queued for a member
// whose send queue was idle.
void take_arrivals(Group& group) {
    for (Connection* connection : group.take_arrivals()) {
        std::unique_lock lock(connection->lock);
        connection->group = &group;
        group.members.push_back(connection);
        if (!start_receive(group.server, *connection)) {
            lock.unlock();
            finish_io(group.server, *connection, nullptr);  // nothing in flight: free it now
        }
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

DWORD WINAPI group_main(LPVOID parameter) {
    Group& group = *static_cast<Group*>(parameter);
    Server& server = group.server;
    trace::name_thread("group");
    for (;;) {
        std::vector<WSAEVENT> events = {server.control.stop_event(), group.arrival_event};
        for (IoRequest* request : group.in_flight) events.push_back(request->overlapped.hEvent);
        TRACE(wait_begin, 0, trace::WaitOn::events, events.size(), 0);
        // LESSON: wait
        DWORD result =
            WSAWaitForMultipleEvents(static_cast<DWORD>(events.size()), events.data(), FALSE, WSA_INFINITE, FALSE);
        if (result == WSA_WAIT_FAILED) {
            int error = WSAGetLastError();
            TRACE(wait_end, 0, Wake::error, 0, error);
            win::wait_failed("WSAWaitForMultipleEvents", error, server.control);
            break;
        }
        DWORD index = result - WSA_WAIT_EVENT_0;  // the LOWEST signalled index, whatever else is signalled
        if (index == kStopIndex) {
            TRACE(wait_end, 0, Wake::stop, index, 0);
            break;
        }
        if (index == kArrivalIndex) {  // new connections, or bytes a broadcast queued
            TRACE(wait_end, 0, Wake::event, index, 0);
            trace::gate_point(0);
            take_arrivals(group);
        } else {
            auto served = group.in_flight.begin() + (index - kFirstIoIndex);
            IoRequest* request = *served;
            Connection& connection = *request->connection;
            TRACE(wait_end, connection.id, Wake::completion, index, 0);
            trace::gate_point(connection.id);
            // Fairness: the next wait list starts just after the I/O served now (which then leaves the list), and
            // the I/O its connection starts next joins the list at the end. So a connection that is always busy
            // cannot keep the lowest signalled index and starve the ones after it.
            std::rotate(group.in_flight.begin(), served + 1, group.in_flight.end());  // LESSON: rotate
            dispatch(server, connection, request, FALSE);
        }
    }
    shut_down(group);
    trace::thread_exiting();
    return 0;
}

// SECTION: dispatch
//
// An event was signalled: its I/O is over, and WSAGetOverlappedResult says how (waiting only in shut_down).
// One completion, one step of a connection's life (win::complete): a receive feeds the session and starts the
// next receive; a send finishes, or continues if partial; a failure ends the connection. The model's own part:
// asking, and what the error means.
void dispatch(Server& server, Connection& connection, IoRequest* request, BOOL wait) {
    DWORD bytes = 0;
    DWORD flags = 0;
    // LESSON: get-result
    BOOL ok = WSAGetOverlappedResult(connection.socket, &request->overlapped, &bytes, wait, &flags);
    DWORD error = ok ? 0 : WSAGetLastError();
    TRACE(io_completed, connection.id, request->operation, bytes, error);
    // WSA_OPERATION_ABORTED: we cancelled it (teardown, or a close while this I/O was in flight). Otherwise
    // the receive or send failed (WSAECONNRESET: the client reset it). Either way the I/O is over.
    CloseReason failed = error == 0 ? CloseReason::none : win::close_reason_for(error);
    if (error == WSA_OPERATION_ABORTED) failed = CloseReason::server_stopping;
    win::complete(server, connection, request, bytes, failed);
}

// SECTION: send
//
// One receive is kept in flight per connection. Replies and broadcasts are appended to the connection's send
// queue, and at most one WSASend is in flight, so bytes leave in the order they were queued. WSARecv and WSASend
// return 0 (done already) or SOCKET_ERROR with WSA_IO_PENDING (in progress): either way, its event is signalled.
// Anything else is a real error, and then nothing will ever come back for that request: it is freed on the spot.
// Both starters are locked, and run on the owning group's thread only: the new request's event must join that
// thread's wait list.
IoRequest* new_request(Server& server, Connection& connection, IoOp operation) {
    auto* request = new IoRequest(operation, server.next_io_id++, &connection);
    // LESSON: event-per-io
    request->overlapped.hEvent = WSACreateEvent();
    if (request->overlapped.hEvent == WSA_INVALID_EVENT) {
        win::report_error("WSACreateEvent", WSAGetLastError(), connection.id);
        delete request;
        close_connection(connection, CloseReason::error);
        return nullptr;
    }
    return request;
}

// LESSON: post-receive
bool start_receive(Server& server, Connection& connection) {
    if (connection.closed) return false;
    IoRequest* request = new_request(server, connection, IoOp::receive);
    if (request == nullptr) return false;
    DWORD flags = 0;
    TRACE(io_posted, connection.id, IoOp::receive, request->buffer.len, request->id);
    if (WSARecv(connection.socket, &request->buffer, 1, nullptr, &flags, &request->overlapped, nullptr) ==
            SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSARecv", error, connection.id);
        WSACloseEvent(request->overlapped.hEvent);
        delete request;
        close_connection(connection, win::close_reason_for(error));
        return false;
    }
    ++connection.io_in_flight;
    connection.group->in_flight.push_back(request);
    return true;
}

// LESSON: post-send
void queue_send(Server& server, Connection& connection, std::string_view bytes) {
    if (connection.closed) return;
    connection.send_queue.append(bytes);
    if (connection.send_in_flight || connection.send_queue.empty()) return;
    IoRequest* request = new_request(server, connection, IoOp::send);  // takes the whole queue
    if (request == nullptr) return;
    TRACE(io_posted, connection.id, IoOp::send, request->buffer.len, request->id);
    if (WSASend(connection.socket, &request->buffer, 1, nullptr, 0, &request->overlapped, nullptr) == SOCKET_ERROR &&
        WSAGetLastError() != WSA_IO_PENDING) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSASend", error, connection.id);
        WSACloseEvent(request->overlapped.hEvent);
        delete request;
        close_connection(connection, win::close_reason_for(error));
        return;
    }
    connection.send_in_flight = true;
    ++connection.io_in_flight;
    connection.group->in_flight.push_back(request);
}

// Runs on the sender's thread, which may belong to another group: queue the bytes and wake the owner, which
// starts the send (only the owner may add an event to its own wait list). A connection its group has not taken
// yet is woken by its arrival: the group sends what is queued when it takes it.
std::size_t Server::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        std::lock_guard lock(other->lock);
        if (other->closed || other->close_when_sent) return false;
        other->send_queue.append(message);
        if (other->group) SetEvent(other->group->arrival_event);  // LESSON: broadcast-wakes-owner
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
    if (!win::begin_close(connection, reason)) return;
    if (connection.io_in_flight > 0) {
        // LESSON: cancel
        if (!CancelIoEx(reinterpret_cast<HANDLE>(connection.socket), nullptr) && GetLastError() != ERROR_NOT_FOUND)
            TRACE_ERROR("CancelIoEx", GetLastError(), connection.id);
    }
}

// Called once per completion handled (and once for a connection whose first receive could not start). Here the
// I/O also leaves its group's list, and its request's event goes. After the last one, the connection leaves its
// group, and its socket is closed — only now: WSAGetOverlappedResult needed it — and it is freed.
// LESSON: free-after-completion
void finish_io(Server& server, Connection& connection, IoRequest* request) {
    if (request) std::erase(connection.group->in_flight, request);
    if (request) WSACloseEvent(request->overlapped.hEvent);
    if (!win::last_io_over(connection, request)) return;
    std::erase(connection.group->members, &connection);
    connection.group->member_left();
    win::close_socket(connection.socket);
    win::free_connection(server, server.table, connection);
}

// With no wait list any more, the completion of each cancelled I/O is waited for on its own event (dispatch). A
// connection still arriving has nothing in flight: it is freed at once.
void shut_down(Group& group) {
    do {
        for (Connection* connection : group.take_arrivals()) {
            connection->group = &group;
            group.members.push_back(connection);
        }
        for (Connection* connection : std::vector(group.members)) {  // a copy: finish_io takes freed ones out
            std::unique_lock lock(connection->lock);
            close_connection(*connection, CloseReason::server_stopping);
            lock.unlock();
            if (connection->io_in_flight == 0) finish_io(group.server, *connection, nullptr);
        }
        while (!group.in_flight.empty())
            dispatch(group.server, *group.in_flight.front()->connection, group.in_flight.front(), TRUE);
    } while (!group.close_if_no_arrivals());
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    return win::run_with_groups<Server>("overlapped-event", options, control, accept_clients);
}

}  // namespace

int run_overlapped_event(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
