// models/08_poll.cpp — one thread, non-blocking sockets, and poll() over all of them (Linux).

// SECTION: abstract
//
// How the network reaches the code: as readiness — this is select's twin (models/01_select.cpp), on Linux. Every
// socket is non-blocking. One thread fills an array of pollfd, one entry per socket, each asking for what the
// thread wants to know: POLLIN (bytes to read, the end of the stream, or on the listener a client waiting), POLLOUT
// (room in the send buffer for bytes queued). poll() blocks until at least one is ready and writes its answer into
// each entry's revents, beside the question, which it leaves alone. The thread then walks the array, makes exactly
// one recv() or one round of send() for each ready socket (it cannot block: the socket is ready, and EAGAIN is
// handled anyway), and goes back to poll(). Readiness is level-triggered: a socket with unread bytes is reported
// again at every poll() until they are read, so nothing is ever "missed".
//
// What poll() changes from select(): there is no FD_SETSIZE. An fd_set has a fixed size (on Linux a bitmap of
// 1,024 descriptors, and FD_SET past it writes out of bounds); a pollfd array is as long as the caller makes it,
// so the limit is the process's limit of open descriptors (RLIMIT_NOFILE), not the call's. And poll() waits on any
// descriptor, so the stop signal (the control's eventfd) sits in the array beside the sockets: no doorbell.
//
// Where state lives: a Connection per client (socket, protocol session, send queue). Beside the array, rebuilt with
// it every round, is the Connection each entry asks for, so an answer leads straight to its connection.
// There are no per-I/O objects: every call completes before it returns.
//
// Threads: one. It accepts, reads, runs the protocol and sends. So a /work that blocks stalls every client.
//
// Limits, honestly:
// - Every call is O(n) in the number of sockets: the whole array is rebuilt, copied into the kernel, every
//   descriptor's readiness checked there and the array copied back, and then the thread scans every entry's revents
//   — even when one socket out of a thousand is ready. epoll keeps the list in the kernel and hands back only the
//   ready ones.
// - Past the descriptor limit, accept() fails with EMFILE: reported, a 10 ms pause, and the next round tries again;
//   the waiting clients stay in the listen backlog meanwhile.
// - A client that stops reading must not make the server queue without end: once kMaxQueuedBytes wait for it, its
//   entry stops asking for POLLIN until the queue drains (back-pressure). TCP then slows that client down.

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <vector>

#include "common/posix/connection.h"
#include "common/posix/one_thread.h"
#include "common/trace/recorder.h"
#include "models/model.h"

namespace socklab::models {
namespace {

using trace::CloseReason;
using trace::IoOp;
using trace::Wake;

// SECTION: state
//
// One Connection per client, found from the entry of the array that poll() answered.
// Only the server's one thread touches it, so there is no lock.
struct Connection : posix::ConnectionBase {
    using ConnectionBase::ConnectionBase;
};

struct Server : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    int listener = -1;
    posix::SocketTable<Connection> table;  // what /all walks
    std::vector<pollfd> watched;           // what poll() is asked this round, and its answer
    std::vector<Connection*> watched_for;  // the Connection of each entry (nullptr: the stop eventfd, the listener)

    Server(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("poll"); }
};

bool dispatch(Server& server);
void queue_send(Server& server, Connection& connection, std::string_view bytes);
void close_connection(Server& server, Connection& connection, CloseReason reason);

// SECTION: listen
//
// The listening socket is non-blocking too and sits in the array, POLLIN meaning a client is waiting. Everyone
// waiting is accepted (posix::accept_waiting_clients), so one wake serves a burst of clients, and made non-blocking
// at once (posix::make_non_blocking): one slow client would stall everyone.
bool listen_for_clients(Server& server) { return posix::make_non_blocking(server.listener); }

void accept_clients(Server& server) {
    posix::accept_waiting_clients(server.listener, [&](int client, std::uint16_t peer_port) {
        if (!posix::make_non_blocking(client)) {
            posix::close_socket(client);
            return true;
        }
        auto* connection = new Connection(server, server.options.max_line, client, peer_port);
        server.table.add(connection);
        posix::record_opened(server, *connection);
        return true;  // no set to overflow: the next one waiting
    });
}

// SECTION: wait
//
// Each round: rebuild the array, wait in poll(), handle what is ready. The array could be kept from round to round
// (poll() writes only revents), but what each connection asks for changes with its send queue, and a connection
// closed or accepted changes the array: rebuilding is the simple way, and it costs what poll() costs anyway, O(n).
// No timeout: the stop eventfd wakes the thread.

// One entry: the descriptor, what to watch it for, and the Connection it belongs to.
void watch(Server& server, int socket, short events, Connection* connection) {
    server.watched.push_back(pollfd{socket, events, 0});  // LESSON: watch
    server.watched_for.push_back(connection);
}

void loop_main(Server& server) {
    for (;;) {
        server.watched.clear();
        server.watched_for.clear();
        // LESSON: stop
        watch(server, server.control.stop_fd(), POLLIN, nullptr);
        watch(server, server.listener, POLLIN, nullptr);
        server.table.for_each_except(0, [&](Connection* connection) {
            short events = 0;
            // Back-pressure: a client with a full queue is not read from until it reads its replies.
            if (!connection->peer_finished && connection->send_queue.size() < kMaxQueuedBytes)
                events |= POLLIN;  // LESSON: back-pressure
            if (!connection->send_queue.empty()) events |= POLLOUT;
            if (events != 0) watch(server, connection->socket, events, connection);
            return true;
        });
        TRACE(wait_begin, 0, trace::WaitOn::poll, server.watched.size(), 0);
        // LESSON: wait
        int ready = poll(server.watched.data(), server.watched.size(), -1);
        if (ready < 0) {
            int error = errno;
            TRACE(wait_end, 0, error == EINTR ? Wake::nothing : Wake::error, 0, error);
            if (error == EINTR) continue;  // a signal handler ran (Ctrl-C: it rang the stop eventfd): wait again
            posix::wait_failed("poll", error, server.control);  // a bug (EINVAL, ENOMEM): stop, not spin
            return;
        }
        TRACE(wait_end, 0, Wake::ready, ready, 0);
        if (!dispatch(server)) return;
    }
}

// SECTION: dispatch
//
// poll() answered in every entry's revents: the thread scans the whole array, one entry after another, however few
// are ready — this scan is the O(n) of the abstract. Each entry names its Connection, so one closed earlier in this
// round (socket -1) is passed by. New connections last, so that no accept happens while entries of the round are
// still to be looked at. Each ready socket gets one recv() or one round of send(), so a client that never pauses
// gets the same share as everyone.
void read_once(Server& server, Connection& connection);
void drain(Server& server, Connection& connection);

bool dispatch(Server& server) {
    bool accept_ready = false, stop_ready = false;
    // LESSON: scan-revents
    for (std::size_t i = 0; i < server.watched.size(); ++i) {
        const pollfd& entry = server.watched[i];
        if (entry.revents == 0) continue;
        if (entry.revents & POLLNVAL) {  // a descriptor that is not open: a bug, as a closed socket in select()
            posix::wait_failed("poll (POLLNVAL)", EBADF, server.control);
            return false;
        }
        Connection* connection = server.watched_for[i];
        if (entry.fd == server.control.stop_fd()) {
            stop_ready = true;
        } else if (entry.fd == server.listener) {
            accept_ready = true;
        } else if (connection->socket >= 0) {
            trace::gate_point(connection->id);
            // POLLERR and POLLHUP come whatever was asked: the recv() or send() then fails and says why.
            if ((entry.events & POLLIN) && (entry.revents & (POLLIN | POLLERR | POLLHUP)))
                read_once(server, *connection);
            if ((entry.events & POLLOUT) && (entry.revents & (POLLOUT | POLLERR | POLLHUP)))
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

// Once every reply is out: close, or say goodbye and drain (posix::say_goodbye).
void drain(Server& server, Connection& connection) {
    if (posix::say_goodbye(connection)) close_connection(server, connection, connection.reason);
}

void on_received(Server& server, Connection& connection, const char* data, std::size_t received);

// One recv() per readable socket.
void read_once(Server& server, Connection& connection) {
    char buffer[posix::kReceiveBufferSize];
    // LESSON: recv
    ssize_t received = recv(connection.socket, buffer, sizeof buffer, 0);
    if (received < 0) {
        int error = errno;
        TRACE(io_completed, connection.id, IoOp::receive, 0, error);
        if (error == EAGAIN || error == EWOULDBLOCK || error == EINTR) return;  // a hint, not a promise
        close_connection(server, connection, posix::close_reason_for(error));
        return;
    }
    TRACE(io_completed, connection.id, IoOp::receive, received, 0);
    on_received(server, connection, buffer, static_cast<std::size_t>(received));
}

// The session takes the bytes, or the end of the stream (posix::take_received), and its replies are sent at once.
void on_received(Server& server, Connection& connection, const char* data, std::size_t received) {
    std::string replies;
    if (posix::take_received(connection, server, data, received, replies))
        close_connection(server, connection, connection.reason);  // sent too much after our goodbye
    queue_send(server, connection, replies);
}

// SECTION: send
//
// send() on a non-blocking socket takes what fits in the socket's send buffer — possibly only part of what was
// asked — and fails with EAGAIN when nothing fits. Whatever it did not take stays at the front of the queue, and the
// socket's entry asks for POLLOUT until the queue is empty. MSG_NOSIGNAL: a send to a client that has gone fails
// with EPIPE, instead of killing the whole server with SIGPIPE.
// LESSON: send
void queue_send(Server& server, Connection& connection, std::string_view bytes) {
    connection.send_queue.append(bytes);
    while (connection.socket >= 0 && !connection.send_queue.empty()) {
        ssize_t sent =
            send(connection.socket, connection.send_queue.data(), connection.send_queue.size(), MSG_NOSIGNAL);
        if (sent < 0) {
            int error = errno;
            TRACE(io_completed, connection.id, IoOp::send, 0, error);
            if (error == EINTR) continue;
            if (error == EAGAIN || error == EWOULDBLOCK)
                return;  // the buffer is full: poll() will say when there is room
            close_connection(server, connection, posix::close_reason_for(error));
            return;
        }
        TRACE(io_completed, connection.id, IoOp::send, sent, 0);
        server.counters.bytes_out.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
        connection.send_queue.erase(0, static_cast<std::size_t>(sent));
    }
}

// A broadcast only queues: the recipient's entry asks for POLLOUT at the next round. Sending here could close a
// recipient (a send error) in the middle of the table's walk.
std::size_t Server::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        if (other->close_when_sent) return false;
        other->send_queue.append(message);
        return true;
    });
}

// SECTION: teardown
//
// A connection closes at once: its socket leaves the table, so no /all reaches it and what this round's answer
// still says about it is passed by. It is freed when the thread is done with the round it closed in, which may
// still hold it. Shutdown closes every socket and frees every connection; a non-blocking model has no I/O in flight
// to wait for.
void close_connection(Server& server, Connection& connection, CloseReason reason) {
    if (connection.socket < 0) return;
    posix::note_close_reason(connection, reason);
    server.table.remove(connection);
    posix::close_socket(connection.socket);  // LESSON: close
    posix::record_closed(server, connection);
}

void shut_down(Server& server) {
    while (Connection* connection = server.table.any())
        close_connection(server, *connection, CloseReason::server_stopping);
    server.table.free_closed();
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    Server server(options, control);
    return posix::run_loop("poll", "poll loop", server, listen_for_clients, loop_main, shut_down);
}

}  // namespace

int run_poll(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
