// models/03_event_select.cpp — WSAEventSelect: each socket signals an event; groups of 62 share a waiting thread.

// SECTION: abstract
//
// How the network reaches the code: as event objects. WSAEventSelect(socket, event, FD_READ | FD_WRITE | FD_CLOSE)
// makes Winsock record each network event on the socket and signal `event`. A thread waits for any of its events
// with WSAWaitForMultipleEvents, then resets that event (WSAResetEvent) and asks WSAEnumNetworkEvents what
// happened on that socket. (WSAEnumNetworkEvents resets the event itself only when it is given the event handle;
// this file passes none and resets first, so a network event recorded meanwhile signals it again.) Like
// WSAAsyncSelect, the records are re-armed by the calls that consume them: FD_READ by recv(), FD_WRITE only by a
// send() that failed with WSAEWOULDBLOCK — so the code sends whenever it has bytes and waits for FD_WRITE only
// after a WSAEWOULDBLOCK.
//
// Where state lives: a Connection per client (socket, its event, protocol session, send queue), found from the
// index WSAWaitForMultipleEvents returns: a group keeps its connections in the same order as its events.
//
// Threads and the 64 limit: one wait covers at most WSA_MAXIMUM_WAIT_EVENTS (64) handles. So connections are
// dealt out to groups; each group is a thread waiting on the stop event, its mailbox event (the acceptor signals
// it when it hands over a new connection) and up to 62 sockets' events: 64 handles. A thousand clients take 17
// group threads. The main thread accepts in a blocking accept(), as the blocking and iocp models do. (It could
// register the listening socket with WSAEventSelect too. But an accepted socket inherits its listener's
// registration — documented Windows behaviour: "Any WSAEventSelect association and network events selection set
// for the listening socket apply to the accepted socket" (WSAEventSelect) — so each accepted socket would first
// have to be moved to its own event; and when we tried it under Wine 8.0 we measured clients that were never
// accepted or never served. A blocking accept() leaves the listener unregistered, and nothing is inherited.)
// Consequences: a /work that blocks stalls the clients of its own group (up to 62), not the others; and a
// broadcast crosses threads, so each connection's send queue has a lock, and the broadcaster signals the
// recipient's event so that the recipient's own thread does the sending.
//
// Limits, honestly:
// - WSAWaitForMultipleEvents reports the LOWEST signalled index. A loop that serves only that index starves the
//   others: a client at a low index that never stops sending keeps its event signalled, and every wait returns
//   it again. The code therefore serves, after every wake, every signalled event from the reported index to the
//   end of the group (each gets one recv): a round-robin within the group.
// - Each wake is a wait on up to 64 handles that the kernel scans, and a WSAEnumNetworkEvents call per socket;
//   a thread per 62 clients means threads grow with clients, just 62 times more slowly than thread-per-client.
// - A client that stops reading must not make the server queue without end: once kMaxQueuedBytes wait for it,
//   it is not read until its queue drains (then its event is signalled by hand to resume).

#include <algorithm>
#include <atomic>
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
// A group's wait: the stop event, its mailbox, and one event per socket — WSA_MAXIMUM_WAIT_EVENTS in all.
constexpr DWORD kStopIndex = 0;
constexpr DWORD kMailboxIndex = 1;
constexpr DWORD kFirstSocketIndex = 2;
constexpr std::size_t kSocketsPerGroup = WSA_MAXIMUM_WAIT_EVENTS - kFirstSocketIndex;  // LESSON: event-select-limit

// SECTION: state
//
// One Connection per client, owned by its group's thread. Other threads touch it only to broadcast, under its
// lock, which guards the send queue and the closing flags. The session runs on the owner thread without it.
struct Connection {
    std::uint32_t id = 0;
    std::uint16_t peer_port = 0;
    SOCKET socket = INVALID_SOCKET;  // changed only by the owner thread (and under the lock)
    WSAEVENT event = WSA_INVALID_EVENT;
    protocol::Session session;

    // Owner thread only:
    bool waiting_for_write = false;  // a send() failed with WSAEWOULDBLOCK: only FD_WRITE says when to go on
    bool reading_paused = false;     // a read was skipped because the send queue is full
    bool peer_closing = false;       // FD_CLOSE arrived: read what is left until recv() returns 0
    bool peer_finished = false;      // the client closed its side (recv returned 0)
    bool draining = false;           // we said goodbye (shutdown SD_SEND); discarding what still arrives
    std::size_t drained_bytes = 0;

    std::mutex lock;               // guards what follows
    std::string send_queue;        // bytes accepted from the session or a broadcast, not yet taken by send()
    bool close_when_sent = false;  // the session asked to close once its replies are out
    CloseReason must_close = CloseReason::none;  // a send failed: the owner closes it after letting go of the lock
    CloseReason reason = CloseReason::none;

    Connection(std::uint32_t connection_id, protocol::SessionHost& host, std::size_t max_line)
        : id(connection_id), session(connection_id, host, max_line) {}
};

struct EventSelectServer;

// A group: one thread and the connections it waits for. `events` and `members` are parallel: the event at
// index kFirstSocketIndex + k belongs to members[k].
struct Group {
    EventSelectServer& server;
    HANDLE thread = nullptr;
    WSAEVENT mailbox = WSA_INVALID_EVENT;
    std::atomic<std::size_t> assigned{0};  // members and arrivals: the acceptor fills a group up to kSocketsPerGroup
    std::atomic<bool> failed{false};       // its wait failed: it takes no more connections

    std::mutex arrivals_lock;
    std::vector<Connection*> arrivals;  // handed over by the acceptor, not yet adopted (guarded by arrivals_lock)

    // The group thread's own:
    std::vector<WSAEVENT> events;
    std::vector<Connection*> members;
    char receive_buffer[kReceiveBufferSize];

    explicit Group(EventSelectServer& s) : server(s) {}
};

struct EventSelectServer : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    SOCKET listener = INVALID_SOCKET;
    std::vector<std::unique_ptr<Group>> groups;  // the acceptor's: only it adds groups
    win::ConnectionTable<Connection> table;      // what /all walks

    EventSelectServer(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("event-select"); }
};

DWORD WINAPI group_main(LPVOID parameter);
void send_queued_locked(EventSelectServer& server, Connection& connection);
void close_connection(Group& group, Connection& connection, CloseReason reason);

// SECTION: listen
//
// The main thread blocks in accept(). Each new socket gets its own event and goes to the first group with room
// (a new group, with its thread, if none has): into the group's arrivals, and the group's mailbox is signalled.
Group* group_with_room(EventSelectServer& server) {
    for (auto& group : server.groups)
        if (!group->failed && group->assigned < kSocketsPerGroup) return group.get();
    auto group = std::make_unique<Group>(server);
    group->mailbox = WSACreateEvent();
    if (group->mailbox == WSA_INVALID_EVENT) {
        win::report_error("WSACreateEvent", WSAGetLastError());
        return nullptr;
    }
    group->thread = CreateThread(nullptr, 0, group_main, group.get(), 0, nullptr);  // LESSON: event-select-new-group
    if (group->thread == nullptr) {
        win::report_error("CreateThread", GetLastError());
        WSACloseEvent(group->mailbox);
        return nullptr;
    }
    win::accounting().threads.fetch_add(1);
    server.groups.push_back(std::move(group));
    return server.groups.back().get();
}

// The thread pool runs this when the stop event is signalled: a connection to our own listener wakes the
// acceptor's blocking accept(), and the acceptor, seeing the stop, returns (as in the blocking model, 00).
VOID CALLBACK on_stop_requested(PVOID context, BOOLEAN /*timed_out*/) {
    auto* server = static_cast<EventSelectServer*>(context);
    win::wake_blocked_accept(server->listener);  // accept() returns; the acceptor sees the stop
}

void accept_clients(EventSelectServer& server) {
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
        connection->event = WSACreateEvent();
        Group* group = connection->event == WSA_INVALID_EVENT ? nullptr : group_with_room(server);
        // LESSON: event-select-register
        if (group == nullptr ||
            WSAEventSelect(client, connection->event, FD_READ | FD_WRITE | FD_CLOSE) == SOCKET_ERROR) {
            if (group) win::report_error("WSAEventSelect", WSAGetLastError(), connection->id);
            if (connection->event != WSA_INVALID_EVENT) WSACloseEvent(connection->event);
            win::close_socket(client);
            delete connection;
            win::accounting().connections.fetch_sub(1);
            continue;
        }
        server.table.add(connection->id, connection);
        server.counters.connection_opened();
        TRACE(connection_open, connection->id, 0, connection->peer_port, 0);
        ++group->assigned;
        {
            std::lock_guard lock(group->arrivals_lock);
            group->arrivals.push_back(connection);
        }
        WSASetEvent(group->mailbox);  // LESSON: event-select-hand-over
    }
}

// SECTION: wait
//
// A group's thread: wait for any of its events, then serve every signalled socket from the reported index to
// the end — not just the reported one (see the abstract) — then take in new arrivals and forget closed members.
void serve_connection(Group& group, Connection& connection);
void adopt_arrivals(Group& group);
void forget_closed_members(Group& group);
void close_group(Group& group);

DWORD WINAPI group_main(LPVOID parameter) {
    Group& group = *static_cast<Group*>(parameter);
    trace::name_thread("event group");
    group.events = {group.server.control.stop_event(), group.mailbox};
    for (;;) {
        TRACE(wait_begin, 0, WaitOn::events, group.events.size(), 0);
        // LESSON: event-select-wait
        DWORD result = WSAWaitForMultipleEvents(static_cast<DWORD>(group.events.size()), group.events.data(), FALSE,
                                                WSA_INFINITE, FALSE);
        if (result == WSA_WAIT_FAILED) {
            int error = WSAGetLastError();
            TRACE(wait_end, 0, Wake::error, 0, error);
            win::report_error("WSAWaitForMultipleEvents", error);
            group.failed = true;
            break;
        }
        DWORD signalled = result - WSA_WAIT_EVENT_0;  // the lowest signalled index
        if (signalled == kStopIndex) {
            TRACE(wait_end, 0, Wake::stop, 0, 0);
            break;
        }
        std::uint32_t woken_for = signalled >= kFirstSocketIndex ? group.members[signalled - kFirstSocketIndex]->id : 0;
        TRACE(wait_end, woken_for, Wake::event, signalled, 0);
        if (signalled == kMailboxIndex) {
            trace::gate_point(0);
            adopt_arrivals(group);
        }
        // The fix for lowest-index starvation: every socket event from the reported index on is checked (a wait
        // on one event with a zero timeout) and served, so each signalled socket gets its turn in this round.
        // LESSON: event-select-fairness
        for (std::size_t index = std::max<DWORD>(signalled, kFirstSocketIndex); index < group.events.size(); ++index) {
            if (index != signalled &&
                WSAWaitForMultipleEvents(1, &group.events[index], TRUE, 0, FALSE) != WSA_WAIT_EVENT_0)
                continue;
            Connection& connection = *group.members[index - kFirstSocketIndex];
            trace::gate_point(connection.id);
            serve_connection(group, connection);
        }
        forget_closed_members(group);
    }
    close_group(group);
    trace::thread_exiting();
    return 0;
}

void adopt_arrivals(Group& group) {
    std::lock_guard lock(group.arrivals_lock);
    // WSACreateEvent makes manual-reset events: left signalled, every wait would return at once (a busy loop).
    // Reset before taking the list: an arrival after this point signals it again.
    WSAResetEvent(group.mailbox);
    for (Connection* connection : group.arrivals) {
        group.members.push_back(connection);
        group.events.push_back(connection->event);
        // Bytes may have arrived before WSAEventSelect() was called on this socket. Windows then records FD_READ at
        // the call (WSAEventSelect: "If a network event has already happened when the application calls
        // WSAEventSelect ... a network event is recorded"); signalling the event by hand as well costs one visit
        // and does not depend on it.
        WSASetEvent(connection->event);
    }
    group.arrivals.clear();
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
void read_once(Group& group, Connection& connection);
void after_io(Group& group, Connection& connection);

void serve_connection(Group& group, Connection& connection) {
    WSAResetEvent(connection.event);  // LESSON: event-select-reset-first
    WSANETWORKEVENTS happened{};
    // LESSON: event-select-enum
    if (WSAEnumNetworkEvents(connection.socket, nullptr, &happened) == SOCKET_ERROR) {
        int error = WSAGetLastError();
        TRACE_ERROR("WSAEnumNetworkEvents", error, connection.id);
        close_connection(group, connection, CloseReason::error);
        return;
    }
    // The error codes of FD_READ and FD_CLOSE (a reset...) are reported again by recv(), which we call anyway.
    if (happened.lNetworkEvents & FD_WRITE) connection.waiting_for_write = false;
    if (happened.lNetworkEvents & FD_CLOSE) connection.peer_closing = true;
    read_once(group, connection);
    {
        std::lock_guard lock(connection.lock);
        send_queued_locked(group.server, connection);  // replies, and whatever broadcasts queued since the last visit
    }
    after_io(group, connection);
}

// One recv() per visit: if bytes remain, FD_READ is recorded again and the event signalled, and the next round
// comes back here after everyone else's turn. After FD_CLOSE there is no next FD_READ: read to the end then.
void read_once(Group& group, Connection& connection) {
    do {
        {
            std::lock_guard lock(connection.lock);
            if (connection.send_queue.size() >= kMaxQueuedBytes && !connection.close_when_sent) {
                connection.reading_paused = true;  // LESSON: event-select-back-pressure
                return;
            }
        }
        // LESSON: event-select-recv
        int received = recv(connection.socket, group.receive_buffer, sizeof group.receive_buffer, 0);
        if (received == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(io_completed, connection.id, IoOp::receive, 0, error);
            if (error == WSAEWOULDBLOCK) {
                connection.peer_closing = false;  // after a real FD_CLOSE recv() ends with 0 or an error, not this
                return;
            }
            close_connection(
                group, connection,
                error == WSAECONNRESET || error == WSAECONNABORTED ? CloseReason::reset : CloseReason::error);
            return;
        }
        TRACE(io_completed, connection.id, IoOp::receive, received, 0);
        std::string replies;
        protocol::Session::Verdict verdict = protocol::Session::Verdict::keep_open;
        bool closing;
        {
            std::lock_guard lock(connection.lock);
            closing = connection.close_when_sent;
        }
        // The session runs without the lock: a /all inside it takes the table's lock, then other connections'.
        if (received == 0) {
            connection.peer_finished = true;
            if (!closing) connection.session.on_peer_closed(replies);  // LESSON: event-select-peer-closed
        } else if (closing) {
            // Closing: what still arrives is read and discarded (a close with unread bytes would reset the
            // connection and could destroy the last reply before the client reads it).
            connection.drained_bytes += static_cast<std::size_t>(received);
            if (connection.drained_bytes > kMaxDrainBytes) {
                close_connection(group, connection, CloseReason::none);
                return;
            }
        } else {
            group.server.counters.bytes_in.fetch_add(static_cast<std::uint64_t>(received), std::memory_order_relaxed);
            verdict = connection.session.on_receive(group.receive_buffer, static_cast<std::size_t>(received), replies);
        }
        std::lock_guard lock(connection.lock);
        if (received == 0 && !connection.close_when_sent) {
            connection.close_when_sent = true;
            connection.reason = CloseReason::peer_closed;
        }
        if (verdict == protocol::Session::Verdict::close_after_replies && !connection.close_when_sent) {
            connection.close_when_sent = true;
            connection.reason = connection.session.close_reason();
        }
        connection.send_queue += replies;
        send_queued_locked(group.server, connection);
    } while (connection.peer_closing && !connection.peer_finished && connection.must_close == CloseReason::none);
}

// When the session asked to close and every reply is out: close now if the client has closed too; otherwise
// say goodbye (shutdown SD_SEND, a FIN after the last reply) and read until the client closes.
void after_io(Group& group, Connection& connection) {
    if (connection.socket == INVALID_SOCKET) return;
    CloseReason close_now = CloseReason::none;
    {
        std::lock_guard lock(connection.lock);
        if (connection.must_close != CloseReason::none) {
            close_now = connection.must_close;
        } else if (connection.close_when_sent && connection.send_queue.empty()) {
            if (connection.peer_finished) {
                close_now = connection.reason;
            } else if (!connection.draining) {
                shutdown(connection.socket, SD_SEND);
                connection.draining = true;
            }
        }
    }
    // Closing takes the table's lock, which must never be taken while holding a connection's (lock order).
    if (close_now != CloseReason::none) close_connection(group, connection, close_now);
}

// SECTION: send
//
// Bytes go out as soon as they are queued, unless a send() already failed with WSAEWOULDBLOCK: then only the
// FD_WRITE that this very failure re-armed says there is room again. A partial send keeps the rest at the
// front of the queue. Called with the connection's lock held, always on the owner thread.
void send_queued_locked(EventSelectServer& server, Connection& connection) {
    while (connection.socket != INVALID_SOCKET && connection.must_close == CloseReason::none &&
           !connection.waiting_for_write && !connection.send_queue.empty()) {
        // LESSON: event-select-send
        int sent =
            send(connection.socket, connection.send_queue.data(), static_cast<int>(connection.send_queue.size()), 0);
        if (sent == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(io_completed, connection.id, IoOp::send, 0, error);
            if (error == WSAEWOULDBLOCK) {
                connection.waiting_for_write = true;  // LESSON: event-select-rearm-write
                return;
            }
            connection.must_close =
                error == WSAECONNRESET || error == WSAECONNABORTED ? CloseReason::reset : CloseReason::error;
            return;
        }
        TRACE(io_completed, connection.id, IoOp::send, sent, 0);
        server.counters.bytes_out.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
        connection.send_queue.erase(0, static_cast<std::size_t>(sent));  // LESSON: event-select-partial-send
    }
    if (connection.reading_paused && connection.send_queue.size() < kMaxQueuedBytes) {
        // The read we skipped will not be announced again: signal our own event to come back and read.
        connection.reading_paused = false;
        WSASetEvent(connection.event);  // LESSON: event-select-resume-read
    }
}

// A broadcast only queues, and signals the recipient's event: its own thread sends, at its next visit. (Sending
// from here would race with that thread's own sends and closes.)
std::size_t EventSelectServer::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        std::lock_guard lock(other->lock);
        if (other->socket == INVALID_SOCKET || other->close_when_sent || other->must_close != CloseReason::none)
            return false;
        other->send_queue.append(message);
        WSASetEvent(other->event);  // LESSON: event-select-broadcast-wake
        return true;
    });
}

// SECTION: teardown
//
// Only the owner thread closes a connection: it leaves the table first (so no broadcast can reach it), then its
// socket and event are closed; it is freed when the round is over. At shutdown every group closes its own
// connections and exits; the main thread waits for each group thread in turn (one wait per thread, so the
// 64-handle limit of WaitForMultipleObjects does not return here).
void close_connection(Group& group, Connection& connection, CloseReason reason) {
    if (connection.socket == INVALID_SOCKET) return;
    group.server.table.remove(connection.id);  // waits for a broadcast that is writing to it right now
    std::lock_guard lock(connection.lock);
    if (reason != CloseReason::none && (connection.reason == CloseReason::none || reason == CloseReason::reset))
        connection.reason = reason;
    win::close_socket(connection.socket);  // LESSON: event-select-close
    connection.send_queue.clear();
    TRACE(connection_close, connection.id, connection.reason, 0, 0);
    group.server.counters.connection_closed();
}

void free_connection(Group& group, Connection* connection) {
    WSACloseEvent(connection->event);
    delete connection;
    win::accounting().connections.fetch_sub(1);
    --group.assigned;
}

// Closed members leave both parallel arrays together: the last member moves into the gap.
void forget_closed_members(Group& group) {
    for (std::size_t k = 0; k < group.members.size();) {
        if (group.members[k]->socket != INVALID_SOCKET) {
            ++k;
            continue;
        }
        free_connection(group, group.members[k]);
        group.members[k] = group.members.back();
        group.members.pop_back();
        group.events[kFirstSocketIndex + k] = group.events.back();
        group.events.pop_back();
    }
}

void close_group(Group& group) {
    adopt_arrivals(group);
    for (Connection* connection : group.members) close_connection(group, *connection, CloseReason::server_stopping);
    forget_closed_members(group);
}

void shut_down(EventSelectServer& server) {
    // The stop event is signalled: every group thread has left its wait, or will at its next one.
    for (auto& group : server.groups) {
        WaitForSingleObject(group->thread, INFINITE);
        // A client accepted just as the stop came may have arrived after its group closed: the thread is gone,
        // so this thread closes what is left.
        close_group(*group);
        CloseHandle(group->thread);
        WSACloseEvent(group->mailbox);
        win::accounting().threads.fetch_sub(1);
    }
    server.groups.clear();
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    EventSelectServer server(options, control);
    std::uint16_t port = 0;
    server.listener = win::create_listener(options, port);
    if (server.listener == INVALID_SOCKET) {
        control.report_failed();
        return 1;
    }
    trace::name_thread("acceptor");
    win::announce_server("event-select", 0);
    HANDLE stop_wait = nullptr;
    RegisterWaitForSingleObject(&stop_wait, control.stop_event(), on_stop_requested, &server, INFINITE,
                                WT_EXECUTEONLYONCE);
    control.report_ready(port);

    accept_clients(server);

    UnregisterWaitEx(stop_wait, INVALID_HANDLE_VALUE);  // waits for the callback if it is running
    closesocket(server.listener);  // the acceptor has returned and the callback has finished: nobody uses it
    shut_down(server);
    trace::thread_exiting();
    return 0;
}

}  // namespace

int run_event_select(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
