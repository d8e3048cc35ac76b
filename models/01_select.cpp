// models/01_select.cpp — one thread, non-blocking sockets, and select() over all of them.

// SECTION: abstract
//
// How the network reaches the code: as readiness. Every socket is non-blocking. One thread fills two fd_sets —
// the sockets it wants to read from, the sockets it has bytes queued for — and calls select(), which blocks until
// at least one of them is ready. On Windows an fd_set is not a bitmap but a count and an array of SOCKETs;
// select() rewrites each set to hold only the sockets that are ready, packed at the front. The thread then
// walks those ready sockets, makes exactly one recv() or send() for each (it cannot block: the socket is ready,
// and WSAEWOULDBLOCK is handled anyway), and goes back to select(). Readiness is level-triggered: a socket with
// unread bytes is reported again at every select() until they are read, so nothing is ever "missed".
//
// Where state lives: a Connection per client (socket, protocol session, send queue), found from the SOCKET that
// select() reported.
// There are no per-I/O objects: every call completes before it returns.
//
// Threads: one. It accepts, reads, runs the protocol and sends. So a /work that blocks stalls every client.
//
// Limits, honestly:
// - FD_SETSIZE is 64 by default on Windows, and FD_SET silently ignores a 65th socket: a server that forgets
//   this serves the first 62 clients (the listener and the doorbell are always in the read set) and leaves the
//   rest hanging without an error. This file raises it (see its #define). Past kMaxConnections the listening
//   socket leaves the read set: new clients wait in the listen backlog until someone leaves, none is dropped.
// - Every call is O(n) in the number of sockets: both sets are rebuilt, copied into the kernel and checked there
//   every round, even when one socket out of a thousand is ready (add_to_set and dispatch keep it from O(n²)).
// - select() cannot wait on an event object: the stop event reaches the thread through a socket (ring_doorbell).
// - A client that stops reading must not make the server queue without end: once kMaxQueuedBytes wait for it,
//   its socket leaves the read set until the queue drains (back-pressure). TCP then slows that client down.

// The Windows select() has no limit of its own (it reads fd_count entries); the fd_set arrays are FD_SETSIZE long,
// and "the default value of FD_SETSIZE is 64, which can be modified by defining FD_SETSIZE to another value before
// including Winsock2.h" (select function, Microsoft Learn; model.h includes it). Only this file's fd_sets change.
// LESSON: fd-setsize
#define FD_SETSIZE 4096

#include <memory>
#include <string>

#include "common/trace/recorder.h"
#include "common/win/connection.h"
#include "common/win/one_thread.h"
#include "models/model.h"

namespace socklab::models {
namespace {

// Every fd_set must hold every socket we may ask about: the clients, the listening socket and the doorbell.
constexpr std::size_t kMaxConnections = FD_SETSIZE - 2;

using trace::CloseReason;
using trace::IoOp;
using trace::Wake;

// SECTION: state
//
// One Connection per client, found from the SOCKET that select() reports.
// Only the server's one thread touches it, so there is no lock.
struct Connection : win::ConnectionBase {
    using ConnectionBase::ConnectionBase;
};

struct Server : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    SOCKET listener = INVALID_SOCKET;
    win::SocketTable<Connection> table;  // what /all walks, and whose socket select() reports
    SOCKET doorbell = INVALID_SOCKET;    // a loopback UDP socket: a datagram on it means "stop"
    fd_set readable{};                   // 4096 SOCKETs each: 32 KiB, too big for a comfortable stack frame
    fd_set writable{};

    Server(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("select"); }
};

bool dispatch(Server& server);
void queue_send(Server& server, Connection& connection, std::string_view bytes);
void close_connection(Server& server, Connection& connection, CloseReason reason);

// SECTION: listen
//
// The listening socket is non-blocking too and sits in the read set, "readable" meaning a client is waiting, as
// does the doorbell. Everyone waiting is accepted (win::accept_waiting_clients), so one wake serves a burst of
// clients, and made non-blocking at once (win::make_non_blocking): one slow client would stall everyone.
bool listen_for_clients(Server& server) {
    server.doorbell = win::open_doorbell();
    return server.doorbell != INVALID_SOCKET && win::make_non_blocking(server.listener);
}

void accept_clients(Server& server) {
    win::accept_waiting_clients(server.listener, [&](SOCKET client, std::uint16_t peer_port) {
        if (!win::make_non_blocking(client)) {
            win::close_socket(client);
            return true;
        }
        auto* connection = new Connection(server, server.options.max_line, client, peer_port);
        server.table.add(connection);
        win::record_opened(server, *connection);
        return server.table.size() < kMaxConnections;  // room for the next one waiting
    });
}

// SECTION: wait
//
// Each round: rebuild both sets, wait in select(), handle what is ready. The sets are rebuilt every time because
// select() overwrites them with its answer. No timeout: the doorbell wakes the thread to stop.

// FD_SET would first scan the set for this socket (no duplicates allowed), which makes filling a set O(n²).
// Every socket is added once per round here, so appending is enough — with the same bound check FD_SET makes.
void add_to_set(fd_set& set, SOCKET socket) {
    if (set.fd_count < FD_SETSIZE) set.fd_array[set.fd_count++] = socket;  // LESSON: add-to-set
}

void loop_main(Server& server) {
    for (;;) {
        FD_ZERO(&server.readable);
        FD_ZERO(&server.writable);
        add_to_set(server.readable, server.doorbell);
        if (server.table.size() < kMaxConnections) add_to_set(server.readable, server.listener);
        server.table.for_each_except(0, [&](Connection* connection) {
            // Back-pressure: a client with a full queue is not read from until it reads its replies.
            if (!connection->peer_finished && connection->send_queue.size() < kMaxQueuedBytes)
                add_to_set(server.readable, connection->socket);  // LESSON: back-pressure
            if (!connection->send_queue.empty()) add_to_set(server.writable, connection->socket);
            return true;
        });
        TRACE(wait_begin, 0, trace::WaitOn::select, server.readable.fd_count + server.writable.fd_count, 0);
        // The first argument is ignored on Windows (it is nfds, for Berkeley compatibility).
        // LESSON: wait
        int ready = select(0, &server.readable, &server.writable, nullptr, nullptr);
        if (ready == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(wait_end, 0, Wake::error, 0, error);
            win::wait_failed("select", error, server.control);  // a bug (a closed socket in a set): stop, not spin
            return;
        }
        TRACE(wait_end, 0, Wake::ready, ready, 0);
        if (!dispatch(server)) return;
    }
}

// Run on a thread-pool thread at the stop (win::OnStop): one datagram to the doorbell (win::open_doorbell).
void ring_doorbell(Server& server) {
    // LESSON: doorbell
    if (send(server.doorbell, "stop", 4, 0) == SOCKET_ERROR) win::report_error("send", WSAGetLastError());
}

// SECTION: dispatch
//
// Windows' select() leaves in each set only the ready sockets, fd_count of them: walk exactly those (FD_ISSET
// would scan the whole set for each socket asked about). Reads first, then writes, then new connections, so that a
// socket closed this round cannot be reused by an accept while its entry is still to be looked at. Each ready
// socket gets one recv() or one round of send(), so a client that never pauses gets the same share as everyone.
void read_once(Server& server, Connection& connection);
void drain(Server& server, Connection& connection);

bool dispatch(Server& server) {
    bool accept_ready = false, stop_ready = false;
    // LESSON: ready-array
    for (u_int i = 0; i < server.readable.fd_count; ++i) {
        SOCKET socket = server.readable.fd_array[i];
        if (socket == server.doorbell) {
            stop_ready = true;
        } else if (socket == server.listener) {
            accept_ready = true;
        } else if (Connection* connection = server.table.find(socket)) {
            trace::gate_point(connection->id);
            read_once(server, *connection);
            drain(server, *connection);
        }
    }
    for (u_int i = 0; i < server.writable.fd_count; ++i) {
        if (Connection* connection = server.table.find(server.writable.fd_array[i])) {  // closed meanwhile: skip
            trace::gate_point(connection->id);
            queue_send(server, *connection, {});
            drain(server, *connection);
        }
    }
    if (accept_ready && !stop_ready) {
        trace::gate_point(0);
        accept_clients(server);
    }
    server.table.free_closed();
    return !stop_ready;
}

// Once every reply is out: close, or say goodbye and drain (win::say_goodbye).
void drain(Server& server, Connection& connection) {
    if (win::say_goodbye(connection)) close_connection(server, connection, connection.reason);
}

void on_received(Server& server, Connection& connection, const char* data, int received);

// One recv() per readable socket.
void read_once(Server& server, Connection& connection) {
    char buffer[win::kReceiveBufferSize];
    // LESSON: recv
    int received = recv(connection.socket, buffer, sizeof buffer, 0);
    if (received == SOCKET_ERROR) {
        int error = WSAGetLastError();
        TRACE(io_completed, connection.id, IoOp::receive, 0, error);
        if (error == WSAEWOULDBLOCK) return;  // select() said readable, but that is a hint, not a promise
        close_connection(server, connection, win::close_reason_for(error));
        return;
    }
    TRACE(io_completed, connection.id, IoOp::receive, received, 0);
    on_received(server, connection, buffer, received);
}

// The session takes the bytes, or the end of the stream (win::take_received), and its replies are sent at once.
void on_received(Server& server, Connection& connection, const char* data, int received) {
    std::string replies;
    if (win::take_received(connection, server, data, received, replies))
        close_connection(server, connection, connection.reason);  // sent too much after our goodbye
    queue_send(server, connection, replies);
}

// SECTION: send
//
// send() on a non-blocking socket takes what fits in the socket's send buffer — possibly only part of what was
// asked — and fails with WSAEWOULDBLOCK when nothing fits. Whatever it did not take stays at the front of the queue,
// and the socket stays in the write set until the queue is empty.
// LESSON: send
void queue_send(Server& server, Connection& connection, std::string_view bytes) {
    connection.send_queue.append(bytes);
    while (connection.socket != INVALID_SOCKET && !connection.send_queue.empty()) {
        int sent =
            send(connection.socket, connection.send_queue.data(), static_cast<int>(connection.send_queue.size()), 0);
        if (sent == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(io_completed, connection.id, IoOp::send, 0, error);
            if (error == WSAEWOULDBLOCK) return;  // the buffer is full: select() will say when there is room
            close_connection(server, connection, win::close_reason_for(error));
            return;
        }
        TRACE(io_completed, connection.id, IoOp::send, sent, 0);
        server.counters.bytes_out.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
        connection.send_queue.erase(0, static_cast<std::size_t>(sent));
    }
}

// A broadcast only queues: the recipient's socket joins the write set at the next round. Sending here could close
// a recipient (a send error) in the middle of the table's walk.
std::size_t Server::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        if (other->close_when_sent) return false;
        other->send_queue.append(message);
        return true;
    });
}

// SECTION: teardown
//
// A connection closes at once: its socket leaves the table, so no /all reaches it and what the wait still says
// about it is passed by. It is freed when the thread is done with the round it closed in, which may still hold it.
// Shutdown closes every socket and frees every connection; a non-blocking model has no I/O in flight to wait for.
void close_connection(Server& server, Connection& connection, CloseReason reason) {
    if (connection.socket == INVALID_SOCKET) return;
    win::note_close_reason(connection, reason);
    server.table.remove(connection);
    win::close_socket(connection.socket);  // LESSON: close
    win::record_closed(server, connection);
}

void shut_down(Server& server) {
    while (Connection* connection = server.table.any())
        close_connection(server, *connection, CloseReason::server_stopping);
    server.table.free_closed();
    closesocket(server.doorbell);  // (after a failed start, what was never opened is INVALID_SOCKET: no harm)
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    auto server = std::make_unique<Server>(options, control);  // on the heap: two 32 KiB fd_sets
    return win::run_loop("select", "select loop", *server, listen_for_clients, ring_doorbell, loop_main, shut_down);
}

}  // namespace

int run_select(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
