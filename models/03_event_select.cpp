// models/03_event_select.cpp — WSAEventSelect: each socket signals an event; groups of 62 share a waiting thread.

// SECTION: abstract
//
// How the network reaches the code: as event objects. WSAEventSelect(socket, event, FD_READ | FD_WRITE | FD_CLOSE)
// makes Winsock record each network event on the socket and signal `event`. A thread waits for any of its events
// with WSAWaitForMultipleEvents, then resets that event (WSAResetEvent) and asks WSAEnumNetworkEvents what
// happened on that socket. (WSAEnumNetworkEvents resets the event itself only when it is given the event handle;
// this file passes none and resets first, so a network event recorded meanwhile signals it again.)
//
// Network events are edges, not levels, and each kind is re-enabled only by the call that consumes it, as with
// WSAAsyncSelect:
// - FD_READ is reported once, and again only after a recv(); if bytes remain after that recv(), Winsock reports
//   it again. A server that does not call recv() (back-pressure, below) gets no more FD_READ until it does.
// - FD_WRITE is reported once when the connection is set up, and after that ONLY when a send() has failed with
//   WSAEWOULDBLOCK and room has come back. So the code sends whenever it has bytes, and waits for FD_WRITE only
//   after a WSAEWOULDBLOCK. Waiting for an FD_WRITE that was never re-armed is the classic hang of this model.
//
// Where state lives: a Connection per client (socket, its event, protocol session, send queue), found from the
// index WSAWaitForMultipleEvents returns: a group keeps its connections in the same order as its events.
//
// Threads and the 64 limit: one wait covers at most WSA_MAXIMUM_WAIT_EVENTS (64) handles. So connections are
// dealt out to groups (win::EventGroups, shared by event-select and overlapped-event): a group is a thread and the
// connections it serves, and only that thread touches them, but for a broadcast from another group. A group
// waits on the stop event, its arrival event (signalled when the acceptor hands it a new connection) and up to
// 62 sockets' events: 64 handles. A thousand clients take 17 group threads. A broadcast queues the bytes and
// signals the recipient's event, so that the recipient's own thread does the sending.
//
// The acceptor blocks in accept(), as in the blocking and iocp models. (It could register the listening socket
// with WSAEventSelect too. But an accepted socket inherits its listener's registration — documented Windows
// behaviour: "Any WSAEventSelect association and network events selection set for the listening socket apply to
// the accepted socket" (WSAEventSelect) — so each accepted socket would first have to be moved to its own event;
// and when we tried it under Wine 8.0 we measured clients that were never accepted or never served. A blocking
// accept() leaves the listener unregistered, and nothing is inherited.)
//
// Limits, honestly:
// - A /work that blocks stalls every client of its group (up to 62), but no other group.
// - WSAWaitForMultipleEvents reports the LOWEST signalled index. A loop that serves only that index starves the
//   others: a client at a low index that never stops sending keeps its event signalled, and every wait returns
//   it again. The code therefore serves, after every wake, every signalled event from the reported index to the
//   end of the group (each gets one recv): a round-robin within the group.
// - Each wake is a wait on up to 64 handles that the kernel scans, and a WSAEnumNetworkEvents call per socket;
//   a thread per 62 clients means threads grow with clients, just 62 times more slowly than thread-per-client.
// - A client that stops reading must not make the server queue without end: once kMaxQueuedBytes wait for it,
//   it is not read until its queue drains; then the code signals its event by hand to read it again.

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

// A group's wait: the stop event, its arrival event, and one event per socket — WSA_MAXIMUM_WAIT_EVENTS in all.
enum : DWORD { kStopIndex = 0, kArrivalIndex = 1, kFirstSocketIndex = 2 };
constexpr std::size_t kSocketsPerGroup = WSA_MAXIMUM_WAIT_EVENTS - kFirstSocketIndex;  // LESSON: limit

// SECTION: state
//
// One Connection per client, owned by its group's thread, which alone runs its session and closes and frees it.
// Other threads touch it only to broadcast, under its lock, which guards the send queue and whether the
// connection still takes bytes: the owner holds it when it changes them. The steps below marked "locked" are
// called with it held.
struct Connection : win::ConnectionBase {
    using ConnectionBase::ConnectionBase;
    WSAEVENT event = WSA_INVALID_EVENT;  // signalled by Winsock for its socket's network events, or by hand
    // An SRWLOCK (win::Lock says what a std::mutex would cost here).
    win::Lock lock;
    bool waiting_for_write = false;  // a send() failed with WSAEWOULDBLOCK: only FD_WRITE says when to go on
    bool reading_paused = false;     // a recv() was skipped because the send queue is full
    bool peer_closing = false;       // FD_CLOSE arrived: read what is left until recv() returns 0
};

struct Server;
DWORD WINAPI group_main(LPVOID parameter);

// A group: one thread and the connections it waits for (the arrivals, the arrival event: win::EventGroup).
// Its members are its thread's alone: in each wait, the event at index kFirstSocketIndex + k is members[k]'s.
struct Group : win::EventGroup<Connection> {
    Server& server;
    std::vector<Connection*> members;
    explicit Group(Server& s) : server(s) {}
};

struct Server : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    SOCKET listener = INVALID_SOCKET;
    win::ConnectionTable<Connection> table;  // what /all walks
    win::EventGroups<Group, Server> groups{*this, kSocketsPerGroup, group_main};

    Server(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("event-select"); }
};

void queue_send(Server& server, Connection& connection, std::string_view bytes);
void close_connection(Server& server, Connection& connection, CloseReason reason);
void free_connection(Server& server, Connection* connection, CloseReason reason);

// SECTION: listen
//
// The acceptor blocks in accept() (win::accept_each_client) and hands each new connection to the first group with
// room (server.groups: a new group, with its thread, when every one is full), whose thread takes it in when its
// arrival event is signalled (take_arrivals).
// Each accepted socket is registered for its own events at once, which also makes it non-blocking.
void accept_clients(Server& server) {
    win::accept_each_client(server.listener, server.control, [&](SOCKET client, std::uint16_t peer_port) {
        auto* connection = new Connection(server, server.options.max_line, client, peer_port);
        connection->event = WSACreateEvent();  // before a broadcast can find it in the table
        server.table.add(connection);
        win::record_opened(server, *connection);
        // LESSON: register
        if (connection->event == WSA_INVALID_EVENT ||
            WSAEventSelect(client, connection->event, FD_READ | FD_WRITE | FD_CLOSE) == SOCKET_ERROR) {
            win::report_error("WSAEventSelect", WSAGetLastError(), connection->id);
            free_connection(server, connection, CloseReason::error);
        } else if (!server.groups.hand_over(connection)) {
            free_connection(server, connection, CloseReason::server_stopping);  // stopping, or no group could start
        }
    });
}

// The arrival event is auto-reset: the wait that returned it has reset it, and an arrival after this call
// signals it again.
void take_arrivals(Group& group) {
    for (Connection* connection : group.take_arrivals()) {
        group.members.push_back(connection);
        // Bytes may have arrived before WSAEventSelect() was called on this socket. Windows then records FD_READ at
        // the call (WSAEventSelect: "If a network event has already happened when the application calls
        // WSAEventSelect ... a network event is recorded"); signalling the event by hand as well costs one visit
        // and does not depend on it.
        WSASetEvent(connection->event);
    }
}

// SECTION: wait
//
// A group's thread: wait for any of its events, then serve every signalled socket from the reported index to
// the end — not just the reported one (see the abstract) — then free the members that closed.
// A failed wait stops the server (win::wait_failed); either way, the group then closes what it has and ends.
void dispatch(Server& server, Connection& connection);
void free_closed_members(Group& group);
void shut_down(Group& group);

DWORD WINAPI group_main(LPVOID parameter) {
    Group& group = *static_cast<Group*>(parameter);
    trace::name_thread("event group");
    for (;;) {
        std::vector<WSAEVENT> events = {group.server.control.stop_event(), group.arrival_event};
        for (Connection* connection : group.members) events.push_back(connection->event);
        TRACE(wait_begin, 0, trace::WaitOn::events, events.size(), 0);
        // LESSON: wait
        DWORD result =
            WSAWaitForMultipleEvents(static_cast<DWORD>(events.size()), events.data(), FALSE, WSA_INFINITE, FALSE);
        if (result == WSA_WAIT_FAILED) {
            win::group_wait_failed(group.server.control);  // traced and reported: the server stops
            break;
        }
        DWORD signalled = result - WSA_WAIT_EVENT_0;  // the lowest signalled index
        if (signalled == kStopIndex) {
            TRACE(wait_end, 0, Wake::stop, 0, 0);
            break;
        }
        std::uint32_t woken_for = signalled >= kFirstSocketIndex ? group.members[signalled - kFirstSocketIndex]->id : 0;
        TRACE(wait_end, woken_for, Wake::event, signalled, 0);
        if (signalled == kArrivalIndex) {
            trace::gate_point(0);
            take_arrivals(group);
        }
        // The fix for lowest-index starvation: every socket event from the reported index on is checked (a wait
        // on one event with a zero timeout) and served, so each signalled socket gets its turn in this round.
        // LESSON: fairness
        for (std::size_t index = std::max<DWORD>(signalled, kFirstSocketIndex); index < events.size(); ++index) {
            if (index != signalled && WSAWaitForMultipleEvents(1, &events[index], TRUE, 0, FALSE) != WSA_WAIT_EVENT_0)
                continue;
            Connection& connection = *group.members[index - kFirstSocketIndex];
            trace::gate_point(connection.id);
            dispatch(group.server, connection);
        }
        free_closed_members(group);
    }
    shut_down(group);
    trace::thread_exiting();
    return 0;
}

// SECTION: dispatch
//
// One visit of one connection: reset its event, ask what happened, read once, send what is queued, and close if
// that is what is left to do.
// - The event is reset BEFORE the records are read. WSAEnumNetworkEvents can reset it itself (pass the event),
//   but resetting it ourselves first is safe whatever order an implementation does the two in (Wine 8.0 reads
//   the records, then resets): a record made after our reset signals again, and one made before it is found by
//   the recv() below.
// - The visit reads whatever the records say: FD_READ is a hint, recv() on a non-blocking socket is the truth.
//   Visits without FD_READ happen (a broadcast signalled the event, back-pressure ended), and bytes recorded
//   just before the reset are found this way.
void read_once(Server& server, Connection& connection);
void drain(Server& server, Connection& connection);

void dispatch(Server& server, Connection& connection) {
    WSAResetEvent(connection.event);  // LESSON: reset-first
    WSANETWORKEVENTS happened{};
    // LESSON: enum
    if (WSAEnumNetworkEvents(connection.socket, nullptr, &happened) == SOCKET_ERROR) {
        TRACE_ERROR("WSAEnumNetworkEvents", WSAGetLastError(), connection.id);
        std::lock_guard lock(connection.lock);
        close_connection(server, connection, CloseReason::error);
        return;
    }
    // The error codes of FD_READ and FD_CLOSE (a reset...) are reported again by recv(), which we call anyway.
    if (happened.lNetworkEvents & FD_WRITE) connection.waiting_for_write = false;
    if (happened.lNetworkEvents & FD_CLOSE) connection.peer_closing = true;
    // One recv() per visit: if bytes remain, FD_READ is recorded again and signals the event, behind everyone else,
    // so a client that never stops sending gets its turn like the others. After FD_CLOSE there is no next FD_READ,
    // so then it reads until the end of the stream.
    do read_once(server, connection);
    while (connection.peer_closing && !connection.peer_finished && !connection.reading_paused &&
           connection.socket != INVALID_SOCKET);
    std::lock_guard lock(connection.lock);
    queue_send(server, connection, {});  // whatever broadcasts queued since the last visit
    drain(server, connection);
}

void on_received(Server& server, Connection& connection, const char* data, int received);

// One recv(), unless replies pile up for a client that does not read them (back-pressure).
void read_once(Server& server, Connection& connection) {
    char buffer[win::kReceiveBufferSize];
    {
        std::lock_guard lock(connection.lock);  // a broadcast may be queueing to it
        if (connection.send_queue.size() >= kMaxQueuedBytes && !connection.close_when_sent) {
            connection.reading_paused = true;  // LESSON: back-pressure
            return;
        }
    }
    // LESSON: recv
    int received = recv(connection.socket, buffer, sizeof buffer, 0);
    if (received == SOCKET_ERROR) {
        int error = WSAGetLastError();
        TRACE(io_completed, connection.id, IoOp::receive, 0, error);
        std::lock_guard lock(connection.lock);
        // WSAEWOULDBLOCK: nothing to read. After a real FD_CLOSE, recv() ends with 0 or an error, never this.
        if (error == WSAEWOULDBLOCK) connection.peer_closing = false;
        else close_connection(server, connection, win::close_reason_for(error));
        return;
    }
    TRACE(io_completed, connection.id, IoOp::receive, received, 0);
    on_received(server, connection, buffer, received);
}

// The session takes the bytes, or the end of the stream, and its replies are sent at once. It runs without the
// connection's lock, because of the lock order (models/README.md, "Locks"): only this group's thread runs it, and
// only it changes the closing state it reads. (A /work here stalls the group, but no other group.)
void on_received(Server& server, Connection& connection, const char* data, int received) {
    std::string replies;
    auto verdict = win::run_session(connection, server, connection.closing(), data, received, replies);
    std::lock_guard lock(connection.lock);
    if (win::note_received(connection, received, verdict))
        close_connection(server, connection, connection.reason);  // sent too much after our goodbye
    queue_send(server, connection, replies);
}

// Once every reply is out: close, or say goodbye and drain (win::say_goodbye).
// Locked.
void drain(Server& server, Connection& connection) {
    if (win::say_goodbye(connection)) close_connection(server, connection, connection.reason);
}

// SECTION: send
//
// Locked, and on the owner thread only.
// send() on a non-blocking socket takes what fits in the socket's send buffer — possibly only part of what was
// asked — and fails with WSAEWOULDBLOCK when nothing fits. Whatever it did not take stays at the front of the queue,
// and after a WSAEWOULDBLOCK nothing is sent until FD_WRITE: the only signal that there is room again, re-armed by
// that very failure.
// LESSON: send
void queue_send(Server& server, Connection& connection, std::string_view bytes) {
    connection.send_queue.append(bytes);
    while (connection.socket != INVALID_SOCKET && !connection.waiting_for_write && !connection.send_queue.empty()) {
        int sent =
            send(connection.socket, connection.send_queue.data(), static_cast<int>(connection.send_queue.size()), 0);
        if (sent == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(io_completed, connection.id, IoOp::send, 0, error);
            if (error == WSAEWOULDBLOCK) {
                connection.waiting_for_write = true;  // FD_WRITE is re-armed: it will say when there is room
                return;
            }
            close_connection(server, connection, win::close_reason_for(error));
            return;
        }
        TRACE(io_completed, connection.id, IoOp::send, sent, 0);
        server.counters.bytes_out.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
        connection.send_queue.erase(0, static_cast<std::size_t>(sent));
    }
    if (connection.reading_paused && connection.send_queue.size() < kMaxQueuedBytes &&
        connection.socket != INVALID_SOCKET) {
        // The read we skipped will not be announced again: signal our own event to come back and read.
        connection.reading_paused = false;
        WSASetEvent(connection.event);  // LESSON: resume-read
    }
}

// A broadcast only queues, and signals the recipient's event: its own thread sends, at its next visit. (Sending
// from here would race with that thread's own sends and closes.)
std::size_t Server::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        std::lock_guard lock(other->lock);
        if (other->socket == INVALID_SOCKET || other->close_when_sent) return false;
        other->send_queue.append(message);
        WSASetEvent(other->event);  // LESSON: broadcast-wake
        return true;
    });
}

// SECTION: teardown
//
// Only the owner thread closes a connection, under its lock, so that a broadcast sees it closed; it is freed at
// the end of the round, after it has left the table (so no broadcast can reach it).
// At the stop (or when its wait failed) a group closes its members and every connection still arriving, and
// ends; run waits for each group's thread in turn (win::EventGroups::join).
// Locked.
void close_connection(Server& server, Connection& connection, CloseReason reason) {
    if (connection.socket == INVALID_SOCKET) return;
    win::note_close_reason(connection, reason);
    win::record_closed(server, connection);
    connection.send_queue.clear();
    win::close_socket(connection.socket);  // LESSON: close
}

// Closes what is still open of a connection (it may never have reached a group) and frees it. Once it has left
// the table, no other thread can reach it: no lock is needed.
void free_connection(Server& server, Connection* connection, CloseReason reason) {
    server.table.remove(*connection);  // waits for a broadcast that is writing to it right now
    close_connection(server, *connection, reason);
    if (connection->event != WSA_INVALID_EVENT) WSACloseEvent(connection->event);
    delete connection;
}

// After every round, the members that closed are freed and leave the group. (The next wait's events are built
// from the members, so they follow.)
void free_closed_members(Group& group) {
    std::erase_if(group.members, [&](Connection* connection) {
        if (connection->socket != INVALID_SOCKET) return false;
        free_connection(group.server, connection, connection->reason);
        group.member_left();
        return true;
    });
}

void shut_down(Group& group) {
    for (;;) {
        take_arrivals(group);
        for (Connection* connection : group.members) {
            std::lock_guard lock(connection->lock);
            close_connection(group.server, *connection, CloseReason::server_stopping);
        }
        free_closed_members(group);
        if (group.close_if_no_arrivals()) return;
    }
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    return win::run_with_groups<Server>("event-select", options, control, accept_clients);
}

}  // namespace

int run_event_select(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
