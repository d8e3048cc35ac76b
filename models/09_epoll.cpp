// models/09_epoll.cpp — one epoll instance and a pool of workers waiting in epoll_wait on it (Linux).

// SECTION: abstract
//
// How the network reaches the code: as readiness, like poll (models/08_poll.cpp), but the list of what to watch lives
// in the kernel. The server creates one epoll instance and registers each socket once (epoll_ctl EPOLL_CTL_ADD), with
// what it wants to know (EPOLLIN, EPOLLOUT) and a word of its own that comes back with every report — here, the
// connection's id. The kernel keeps a ready list: a socket joins it when it becomes ready, and epoll_wait hands back
// only what is on it, so a wait costs the ready sockets, not all of them. Every socket is non-blocking.
//
// This is the twin of the completion-port model (models/06_iocp.cpp): a pool of workers all wait in epoll_wait on the
// same instance, and each takes one event at a time (maxevents 1, as GetQueuedCompletionStatus takes one packet). The
// difference is what comes back: not "your receive is done, here are the bytes" but "this socket can be read now" —
// the worker then makes the recv() and send() itself.
//
// One connection, one worker at a time: every socket is registered with EPOLLONESHOT. Once the kernel has reported it
// to a worker it reports it to nobody else until that worker re-arms it (EPOLL_CTL_MOD) — so two workers never read
// the same socket at once and a client's lines are answered in order, as one receive in flight per connection does it
// in iocp. Without it, level-triggered readiness would report a socket with unread bytes again to the next worker that
// waits, before the first has read them.
//
// Several waiters: the kernel hands one ready event to one of the workers blocked in epoll_wait, and on this machine
// it is the one that began to wait last — most recent first, the completion port's LIFO order. Measured on Linux
// 6.18.44-fc-v1045 with the "[waits-epoll]" test (4 workers idle, 200 events one at a time, the order read from the
// trace): 997 of 1,000 wakes in five runs took the most recent waiter, none the oldest. epoll(7) promises no order:
// it is what this kernel did, so the test prints the share it measures wherever it runs. What epoll has not got is the
// port's concurrency value (--concurrency does not apply): it never holds an event back because enough workers run,
// so with events ready, every worker of the pool may be running at once. A worker that blocks (the Sleep of /work)
// holds only the connection it is handling; the others go on serving the rest.
//
// Where state lives: a Connection per client (socket, session, send queue, its lock, whether a worker holds it),
// found from the id in the event through the table of connections. There are no per-I/O objects: every call
// completes before it returns.
//
// Threads: a pool of workers (--workers, default twice the processors); the run thread only waits for them to end.
// A worker accepts too: the listener is in the set, EPOLLIN meaning clients are waiting. The stop is in the set as
// well: the control's eventfd, level-triggered and never read, so every worker's epoll_wait reports it, one after
// another, and each leaves (the [pool] test stops 100 workers so).
//
// Limits, honestly:
// - A /all reaches connections other workers may hold, so each connection has a lock, the table has one, and every
//   wake looks its connection up under the table's lock — one lock all workers share, for a moment each time
//   (section state says why a pointer in the event would not do).
// - A client that stops reading must not make the server queue without end: once kMaxQueuedBytes wait for it, its
//   socket is re-armed without EPOLLIN until the queue drains (back-pressure).
// - One event per wait and a re-arm after it: two system calls (epoll_wait, epoll_ctl) for each turn of a connection,
//   besides its recv() and send() — the price of handing connections to workers one at a time.
// - Past the descriptor limit, accept() fails with EMFILE: reported, a 10 ms pause, and the listener is re-armed.

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <string>

#include "common/posix/connection.h"
#include "common/posix/one_thread.h"
#include "common/posix/worker_pool.h"
#include "common/trace/recorder.h"
#include "models/model.h"

namespace socklab::models {
namespace {

using trace::CloseReason;
using trace::IoOp;
using trace::WaitOn;
using trace::Wake;

// SECTION: state
//
// One Connection per client. Its lock guards its state between the worker that holds it and a /all, which queues to
// it from another worker; the steps below marked "locked" are called with it held.
//
// `held`: a worker took its event and has not re-armed it yet. EPOLLONESHOT alone keeps the kernel from reporting the
// socket twice — but a /all that queues to an idle connection must re-arm it for EPOLLOUT, and it cannot tell whether
// the kernel has just handed that connection's last report to a worker that has not yet taken its lock: its re-arm
// may then bring a second report. `held` turns that report away. And because the second report may come while the
// holder closes and frees the connection, the event carries the connection's id, not its address: a worker finds the
// connection in the table (posix::ConnectionTable), and an id that has left it names nothing.
struct Connection : posix::ConnectionBase {
    using ConnectionBase::ConnectionBase;
    std::mutex lock;
    bool held = false;  // a worker is handling it: it re-arms it, or closes it, when done
};

// The words epoll_data carries for what is not a connection (connection ids start at 1).
constexpr std::uint64_t kStopKey = 0;
constexpr std::uint64_t kListenerKey = UINT64_MAX;

struct Server : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    int listener = -1;
    int epoll = -1;                            // the epoll instance every worker waits on
    posix::ConnectionTable<Connection> table;  // what /all walks, and where an event's id leads

    Server(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("epoll"); }
};

void dispatch(Server& server, std::uint32_t id, std::uint32_t events);
void queue_send(Server& server, Connection& connection, std::string_view bytes);
void close_connection(Connection& connection, CloseReason reason);
void put_back(Server& server, Connection& connection);

// SECTION: listen
//
// The listening socket is non-blocking and in the set with EPOLLONESHOT, like a connection: the worker that gets its
// report accepts everyone waiting (posix::accept_waiting_clients), so one wake serves a burst of clients, then
// re-arms it. Each new socket goes into the table first and into the set second: from epoll_ctl on, another worker
// may get its first report and look its id up. Until it is in the set the accepting worker holds it, so that a /all
// does not re-arm a socket the set has not got; then it puts it back like any worker, and what came meanwhile is
// reported.
bool listen_for_clients(Server& server) {
    if (!posix::make_non_blocking(server.listener)) return false;
    // LESSON: create-epoll
    server.epoll = epoll_create1(EPOLL_CLOEXEC);
    if (server.epoll < 0) {
        posix::report_error("epoll_create1", errno);
        return false;
    }
    // The stop: level-triggered and never read, so it stays ready and every epoll_wait from now on reports it.
    epoll_event stop{};
    stop.events = EPOLLIN;
    stop.data.u64 = kStopKey;
    epoll_event listening{};
    listening.events = EPOLLIN | EPOLLONESHOT;
    listening.data.u64 = kListenerKey;
    if (epoll_ctl(server.epoll, EPOLL_CTL_ADD, server.control.stop_fd(), &stop) != 0 ||
        epoll_ctl(server.epoll, EPOLL_CTL_ADD, server.listener, &listening) != 0) {
        posix::report_error("epoll_ctl(EPOLL_CTL_ADD)", errno);
        return false;
    }
    return true;
}

void accept_clients(Server& server) {
    posix::accept_waiting_clients(server.listener, [&](int client, std::uint16_t peer_port) {
        if (!posix::make_non_blocking(client)) {
            posix::close_socket(client);
            return true;
        }
        auto* connection = new Connection(server, server.options.max_line, client, peer_port);
        connection->held = true;
        posix::record_opened(server, *connection);
        server.table.add(connection);
        epoll_event event{};
        event.events = EPOLLIN | EPOLLONESHOT;
        event.data.u64 = connection->id;
        // LESSON: register
        if (epoll_ctl(server.epoll, EPOLL_CTL_ADD, client, &event) != 0) {
            posix::report_error("epoll_ctl(EPOLL_CTL_ADD)", errno, connection->id);
            {
                std::lock_guard lock(connection->lock);
                close_connection(*connection, CloseReason::error);
            }
            posix::free_connection(server, server.table, *connection);
            return true;
        }
        put_back(server, *connection);
        return true;
    });
    epoll_event listening{};
    listening.events = EPOLLIN | EPOLLONESHOT;
    listening.data.u64 = kListenerKey;
    if (epoll_ctl(server.epoll, EPOLL_CTL_MOD, server.listener, &listening) != 0)
        posix::wait_failed("epoll_ctl(EPOLL_CTL_MOD) of the listener", errno, server.control);  // no more clients
}

// SECTION: wait
//
// A worker: wait for one event, handle it, wait again. The event says which socket (the word registered with it) and
// what it is ready for. No timeout: the stop eventfd wakes every worker. The wait is traced as a completion port's
// is (the instance as port 0), so a viewer stacks the waiters and shows which one each event woke. Once a worker is
// done with a connection it re-arms it: EPOLLONESHOT has disarmed it for everyone when it was reported.
// What a connection asks the kernel to report, re-armed for one report (locked).
std::uint32_t interest(const Connection& connection) {
    std::uint32_t events = EPOLLONESHOT;
    // Back-pressure: a client with a full queue is not read from until it reads its replies.
    if (!connection.peer_finished && connection.send_queue.size() < kMaxQueuedBytes)
        events |= EPOLLIN;  // LESSON: back-pressure
    if (!connection.send_queue.empty()) events |= EPOLLOUT;
    return events;
}

// Locked. Re-arms the connection's socket for one more report: the kernel checks its readiness now, so what became
// ready while the worker held it is reported at once. A failure closes the connection.
// LESSON: rearm
void rearm(Server& server, Connection& connection) {
    epoll_event event{};
    event.events = interest(connection);
    event.data.u64 = connection.id;
    if (epoll_ctl(server.epoll, EPOLL_CTL_MOD, connection.socket, &event) != 0) {
        posix::report_error("epoll_ctl(EPOLL_CTL_MOD)", errno, connection.id);
        close_connection(connection, CloseReason::error);  // (by a /all: freed at shutdown, as nobody holds it)
    }
}

// The worker is done with a connection for now: it is re-armed for its next report — or, closed, freed.
void put_back(Server& server, Connection& connection) {
    bool closed;
    {
        std::lock_guard lock(connection.lock);
        if (connection.socket >= 0) rearm(server, connection);
        closed = connection.socket < 0;
        if (!closed) connection.held = false;  // from here a /all may re-arm it
    }
    if (closed) posix::free_connection(server, server.table, connection);
}

// LESSON: wait
void worker_main(void* parameter) {
    Server& server = *static_cast<Server*>(parameter);
    trace::name_thread("worker");
    for (;;) {
        epoll_event event{};
        TRACE(wait_begin, 0, WaitOn::epoll, 0, 0);
        int ready = epoll_wait(server.epoll, &event, 1, -1);
        if (ready < 0) {
            int error = errno;
            TRACE(wait_end, 0, error == EINTR ? Wake::nothing : Wake::error, 0, error);
            if (error == EINTR) continue;                             // a signal handler ran: wait again
            posix::wait_failed("epoll_wait", error, server.control);  // a bug (EBADF, EINVAL): stop, not spin
            break;
        }
        if (event.data.u64 == kStopKey) {
            TRACE(wait_end, 0, Wake::stop, 0, 0);
            break;
        }
        const auto id = event.data.u64 == kListenerKey ? 0 : static_cast<std::uint32_t>(event.data.u64);
        TRACE(wait_end, id, Wake::ready, event.events, 0);
        trace::gate_point(id);
        if (id == 0) accept_clients(server);
        else dispatch(server, id, event.events);
    }
    trace::thread_exiting();
}

// SECTION: dispatch
//
// One report, one turn of a connection: the worker takes it (held), makes one recv() if it is readable and one round
// of send() if it is writable, then re-arms it — or closes and frees it. One recv per turn: a client that never
// pauses goes to the back of the ready list after each, so it gets the same share as everyone.
void read_once(Server& server, Connection& connection);
void drain(Connection& connection);

void dispatch(Server& server, std::uint32_t id, std::uint32_t events) {
    Connection* connection = server.table.take(id);  // locked from here
    if (connection == nullptr) return;               // freed since: a second report of a closed connection
    if (connection->held) {         // a second report, while another worker holds it (a /all's re-arm brought it):
        connection->lock.unlock();  // the holder re-arms it when done, and the kernel checks it again then
        return;
    }
    connection->held = true;
    connection->lock.unlock();
    // EPOLLERR and EPOLLHUP come whatever was asked: the recv() or send() then fails and says why.
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) read_once(server, *connection);
    {
        std::lock_guard lock(connection->lock);
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) queue_send(server, *connection, {});
        drain(*connection);
    }
    put_back(server, *connection);
}

// Locked. Once every reply is out: close, or say goodbye and drain (posix::say_goodbye).
void drain(Connection& connection) {
    if (posix::say_goodbye(connection)) close_connection(connection, connection.reason);
}

void on_received(Server& server, Connection& connection, const char* data, std::size_t received);

// One recv() per readable report. Without the lock: only the holder reads, closes, or runs the session.
void read_once(Server& server, Connection& connection) {
    char buffer[posix::kReceiveBufferSize];
    // LESSON: recv
    ssize_t received = recv(connection.socket, buffer, sizeof buffer, 0);
    if (received < 0) {
        int error = errno;
        TRACE(io_completed, connection.id, IoOp::receive, 0, error);
        if (error == EAGAIN || error == EWOULDBLOCK || error == EINTR) return;  // a hint, not a promise
        std::lock_guard lock(connection.lock);
        close_connection(connection, posix::close_reason_for(error));
        return;
    }
    TRACE(io_completed, connection.id, IoOp::receive, received, 0);
    on_received(server, connection, buffer, static_cast<std::size_t>(received));
}

// The session takes the bytes, or the end of the stream, and its replies are sent at once. It runs without the
// connection's lock, because of the lock order (models/README.md): a /all in it takes the table's lock and then every
// other connection's. It is safe: only the worker that holds the connection touches its session.
void on_received(Server& server, Connection& connection, const char* data, std::size_t received) {
    std::string replies;
    bool closing;
    {
        std::lock_guard lock(connection.lock);
        closing = connection.closing();
    }
    auto verdict = posix::run_session(connection, server, closing, data, received, replies);
    std::lock_guard lock(connection.lock);
    if (posix::note_received(connection, received, verdict))
        close_connection(connection, connection.reason);  // sent too much after our goodbye
    queue_send(server, connection, replies);
}

// SECTION: send
//
// Locked. send() on a non-blocking socket takes what fits in the socket's send buffer — possibly only part of what was
// asked — and fails with EAGAIN when nothing fits. Whatever it did not take stays at the front of the queue, and the
// socket is re-armed with EPOLLOUT until the queue is empty. Only the worker holding the connection sends.
// MSG_NOSIGNAL: a send to a client that has gone fails with EPIPE, instead of killing the server with SIGPIPE.
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
            if (error == EAGAIN || error == EWOULDBLOCK) return;  // the buffer is full: EPOLLOUT will say when not
            close_connection(connection, posix::close_reason_for(error));
            return;
        }
        TRACE(io_completed, connection.id, IoOp::send, sent, 0);
        server.counters.bytes_out.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
        connection.send_queue.erase(0, static_cast<std::size_t>(sent));
    }
}

// /all: the message is queued to every other connection, each under its lock, inside the table's lock. It only
// queues: the recipient's holder sends it, or — when no worker holds the recipient — its socket is re-armed with
// EPOLLOUT here, and the worker that gets that report sends it.
std::size_t Server::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        std::lock_guard lock(other->lock);
        if (other->socket < 0 || other->close_when_sent) return false;
        other->send_queue.append(message);
        if (!other->held) rearm(*this, *other);
        return true;
    });
}

// SECTION: teardown
//
// Locked. A connection closes at once: close() takes its socket out of the epoll set as well (it was the last
// descriptor of that socket), so no more reports come for it. Its holder frees it (posix::free_connection).
// LESSON: close
void close_connection(Connection& connection, CloseReason reason) {
    if (connection.socket < 0) return;
    posix::note_close_reason(connection, reason);
    connection.send_queue.clear();
    posix::close_socket(connection.socket);
}

// Every worker has ended (posix::run_pool): nobody holds a connection any more. Close and free each, then the epoll
// instance.
void shut_down(Server& server) {
    while (Connection* connection = server.table.any()) {
        {
            std::lock_guard lock(connection->lock);
            close_connection(*connection, CloseReason::server_stopping);
        }
        posix::free_connection(server, server.table, *connection);
    }
    if (server.epoll >= 0) close(server.epoll);
    server.epoll = -1;
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    Server server(options, control);
    unsigned workers = options.workers ? options.workers : 2 * posix::processor_count();
    return posix::run_pool("epoll", server, listen_for_clients, workers, worker_main, shut_down);
}

}  // namespace

int run_epoll(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
