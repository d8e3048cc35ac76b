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
// select() reported through a map. There are no per-I/O objects: a non-blocking call finishes before it returns.
//
// Threads: one. It accepts, reads, runs the protocol and sends. So a /work that blocks stalls every client.
//
// Limits, honestly:
// - FD_SETSIZE is 64 by default on Windows, and FD_SET silently ignores a 65th socket: a server that forgets
//   this serves the first 62 clients (the listener and the doorbell below are always in the read set) and
//   leaves the rest hanging without an error. The Windows select() itself
//   has no such limit — it reads fd_count entries — so this file defines FD_SETSIZE as 4096 before including
//   winsock2.h, which is the documented way. Past kMaxConnections the listening socket simply leaves the read
//   set: new clients wait in the listen backlog until someone leaves, instead of being silently dropped.
// - Every call is O(n) in the number of sockets: both sets are rebuilt from scratch, copied into the kernel and
//   checked there, every time round, even when one socket out of a thousand is ready. The code avoids making it
//   O(n²): it appends to the sets directly (FD_SET scans the set for a duplicate first) and walks only the ready
//   sockets select() returns (FD_ISSET scans the whole set once per socket asked about).
// - select() cannot wait on an event object, so the stop event reaches the thread through a socket: a thread-pool
//   wait on the event sends one datagram to a loopback UDP socket that is always in the read set (a doorbell).
// - A client that stops reading must not make the server queue without end: once kMaxQueuedBytes wait for it,
//   its socket leaves the read set until the queue drains (back-pressure). TCP then slows that client down.

// FD_SETSIZE sizes the fd_set arrays, so it must be defined before winsock2.h is included (model.h includes it).
// Windows leaves it at 64 unless told otherwise. It changes fd_set for this file only: no fd_set crosses into
// another file.
// LESSON: select-fd-setsize
#define FD_SETSIZE 4096

#include <memory>
#include <string>
#include <unordered_map>
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
// Every fd_set must hold every socket we may ask about: the clients, the listening socket and the doorbell.
constexpr std::size_t kMaxConnections = FD_SETSIZE - 2;

// SECTION: state
//
// One Connection per client. Only the server's one thread touches it, so there is no lock.
struct Connection {
    std::uint32_t id = 0;
    std::uint16_t peer_port = 0;
    SOCKET socket = INVALID_SOCKET;  // INVALID_SOCKET once closed; freed at the end of the round
    protocol::Session session;
    std::string send_queue;        // bytes accepted from the session or a broadcast, not yet taken by send()
    bool close_when_sent = false;  // the session asked to close once its replies are out
    bool peer_finished = false;    // the client closed its side (recv returned 0)
    bool draining = false;         // we said goodbye (shutdown SD_SEND); discarding what still arrives
    std::size_t drained_bytes = 0;
    CloseReason reason = CloseReason::none;

    Connection(std::uint32_t connection_id, protocol::SessionHost& host, std::size_t max_line)
        : id(connection_id), session(connection_id, host, max_line) {}
};

struct SelectServer : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    SOCKET listener = INVALID_SOCKET;
    SOCKET doorbell = INVALID_SOCKET;  // a loopback UDP socket: a datagram on it means "stop"
    sockaddr_in doorbell_address{};
    std::unordered_map<SOCKET, Connection*> by_socket;  // what select() reports → whose it is
    std::vector<Connection*> closed;                    // closed this round, freed once the round is over
    win::ConnectionTable<Connection> table;             // what /all walks
    fd_set readable{};  // 4096 SOCKETs each: 32 KiB, too big for a comfortable stack frame
    fd_set writable{};
    char receive_buffer[kReceiveBufferSize];

    SelectServer(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("select"); }
};

void close_connection(SelectServer& server, Connection& connection, CloseReason reason);
void send_queued(SelectServer& server, Connection& connection);

// SECTION: listen
//
// The listening socket is non-blocking too and sits in the read set: "readable" means a connection is waiting
// to be accepted. accept() is called until it says WSAEWOULDBLOCK, so one wake serves a whole burst of clients.
void accept_clients(SelectServer& server) {
    while (server.by_socket.size() < kMaxConnections) {
        sockaddr_in peer{};
        int peer_length = sizeof peer;
        SOCKET client = accept(server.listener, reinterpret_cast<sockaddr*>(&peer), &peer_length);
        if (client == INVALID_SOCKET) {
            int error = WSAGetLastError();
            if (win::client_left_before_accept(error)) continue;              // it reset before we got to it: next
            if (error != WSAEWOULDBLOCK) win::report_error("accept", error);  // e.g. out of sockets: try later
            return;
        }
        win::track_socket(client);
        // The accepted socket must not block either: one slow client would stall everyone.
        u_long non_blocking = 1;
        if (ioctlsocket(client, FIONBIO, &non_blocking) == SOCKET_ERROR) {  // LESSON: select-non-blocking
            win::report_error("ioctlsocket", WSAGetLastError());
            win::close_socket(client);
            continue;
        }
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
        server.by_socket[client] = connection;
        server.table.add(connection->id, connection);
        server.counters.connection_opened();
        TRACE(connection_open, connection->id, 0, connection->peer_port, 0);
    }
}

// SECTION: wait
//
// Each round: rebuild both sets, wait in select(), handle what is ready, free what closed. The sets are
// rebuilt every time because select() overwrites them with its answer.
bool handle_ready_sockets(SelectServer& server);

// FD_SET would first scan the set for this socket (no duplicates allowed), which makes filling a set O(n²).
// Every socket is added once per round here, so appending is enough — with the same bound check FD_SET makes.
void add_to_set(fd_set& set, SOCKET socket) {
    if (set.fd_count < FD_SETSIZE) set.fd_array[set.fd_count++] = socket;  // LESSON: select-add-to-set
}

void serve(SelectServer& server) {
    for (;;) {
        FD_ZERO(&server.readable);
        FD_ZERO(&server.writable);
        add_to_set(server.readable, server.doorbell);
        if (server.by_socket.size() < kMaxConnections) add_to_set(server.readable, server.listener);
        for (auto& [socket, connection] : server.by_socket) {
            // Back-pressure: a client with a full queue is not read from until it reads its replies.
            if (!connection->peer_finished && connection->send_queue.size() < kMaxQueuedBytes)
                add_to_set(server.readable, socket);  // LESSON: select-back-pressure
            if (!connection->send_queue.empty()) add_to_set(server.writable, socket);
        }
        TRACE(wait_begin, 0, WaitOn::select, server.readable.fd_count + server.writable.fd_count, 0);
        // The first argument is ignored on Windows (it is nfds, for Berkeley compatibility). No timeout: the
        // doorbell wakes us to stop.
        // LESSON: select-wait
        int ready = select(0, &server.readable, &server.writable, nullptr, nullptr);
        if (ready == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(wait_end, 0, Wake::error, 0, error);
            win::report_error("select", error);  // a bug (a closed socket in a set): stop rather than spin
            return;
        }
        TRACE(wait_end, 0, Wake::ready, ready, 0);
        if (!handle_ready_sockets(server)) return;
    }
}

// SECTION: dispatch
//
// Windows' select() leaves in each set only the ready sockets, fd_count of them: walk exactly those. Reads
// first, then writes, then new connections, so that a socket closed this round cannot be reused by an accept
// while its entry is still to be looked at. Each ready socket gets one recv() or one round of send(): a client
// that sends without pause gets the same share of each round as everyone else.
void on_readable(SelectServer& server, Connection& connection);
void on_writable(SelectServer& server, Connection& connection);
void after_io(SelectServer& server, Connection& connection);
void free_closed_connections(SelectServer& server);

Connection* find_open(SelectServer& server, SOCKET socket) {
    auto found = server.by_socket.find(socket);
    return found == server.by_socket.end() ? nullptr : found->second;
}

bool handle_ready_sockets(SelectServer& server) {
    bool accept_ready = false, stop_ready = false;
    // LESSON: select-ready-array
    for (u_int i = 0; i < server.readable.fd_count; ++i) {
        SOCKET socket = server.readable.fd_array[i];
        if (socket == server.doorbell) {
            stop_ready = true;
        } else if (socket == server.listener) {
            accept_ready = true;
        } else if (Connection* connection = find_open(server, socket)) {
            trace::gate_point(connection->id);
            on_readable(server, *connection);
        }
    }
    for (u_int i = 0; i < server.writable.fd_count; ++i) {
        if (Connection* connection = find_open(server, server.writable.fd_array[i])) {  // closed meanwhile: skip
            trace::gate_point(connection->id);
            on_writable(server, *connection);
        }
    }
    if (accept_ready && !stop_ready) {
        trace::gate_point(0);
        accept_clients(server);
    }
    free_closed_connections(server);
    return !stop_ready;
}

void on_readable(SelectServer& server, Connection& connection) {
    // LESSON: select-recv
    int received = recv(connection.socket, server.receive_buffer, sizeof server.receive_buffer, 0);
    if (received == SOCKET_ERROR) {
        int error = WSAGetLastError();
        TRACE(io_completed, connection.id, IoOp::receive, 0, error);
        if (error == WSAEWOULDBLOCK) return;  // select() said readable, but that is a hint, not a promise
        close_connection(server, connection,
                         error == WSAECONNRESET || error == WSAECONNABORTED ? CloseReason::reset : CloseReason::error);
        return;
    }
    TRACE(io_completed, connection.id, IoOp::receive, received, 0);
    std::string replies;
    if (received == 0) {
        connection.peer_finished = true;
        if (!connection.close_when_sent) {
            connection.session.on_peer_closed(replies);  // LESSON: select-peer-closed
            connection.close_when_sent = true;
            connection.reason = CloseReason::peer_closed;
        }
    } else if (connection.close_when_sent) {
        // Closing: what still arrives is read and discarded (a close with unread bytes would reset the
        // connection and could destroy the last reply before the client reads it).
        connection.drained_bytes += static_cast<std::size_t>(received);
        if (connection.drained_bytes > kMaxDrainBytes) {
            close_connection(server, connection, connection.reason);
            return;
        }
    } else {
        server.counters.bytes_in.fetch_add(static_cast<std::uint64_t>(received), std::memory_order_relaxed);
        if (connection.session.on_receive(server.receive_buffer, static_cast<std::size_t>(received), replies) ==
            protocol::Session::Verdict::close_after_replies) {
            connection.close_when_sent = true;
            connection.reason = connection.session.close_reason();
        }
    }
    connection.send_queue += replies;
    send_queued(server, connection);  // most replies leave at once, without waiting for the next select()
    after_io(server, connection);
}

void on_writable(SelectServer& server, Connection& connection) {
    send_queued(server, connection);
    after_io(server, connection);
}

// When the session asked to close and every reply is out: close now if the client has closed too; otherwise
// say goodbye (shutdown SD_SEND, a FIN after the last reply) and read until the client closes.
void after_io(SelectServer& server, Connection& connection) {
    if (connection.socket == INVALID_SOCKET || !connection.close_when_sent || !connection.send_queue.empty()) return;
    if (connection.peer_finished) {
        close_connection(server, connection, connection.reason);
    } else if (!connection.draining) {
        shutdown(connection.socket, SD_SEND);
        connection.draining = true;
    }
}

// SECTION: send
//
// send() on a non-blocking socket takes what fits in the socket's send buffer — possibly only part of what was
// asked — and fails with WSAEWOULDBLOCK when nothing fits. Whatever it did not take stays at the front of the
// queue, and the socket stays in the write set until the queue is empty.
void send_queued(SelectServer& server, Connection& connection) {
    while (connection.socket != INVALID_SOCKET && !connection.send_queue.empty()) {
        // LESSON: select-send
        int sent =
            send(connection.socket, connection.send_queue.data(), static_cast<int>(connection.send_queue.size()), 0);
        if (sent == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(io_completed, connection.id, IoOp::send, 0, error);
            if (error == WSAEWOULDBLOCK) return;  // the buffer is full: select() will say when there is room
            close_connection(
                server, connection,
                error == WSAECONNRESET || error == WSAECONNABORTED ? CloseReason::reset : CloseReason::error);
            return;
        }
        TRACE(io_completed, connection.id, IoOp::send, sent, 0);
        server.counters.bytes_out.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
        connection.send_queue.erase(0, static_cast<std::size_t>(sent));  // LESSON: select-partial-send
    }
}

// A broadcast only queues: each recipient's socket joins the write set at the next round, and its bytes leave
// when select() says it can take them. Nothing here can close a connection, so walking the table is safe.
std::size_t SelectServer::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        if (other->socket == INVALID_SOCKET || other->close_when_sent) return false;
        other->send_queue.append(message);
        return true;
    });
}

// SECTION: teardown
//
// A connection is closed at once (its socket leaves the map, so later entries of this round skip it) but freed
// at the end of the round. Shutdown closes every socket and frees every connection; a non-blocking model has
// no I/O in flight to wait for.
void close_connection(SelectServer& server, Connection& connection, CloseReason reason) {
    if (connection.socket == INVALID_SOCKET) return;
    if (connection.reason == CloseReason::none || reason == CloseReason::reset) connection.reason = reason;
    server.table.remove(connection.id);  // no broadcast can reach it any more
    server.by_socket.erase(connection.socket);
    win::close_socket(connection.socket);  // LESSON: select-close
    connection.send_queue.clear();
    TRACE(connection_close, connection.id, connection.reason, 0, 0);
    server.counters.connection_closed();
    server.closed.push_back(&connection);
}

void free_closed_connections(SelectServer& server) {
    for (Connection* connection : server.closed) {
        delete connection;
        win::accounting().connections.fetch_sub(1);
    }
    server.closed.clear();
}

void shut_down(SelectServer& server) {
    while (!server.by_socket.empty())
        close_connection(server, *server.by_socket.begin()->second, CloseReason::server_stopping);
    free_closed_connections(server);
    closesocket(server.listener);
    closesocket(server.doorbell);
}

// The thread pool runs this when the stop event is signalled: it rings the doorbell that select() listens to.
VOID CALLBACK on_stop_requested(PVOID context, BOOLEAN /*timed_out*/) {
    auto* server = static_cast<SelectServer*>(context);
    // LESSON: select-doorbell
    if (send(server->doorbell, "stop", 4, 0) == SOCKET_ERROR) win::report_error("send", WSAGetLastError());
}

// The doorbell: a UDP socket bound to a free loopback port and connected to itself, so that it accepts datagrams
// from itself only — no other program can ring it.
bool open_doorbell(SelectServer& server) {
    server.doorbell = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (server.doorbell == INVALID_SOCKET) {
        win::report_error("socket", WSAGetLastError());
        return false;
    }
    server.doorbell_address.sin_family = AF_INET;
    server.doorbell_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int length = sizeof server.doorbell_address;
    if (bind(server.doorbell, reinterpret_cast<sockaddr*>(&server.doorbell_address), length) == SOCKET_ERROR ||
        getsockname(server.doorbell, reinterpret_cast<sockaddr*>(&server.doorbell_address), &length) == SOCKET_ERROR ||
        connect(server.doorbell, reinterpret_cast<sockaddr*>(&server.doorbell_address), length) == SOCKET_ERROR) {
        win::report_error("bind, getsockname or connect", WSAGetLastError());
        closesocket(server.doorbell);
        return false;
    }
    return true;
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    auto server = std::make_unique<SelectServer>(options, control);  // on the heap: two 32 KiB fd_sets
    std::uint16_t port = 0;
    server->listener = win::create_listener(options, port);
    if (server->listener == INVALID_SOCKET) {
        control.report_failed();
        return 1;
    }
    u_long non_blocking = 1;
    if (ioctlsocket(server->listener, FIONBIO, &non_blocking) == SOCKET_ERROR) {
        win::report_error("ioctlsocket", WSAGetLastError());
        closesocket(server->listener);
        control.report_failed();
        return 1;
    }
    if (!open_doorbell(*server)) {
        closesocket(server->listener);
        control.report_failed();
        return 1;
    }
    trace::name_thread("select loop");
    win::announce_server("select", 0);
    HANDLE stop_wait = nullptr;
    RegisterWaitForSingleObject(&stop_wait, control.stop_event(), on_stop_requested, server.get(), INFINITE,
                                WT_EXECUTEONLYONCE);
    control.report_ready(port);

    serve(*server);

    UnregisterWaitEx(stop_wait, INVALID_HANDLE_VALUE);  // waits for the callback if it is running
    shut_down(*server);
    trace::thread_exiting();
    return control.stop_requested() ? 0 : 1;
}

}  // namespace

int run_select(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
