// common/win/overlapped_steps.h — what the overlapped models do once an I/O has finished, written once.
//
// The four overlapped models (overlapped-event, completion-routine, iocp, iocp-acceptex) differ in how they start
// a WSARecv or WSASend (with an event, with a routine, on a socket tied to a port) and in how the completion comes
// back (an event, an APC, a packet): that is each one's lesson, and it stays in its file. What a completion then
// does is the same in all four, and is here: a receive's bytes feed the session and its replies are queued; a send
// that went only partly puts its rest back; once every reply is out the connection says goodbye or closes; the next
// receive is posted, unless replies pile up (back-pressure); and a connection is freed after the completion of its
// last I/O, never before.
//
// A model's dispatch reads what its completion says and hands it to complete(); the model's finish_io frees what
// the completion leaves behind (last_io_over, free_connection). These steps call four steps of the model's own by
// their glossary names (models/README.md), found next to the model's Connection: start_receive(server,
// connection) and queue_send(server, connection, bytes), which start a WSARecv or a WSASend; close_connection(
// connection, reason); and finish_io(server, connection, request), once the completion of `request` has been
// handled. The steps marked "locked" run with the connection's lock held: a model whose connection is touched by
// one thread only gives it a NoLock.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "common/trace/recorder.h"
#include "common/win/connection.h"
#include "models/model.h"

namespace socklab::win {

// The lock of a connection that only one thread ever touches (completion-routine): taking it does nothing.
struct NoLock {
    void lock() {}
    void unlock() {}
};

// What an overlapped model keeps for a connection, besides ConnectionBase: what it has in flight.
struct OverlappedConnection : ConnectionBase {
    using ConnectionBase::ConnectionBase;
    int io_in_flight = 0;               // started, completion not yet handled: freed when this is 0 and it is closed
    bool send_in_flight = false;        // at most one WSASend at a time, so bytes leave in order
    bool reading_paused = false;        // no receive posted because the send queue is full (back-pressure)
    bool closed = false;                // close_connection ran: no new I/O, what is in flight is being cancelled
    bool no_packet_on_success = false;  // iocp models: FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is set on the socket
};

// Locked. The start of close_connection: false when the connection was closed already. Otherwise its reason is
// noted, what it had still to send is dropped, and it starts no I/O any more.
inline bool begin_close(OverlappedConnection& connection, trace::CloseReason reason) {
    if (connection.closed) return false;
    note_close_reason(connection, reason);
    connection.closed = true;
    connection.send_queue.clear();
    return true;
}

template <class Connection>
void drain(Connection& connection);
template <class Server, class Connection>
void on_received(Server& server, Connection& connection, IoRequest<Connection>* request, DWORD bytes);
template <class Server, class Connection>
void on_sent(Server& server, Connection& connection, IoRequest<Connection>* request, DWORD bytes);

// One completion, one step of a connection's life: `failed` is CloseReason::none when the I/O succeeded, else
// the close reason the model's dispatch read in its error. A receive feeds the session and starts the next
// receive; a send finishes (or continues, if partial) and starts the next queued one; a failure ends the
// connection. Either way the request is freed after its completion has been handled (finish_io), never before.
template <class Server, class Connection>
void complete(Server& server, Connection& connection, IoRequest<Connection>* request, DWORD bytes,
              trace::CloseReason failed) {
    if (failed != trace::CloseReason::none) {
        {
            std::lock_guard lock(connection.lock);
            close_connection(connection, failed);
        }
        return finish_io(server, connection, request);
    }
    if (request->operation == trace::IoOp::send) on_sent(server, connection, request, bytes);
    else on_received(server, connection, request, bytes);
}

// `bytes` arrived (0: the client closed its side) — by a receive, or, in iocp-acceptex, with an accept that waited
// for the first data. The session runs without the connection's lock, because of
// the lock order (models/README.md): a /all in it takes the table's lock and then every other connection's, so a
// thread holding this lock while another holds the table's and waits for this one would deadlock. It is safe:
// one receive at a time is in flight per connection, so only the thread handling its completion touches the
// session. (A /work here blocks that thread, and every connection that only that thread serves.)
template <class Server, class Connection>
void on_received(Server& server, Connection& connection, IoRequest<Connection>* request, DWORD bytes) {
    std::string replies;
    bool closing;
    {
        std::lock_guard lock(connection.lock);
        closing = connection.closing();
    }
    auto verdict = run_session(connection, server, closing, request->data.data(), bytes, replies);
    {
        std::lock_guard lock(connection.lock);
        if (note_received(connection, bytes, verdict)) close_connection(connection, connection.reason);
        queue_send(server, connection, replies);
        drain(connection);
        // Keep one receive in flight while the client may still send, even when closing: a close with unread
        // bytes resets the connection, and the reset can destroy the last reply before the client reads it. But
        // not while replies pile up for a client that does not read them (back-pressure, models/model.h): on_sent
        // reads again once they have gone.
        if (connection.send_queue.size() >= models::kMaxQueuedBytes) connection.reading_paused = true;
        else if (!connection.peer_finished) start_receive(server, connection);
    }
    finish_io(server, connection, request);
}

// Locked. `bytes` of a send's data have gone. A partial send: the unsent rest goes back to the front of the queue,
// ahead of anything queued since.
template <class Server, class Connection>
void count_sent(Server& server, Connection& connection, const IoRequest<Connection>& request, DWORD bytes) {
    server.counters.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    if (bytes < request.data.size() && !connection.closed)
        connection.send_queue.insert(0, request.data, bytes);  // LESSON: overlapped-partial-send
}

// A send is over: `bytes` of the request's data have gone.
template <class Server, class Connection>
void on_sent(Server& server, Connection& connection, IoRequest<Connection>* request, DWORD bytes) {
    {
        std::lock_guard lock(connection.lock);
        count_sent(server, connection, *request, bytes);
        connection.send_in_flight = false;
        queue_send(server, connection, {});
        drain(connection);
        if (connection.reading_paused && connection.send_queue.size() < models::kMaxQueuedBytes) {
            connection.reading_paused = false;  // the replies have gone: read from this client again
            start_receive(server, connection);
        }
    }
    finish_io(server, connection, request);
}

// Locked. A send that finished at once on a socket that queues no packet for it (no_packet_on_success): what its
// packet would have set off, done by the thread that started it — except starting the next send, which its caller
// does. False, with the connection closed, for a send that moved nothing: it would only be tried again, for ever.
template <class Server, class Connection>
bool sent_at_once(Server& server, Connection& connection, IoRequest<Connection>* request, DWORD bytes) {
    TRACE(io_completed, connection.id, trace::IoOp::send, bytes, 0);
    count_sent(server, connection, *request, bytes);
    delete request;
    if (bytes > 0) return true;
    TRACE_ERROR("WSASend: done at once, 0 bytes sent", 0, connection.id);
    close_connection(connection, trace::CloseReason::error);
    return false;
}

// Locked. Once every reply is out: close, or say goodbye and drain (say_goodbye).
template <class Connection>
void drain(Connection& connection) {
    if (!connection.closed && !connection.send_in_flight && say_goodbye(connection))
        close_connection(connection, connection.reason);
}

// /all: `message` queued to every connection but the sender's that still takes bytes, each under its lock.
// Returns how many.
template <class Server, class Connection>
std::size_t queue_to_all(Server& server, ConnectionTable<Connection>& table, std::uint32_t from,
                         std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        std::lock_guard lock(other->lock);
        if (other->closed || other->close_when_sent) return false;
        queue_send(server, *other, message);
        return true;
    });
}

// Teardown: every connection in `table` closes, each under its lock; what it has in flight is cancelled, and its
// completions free it.
template <class Connection>
void close_all(ConnectionTable<Connection>& table) {
    table.for_each_except(0, [](Connection* connection) {
        std::lock_guard lock(connection->lock);
        close_connection(*connection, trace::CloseReason::server_stopping);
        return true;
    });
}

// The completion of `request` has been handled (request nullptr: a connection's first receive could not start):
// the request is freed, and it no longer counts as in flight. True when that leaves a closed connection with
// nothing in flight: no completion can mention it any more, so the model frees it now (free_connection). An open
// connection with nothing in flight is a broken invariant: no completion would ever come for it again, and nothing
// would close it. (A paused reader has its send in flight.)
template <class Connection>
bool last_io_over(Connection& connection, IoRequest<Connection>* request) {
    delete request;
    std::lock_guard lock(connection.lock);
    if (request) --connection.io_in_flight;
    if (connection.io_in_flight > 0) return false;
    if (!connection.closed) broken_invariant("an open connection with no I/O in flight");
    return true;
}

// A connection is freed: it leaves `table` (waiting for a broadcast that is writing to it right now; from then on
// no other thread can reach it), its close is recorded, and it is deleted.
template <class Connection>
void free_connection(protocol::SessionHost& host, ConnectionTable<Connection>& table, Connection& connection) {
    table.remove(connection);
    record_closed(host, connection);
    delete &connection;
}

}  // namespace socklab::win
