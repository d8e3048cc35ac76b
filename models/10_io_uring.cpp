// models/10_io_uring.cpp — io_uring: receives and sends submitted to a ring, completions reaped by one thread (Linux).

// SECTION: abstract
//
// How the network reaches the code: as completions — this is the completion port's twin (models/06_iocp.cpp), on
// Linux. The process and the kernel share two rings of memory. The server writes a request into the submission
// queue (an SQE: "receive into this buffer", "send these bytes", "accept on this listener"), tags it with a 64-bit
// user_data (here, the IoRequest) and hands the whole batch to the kernel in one system call. When the kernel has
// finished a request it writes a completion into the completion queue (a CQE: the user_data it came with and the
// result — bytes moved, a new socket, or -errno). The server reaps the CQEs and starts the next requests. Nothing
// is ever "ready" here, as it is in poll(): the bytes are already in the buffer when the completion says so.
//
// Where state lives: per socket, a Connection (socket, session, send queue, its receive and send in flight); per
// I/O, an IoRequest (the buffer, what kind of I/O, which connection), allocated when the SQE is prepared and freed
// when its CQE has been handled — never earlier, because the kernel writes into the buffer, or reads from it, until
// then. Closing a socket does not end what is in flight on it, unlike closesocket() on Windows: a request holds its
// own reference to the socket, and a pending receive would wait for bytes that never come (the [waits-io-uring] test
// shows it: measured on Linux 6.18.44, a receive is still pending 200 ms after close()). So a close cancels each
// request by its user_data (IORING_OP_ASYNC_CANCEL), and the cancelled request still completes, with -ECANCELED.
//
// Threads: one, the ring loop. It prepares every SQE, submits them and waits in io_uring_submit_and_wait() — one
// system call that hands over every SQE prepared since the last and returns once a CQE is there — then reaps what
// came. The accept is a request like the others: one multishot accept stays armed on the listener and completes once
// per client, its flag IORING_CQE_F_MORE saying it is still armed. The stop signal is one too: a poll on the
// control's eventfd. Only this thread ever waits on the ring, so there is no wake order to measure (the
// [waits-io-uring] test checks from the trace that one thread waits, posts every I/O and takes every completion).
// Why not a pool of waiters, as on a completion port: the completion queue is a single-consumer ring — the reaper
// reads at its head and moves the head with a plain store, and liburing's wait, peek and seen assume one reaper —
// and the submission queue a single-producer one. Several threads on one ring would need a lock around every reap
// and every submit, which the completion port takes inside the kernel. The usual way to use more processors with
// io_uring is a ring per thread, each with its own connections (the kernel even has a flag for a ring that only one
// thread submits to, IORING_SETUP_SINGLE_ISSUER), and that is a pool of these loops, not a pool of waiters.
//
// Limits, honestly:
// - One thread runs every session, so a /work that blocks stalls every client, as in poll.
// - One receive is in flight per connection, and at most one send, so replies leave in the order they were queued;
//   a send may take only part of its bytes (a full socket buffer), and the rest goes back to the front of the queue.
// - Once kMaxQueuedBytes of replies wait for a client, no receive is posted for it until they have gone
//   (back-pressure); TCP then slows that client down.
// - The completion queue holds kCompletionQueueSize CQEs. More completions at once (far more connections) wait in
//   the kernel's overflow list until there is room (IORING_FEAT_NODROP, required here): slower, nothing lost.
// - It needs Linux 5.19 or later (multishot accept) with io_uring allowed (sysctl kernel.io_uring_disabled = 0, no
//   seccomp filter against it, as some containers have); otherwise it says why and does not start, or stops.

#include <liburing.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <unordered_map>

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
// One Connection per client, found from the IoRequest a CQE names. Only the ring loop touches it, so there is no
// lock. It knows its requests in flight so that a close can cancel them, and it is freed after the completion of the
// last one.
struct IoRequest;
struct Connection : posix::ConnectionBase {
    using ConnectionBase::ConnectionBase;
    IoRequest* receiving = nullptr;  // the receive in flight, if any
    IoRequest* sending = nullptr;    // the send in flight, if any: at most one, so bytes leave in order
    bool reading_paused = false;     // no receive posted because the send queue is full (back-pressure)
    bool closed = false;             // close_connection ran: no new I/O, what is in flight is being cancelled
};

// One per SQE: its address is the SQE's user_data, which comes back in the CQE. The accept and the poll on the stop
// eventfd are IoRequests too (without a connection), so every CQE is handled, and counted, the same way.
struct IoRequest : server::CountedIoObject<IoRequest> {
    IoOp operation;  // none: the poll on the stop eventfd
    std::uint32_t id;
    Connection* connection;
    std::string data;  // receive: the buffer; send: the bytes being sent

    IoRequest(IoOp op, std::uint32_t io_id, Connection* owner) : operation(op), id(io_id), connection(owner) {
        if (operation == IoOp::receive) data.resize(posix::kReceiveBufferSize);
        if (operation == IoOp::send) data.swap(owner->send_queue);  // everything queued goes in one send
    }
};

// SQEs one io_uring_submit_and_wait can take; more are submitted on the way when the queue fills (next_sqe).
constexpr unsigned kSubmissionQueueSize = 256;
// CQEs the ring holds: more than two per connection for a thousand clients.
constexpr unsigned kCompletionQueueSize = 4096;
// The user_data of a cancel: its CQE says only whether it found its request, which completes anyway. Never an
// IoRequest's address.
constexpr std::uint64_t kCancelTag = 0;

struct Server : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    int listener = -1;
    io_uring ring{};
    bool ring_open = false;
    std::unordered_map<std::uint32_t, Connection*> table;  // every connection not yet freed; /all walks it
    IoRequest* accepting = nullptr;                        // the multishot accept, while it is armed
    IoRequest* stop_poll = nullptr;                        // the poll on the stop eventfd, until it completes
    std::size_t in_flight = 0;                             // IoRequests submitted whose last CQE is not handled
    bool stopping = false;
    std::uint32_t next_io_id = 1;

    Server(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("io-uring"); }
};

void dispatch(Server& server, IoRequest* request, int result, unsigned flags);
bool start_receive(Server& server, Connection& connection);
void queue_send(Server& server, Connection& connection, std::string_view bytes);
void close_connection(Server& server, Connection& connection, CloseReason reason);
void finish_io(Server& server, Connection& connection, IoRequest* request);

// The next free SQE. When the submission queue is full (a burst of completions, each preparing a receive and a
// send), what is in it is submitted first, which makes room. nullptr, reported, only if the kernel takes none.
io_uring_sqe* next_sqe(Server& server) {
    io_uring_sqe* sqe = io_uring_get_sqe(&server.ring);
    if (sqe == nullptr) {
        int submitted = io_uring_submit(&server.ring);
        sqe = io_uring_get_sqe(&server.ring);
        if (sqe == nullptr) posix::report_error("io_uring_submit (the submission queue stays full)", -submitted);
    }
    return sqe;
}

// The SQE of `request`, tagged with its address, and counted until its last CQE is handled.
void submit(Server& server, io_uring_sqe* sqe, IoRequest* request) {
    io_uring_sqe_set_data(sqe, request);
    ++server.in_flight;
}

// SECTION: listen
//
// The accept is submitted like any I/O: one multishot accept on the listener, which completes once for every
// client with its new socket (or -errno), and says with IORING_CQE_F_MORE that it is still armed. It is armed
// again when it ends (an error ends it). The kernel does the accepting; the CQE hands over a connected socket.
bool arm_accept(Server& server) {
    io_uring_sqe* sqe = next_sqe(server);
    if (sqe == nullptr) return false;
    server.accepting = new IoRequest(IoOp::accept, server.next_io_id++, nullptr);
    TRACE(io_posted, 0, IoOp::accept, 0, server.accepting->id);
    // LESSON: multishot-accept
    io_uring_prep_multishot_accept(sqe, server.listener, nullptr, nullptr, SOCK_CLOEXEC);
    submit(server, sqe, server.accepting);
    return true;
}

// An accept's CQE: a new client (its socket), or why there was none. Each new socket gets its Connection and its
// first receive.
void accept_clients(Server& server, IoRequest* request, int result, unsigned flags) {
    TRACE(io_completed, 0, IoOp::accept, 0, result < 0 ? -result : 0);
    if (result >= 0) {
        std::uint16_t peer_port = posix::take_accepted_client(result);
        if (server.stopping) {
            posix::close_socket(result);  // it came as the server stops
        } else {
            auto* connection = new Connection(server, server.options.max_line, result, peer_port);
            server.table[connection->id] = connection;
            posix::record_opened(server, *connection);
            if (!start_receive(server, *connection)) finish_io(server, *connection, nullptr);  // freed now
        }
    } else if (result == -EINVAL) {  // a kernel without multishot accept (before 5.19): arming it again cannot help
        posix::wait_failed("io_uring accept (multishot: Linux 5.19 or later)", EINVAL, server.control);
        server.stopping = true;
    } else if (result != -ECANCELED && !posix::client_left_before_accept(-result)) {
        posix::after_failed_accept(-result);  // e.g. EMFILE: reported, a 10 ms pause before it is armed again
    }
    if (flags & IORING_CQE_F_MORE) return;  // still armed: the same request completes again
    --server.in_flight;
    delete request;
    server.accepting = nullptr;
    if (!server.stopping && !arm_accept(server))
        posix::wait_failed("io_uring (arming the accept)", EBUSY, server.control);
}

// SECTION: wait
//
// The ring loop: submit what was prepared and wait for at least one completion, in one call; then take every CQE
// that is there. No timeout: the stop is a completion too (the poll on the control's eventfd).
bool reap(Server& server);

// LESSON: wait
void loop_main(Server& server) {
    for (;;) {
        TRACE(wait_begin, 0, trace::WaitOn::io_uring, io_uring_sq_ready(&server.ring), 0);
        int result = io_uring_submit_and_wait(&server.ring, 1);
        // -EINTR: a signal handler ran (Ctrl-C: it rang the stop eventfd, whose poll completes). -EBUSY, -EAGAIN:
        // completions wait in the kernel's overflow list, or it is short of memory for a moment: reap, then submit.
        if (result < 0 && result != -EINTR && result != -EBUSY && result != -EAGAIN) {
            TRACE(wait_end, 0, Wake::error, 0, -result);
            posix::wait_failed("io_uring_submit_and_wait", -result, server.control);  // a bug: stop, not spin
            return;
        }
        TRACE(wait_end, 0, Wake::completion, io_uring_cq_ready(&server.ring), result < 0 ? -result : 0);
        if (!reap(server)) return;
    }
}

// Takes the CQEs that are there now, oldest first: each one's user_data, result and flags are copied and its slot
// is given back (io_uring_cqe_seen) before it is handled, so the handling may submit, and the kernel post, more.
// False once the stop's poll has completed.
bool reap(Server& server) {
    for (unsigned ready = io_uring_cq_ready(&server.ring); ready > 0; --ready) {
        io_uring_cqe* cqe = nullptr;
        // LESSON: reap
        if (io_uring_peek_cqe(&server.ring, &cqe) != 0) break;
        std::uint64_t user_data = cqe->user_data;
        int result = cqe->res;
        unsigned flags = cqe->flags;
        io_uring_cqe_seen(&server.ring, cqe);
        if (user_data == kCancelTag) continue;  // a cancel's own answer: its request completes by itself
        dispatch(server, reinterpret_cast<IoRequest*>(user_data), result, flags);
    }
    return server.stop_poll != nullptr;
}

// SECTION: dispatch
//
// One CQE, one step: the stop, a new client, or a receive or send of a connection. The visualizer draws a CQE taken
// as it draws a packet taken off a completion port (packet_dequeued, with the I/O id), and a stepping viewer can hold
// the thread there, before it is handled. The result is what the call would have returned: bytes, or -errno.
void on_received(Server& server, Connection& connection, IoRequest* request, std::size_t bytes);
void on_sent(Server& server, Connection& connection, IoRequest* request, std::size_t bytes);
void drain(Server& server, Connection& connection);

void dispatch(Server& server, IoRequest* request, int result, unsigned flags) {
    Connection* connection = request->connection;
    std::uint32_t connection_id = connection ? connection->id : 0;
    TRACE(packet_dequeued, connection_id, 0, 0, request->id);
    trace::gate_point(connection_id);
    if (request->operation == IoOp::none) {  // the stop eventfd is readable (or its poll was cancelled)
        --server.in_flight;
        delete request;
        server.stop_poll = nullptr;
        return;
    }
    if (request->operation == IoOp::accept) return accept_clients(server, request, result, flags);
    TRACE(io_completed, connection_id, request->operation, result < 0 ? 0 : result, result < 0 ? -result : 0);
    (request->operation == IoOp::receive ? connection->receiving : connection->sending) = nullptr;
    if (result < 0 || connection->closed) {
        // -ECANCELED: we cancelled it (a close, the shutdown). -ECONNRESET, -EPIPE: the client reset. Either way the
        // I/O is over — and so is one that finished just before its connection closed: nothing more is done for it.
        close_connection(server, *connection,
                         result == -ECANCELED ? CloseReason::server_stopping : posix::close_reason_for(-result));
        return finish_io(server, *connection, request);
    }
    if (request->operation == IoOp::send) on_sent(server, *connection, request, static_cast<std::size_t>(result));
    else on_received(server, *connection, request, static_cast<std::size_t>(result));
}

// `bytes` arrived (0: the client closed its side): the session runs (posix::take_received) and its replies are
// queued. Then the next receive — while the client may still send, even when closing: a close with unread bytes
// resets the connection, and the reset can destroy the last reply before the client reads it. But not while replies
// pile up for a client that does not read them (back-pressure): on_sent posts it once they have gone.
void on_received(Server& server, Connection& connection, IoRequest* request, std::size_t bytes) {
    std::string replies;
    if (posix::take_received(connection, server, request->data.data(), bytes, replies))
        close_connection(server, connection, connection.reason);  // sent too much after our goodbye
    queue_send(server, connection, replies);
    drain(server, connection);
    if (connection.send_queue.size() >= kMaxQueuedBytes) connection.reading_paused = true;  // LESSON: back-pressure
    else if (!connection.peer_finished) start_receive(server, connection);
    finish_io(server, connection, request);
}

// A send is over: `bytes` of its data have gone. A partial send: the rest goes back to the front of the queue, ahead
// of anything queued since, and is sent next.
void on_sent(Server& server, Connection& connection, IoRequest* request, std::size_t bytes) {
    server.counters.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    if (bytes == 0 && !request->data.empty()) {  // nothing moved: sent again, it would move nothing for ever
        posix::report_error("send (0 bytes sent)", EIO, connection.id);
        close_connection(server, connection, CloseReason::error);
    } else if (bytes < request->data.size() && !connection.closed) {
        connection.send_queue.insert(0, request->data, bytes);  // LESSON: partial-send
    }
    queue_send(server, connection, {});
    drain(server, connection);
    if (connection.reading_paused && !connection.closed && connection.send_queue.size() < kMaxQueuedBytes) {
        connection.reading_paused = false;  // the replies have gone: read from this client again
        start_receive(server, connection);
    }
    finish_io(server, connection, request);
}

// Once every reply is out: close, or say goodbye and drain (posix::say_goodbye).
void drain(Server& server, Connection& connection) {
    if (!connection.closed && connection.sending == nullptr && posix::say_goodbye(connection))
        close_connection(server, connection, connection.reason);
}

// SECTION: send
//
// One receive is kept in flight per connection; replies and broadcasts are appended to the send queue, and at most
// one send is in flight, so bytes leave in the order they were queued. Preparing an SQE cannot fail: whatever goes
// wrong comes back in its CQE. MSG_NOSIGNAL: a send to a client that has gone fails with -EPIPE instead of killing
// the server with SIGPIPE. The io_posted of each is recorded as it is prepared; the kernel sees it at the next
// io_uring_submit_and_wait.
// LESSON: post-receive
bool start_receive(Server& server, Connection& connection) {
    if (connection.closed) return false;
    io_uring_sqe* sqe = next_sqe(server);
    if (sqe == nullptr) {
        close_connection(server, connection, CloseReason::error);
        return false;
    }
    auto* request = new IoRequest(IoOp::receive, server.next_io_id++, &connection);
    TRACE(io_posted, connection.id, IoOp::receive, request->data.size(), request->id);
    io_uring_prep_recv(sqe, connection.socket, request->data.data(), request->data.size(), 0);
    submit(server, sqe, request);
    connection.receiving = request;
    return true;
}

// LESSON: post-send
void queue_send(Server& server, Connection& connection, std::string_view bytes) {
    if (connection.closed) return;
    connection.send_queue.append(bytes);
    if (connection.sending != nullptr || connection.send_queue.empty()) return;
    io_uring_sqe* sqe = next_sqe(server);
    if (sqe == nullptr) return close_connection(server, connection, CloseReason::error);
    auto* request = new IoRequest(IoOp::send, server.next_io_id++, &connection);  // takes the whole queue
    TRACE(io_posted, connection.id, IoOp::send, request->data.size(), request->id);
    io_uring_prep_send(sqe, connection.socket, request->data.data(), request->data.size(), MSG_NOSIGNAL);
    submit(server, sqe, request);
    connection.sending = request;
}

// /all: the message is queued to every other connection that still takes bytes. No CQE is handled during the walk
// (next_sqe may submit, but reaps nothing), so no connection is freed under it.
std::size_t Server::broadcast(std::uint32_t from, std::string_view message) {
    std::size_t count = 0;
    for (auto& [id, other] : table) {
        if (id == from || other->closed || other->close_when_sent) continue;
        queue_send(*this, *other, message);
        ++count;
    }
    return count;
}

// SECTION: teardown
//
// A close cancels what the connection has in flight, by user_data, and closes the socket; the cancelled requests
// complete with -ECANCELED, and only when the last one has been handled is the Connection freed. Shutdown therefore
// is: cancel the accept, close every connection, and keep reaping until no request is in flight.
void cancel(Server& server, Connection& connection, IoRequest* request) {
    if (request == nullptr) return;
    io_uring_sqe* sqe = next_sqe(server);
    if (sqe != nullptr) {
        // LESSON: cancel
        io_uring_prep_cancel(sqe, request, 0);
        io_uring_sqe_set_data64(sqe, kCancelTag);
    } else {
        shutdown(connection.socket, SHUT_RDWR);  // no SQE for a cancel: this ends a pending receive or send too
    }
}

void close_connection(Server& server, Connection& connection, CloseReason reason) {
    if (connection.closed) return;
    posix::note_close_reason(connection, reason);
    connection.closed = true;
    connection.send_queue.clear();
    cancel(server, connection, connection.receiving);
    cancel(server, connection, connection.sending);
    posix::close_socket(connection.socket);  // the requests hold their own reference to the socket until they end
}

// Called once per completion of a connection's I/O (and once, with nullptr, for a connection whose first receive
// could not start): the request is freed, and the connection after its last one. An open connection with nothing in
// flight is a broken invariant: no completion would ever come for it again, and nothing would close it.
void finish_io(Server& server, Connection& connection, IoRequest* request) {
    if (request != nullptr) --server.in_flight;
    delete request;
    if (connection.receiving != nullptr || connection.sending != nullptr) return;
    if (!connection.closed) posix::broken_invariant("an open connection with no I/O in flight");
    server.table.erase(connection.id);
    posix::record_closed(server, connection);
    delete &connection;
}

void shut_down(Server& server) {
    if (!server.ring_open) return;
    server.stopping = true;
    auto cancel_request = [&](IoRequest* request) {
        if (io_uring_sqe* sqe = request ? next_sqe(server) : nullptr) {
            io_uring_prep_cancel(sqe, request, 0);
            io_uring_sqe_set_data64(sqe, kCancelTag);
        }
    };
    cancel_request(server.accepting);
    cancel_request(server.stop_poll);  // still armed when the loop ended because its wait failed
    for (auto& [id, connection] : server.table) close_connection(server, *connection, CloseReason::server_stopping);
    while (server.in_flight > 0) {
        int result = io_uring_submit_and_wait(&server.ring, 1);
        if (result < 0 && result != -EINTR && result != -EBUSY && result != -EAGAIN) {
            // The kernel may still write into what is in flight: nothing can be freed, and nothing can be waited for.
            posix::report_error("io_uring_submit_and_wait", -result);
            posix::broken_invariant("requests in flight on a ring that can no longer be waited on");
        }
        reap(server);
    }
    io_uring_queue_exit(&server.ring);  // LESSON: ring-exit
    server.ring_open = false;
}

// SECTION: run
//
// The ring is set up before the loop runs: its queue sizes, then the two requests that are always in flight — the
// poll on the stop eventfd and the accept.
bool start(Server& server) {
    io_uring_params params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = kCompletionQueueSize;
    // LESSON: setup
    int result = io_uring_queue_init_params(kSubmissionQueueSize, &server.ring, &params);
    if (result < 0) {
        // ENOSYS: no io_uring in this kernel; EPERM: forbidden here (sysctl kernel.io_uring_disabled, a seccomp filter).
        posix::report_error("io_uring_queue_init_params", -result);
        return false;
    }
    server.ring_open = true;
    if (!(params.features & IORING_FEAT_NODROP)) {  // a kernel before 5.5: a full completion queue loses completions
        posix::report_error("io_uring (IORING_FEAT_NODROP is missing: Linux 5.5 or later is needed)", ENOTSUP);
        return false;
    }
    io_uring_sqe* sqe = next_sqe(server);
    server.stop_poll = new IoRequest(IoOp::none, server.next_io_id++, nullptr);
    io_uring_prep_poll_add(sqe, server.control.stop_fd(), POLLIN);
    submit(server, sqe, server.stop_poll);
    return arm_accept(server);
}

int run(const ServerOptions& options, ServerControl& control) {
    Server server(options, control);
    return posix::run_loop("io-uring", "ring loop", server, start, loop_main, shut_down);
}

}  // namespace

int run_io_uring(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
