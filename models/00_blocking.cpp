// models/00_blocking.cpp — the baseline: blocking sockets and a thread per client.

// SECTION: abstract
//
// How the network reaches the code: it doesn't, until asked. accept() blocks the main thread until a client
// connects; recv() blocks a client's own thread until that client sends something. Nothing is "delivered":
// each thread simply sits in the one call it can make.
//
// Where state lives: a Connection per client (socket, protocol session, a lock), served by that client's thread.
// There are no per-I/O objects: every call completes before it returns.
//
// Threads: one accepting thread, plus one thread per connected client, created with CreateThread.
//
// Limits, honestly: a thread per client costs a stack (1 MiB of address space reserved, set explicitly below) and
// a kernel object each, and a context switch on every line. A few hundred clients are fine; tens of thousands are
// not. /work with a block stalls only the client that asked — the one thing this model does better than the
// single-threaded ones. A client that stops reading makes send() block; the send timeout below bounds how long a
// broadcaster can be stuck behind it.

#include <cstdio>
#include <mutex>
#include <string>

#include "common/trace/recorder.h"
#include "common/win/connection.h"
#include "models/model.h"

namespace socklab::models {
namespace {

using trace::CloseReason;
using trace::WaitOn;
using trace::Wake;

constexpr SIZE_T kClientStackBytes = 1024 * 1024;  // each client thread's stack reservation (see accept_clients)
constexpr DWORD kSendTimeoutMs = 10000;            // how long send() waits for a client that does not read

// SECTION: state
//
// One Connection per client, served by its own thread. A broadcaster's thread sends to it too, and shut_down closes
// it from the main thread, so its lock guards its socket and its sends; the steps marked "locked" are called with it
// held. The session runs on the client's thread alone, without the lock (models/README.md, "Locks").
struct Server;

struct Connection : win::ConnectionBase {
    using ConnectionBase::ConnectionBase;
    Server* server = nullptr;  // for the client's thread, which is given nothing else
    win::Lock lock;            // an SRWLOCK (win::Lock says what a std::mutex would cost here)
};

struct Server : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    SOCKET listener = INVALID_SOCKET;
    win::ConnectionTable<Connection> table;
    win::ThreadSet client_threads;

    Server(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("blocking"); }
};

DWORD WINAPI client_main(LPVOID parameter);
bool queue_send(Server& server, Connection& connection, std::string_view bytes);
void close_connection(Server& server, Connection& connection, CloseReason reason);
void free_connection(Server& server, Connection& connection);

// SECTION: listen
//
// The acceptor: a blocking accept() loop (win::accept_each_client), and a thread for each client. A client that
// stops reading must not stall a broadcaster forever: a send() to it gives up after kSendTimeoutMs (SO_SNDTIMEO).
void accept_clients(Server& server) {
    win::accept_each_client(server.listener, server.control, [&](SOCKET client, std::uint16_t peer_port) {
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, reinterpret_cast<const char*>(&kSendTimeoutMs),
                   sizeof kSendTimeoutMs);
        auto* connection = new Connection(server, server.options.max_line, client, peer_port);
        connection->server = &server;
        server.table.add(connection);
        win::record_opened(server, *connection);
        // A thread per client, each with its own stack: 1 MiB of address space reserved (kClientStackBytes). Left at
        // 0, the size would come from the executable's header ("Thread Stack Size" on Microsoft Learn): 1 MiB from
        // the MSVC linker, but 2 MiB from the GNU linker of the MinGW build — so it is said here, not inherited.
        // LESSON: thread-per-client
        HANDLE thread = CreateThread(nullptr, kClientStackBytes, client_main, connection,
                                     STACK_SIZE_PARAM_IS_A_RESERVATION, nullptr);
        if (thread == nullptr) {
            win::report_error("CreateThread", GetLastError(), connection->id);
            {
                std::lock_guard lock(connection->lock);  // a broadcast may be sending to it
                close_connection(server, *connection, CloseReason::error);
            }
            free_connection(server, *connection);
            return;
        }
        server.client_threads.add(thread);
    });
}

// SECTION: wait
//
// A client's thread: block in recv(), hand what arrived to the session, send the replies, repeat — until the
// connection is closed, by this thread or by shut_down. Then the thread frees it and ends.
bool on_received(Server& server, Connection& connection, const char* data, int received);

DWORD WINAPI client_main(LPVOID parameter) {
    Connection& connection = *static_cast<Connection*>(parameter);
    Server& server = *connection.server;
    trace::name_thread("client");
    char buffer[win::kReceiveBufferSize];
    bool open = true;
    while (open) {
        TRACE(wait_begin, connection.id, WaitOn::receive, 0, 0);
        int received = recv(connection.socket, buffer, sizeof buffer, 0);  // LESSON: recv
        if (received == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(wait_end, connection.id, Wake::error, 0, error);
            std::lock_guard lock(connection.lock);
            close_connection(server, connection,
                             win::close_reason_for(error));  // unless shut_down has, with its reason
            break;
        }
        TRACE(wait_end, connection.id, Wake::ready, received, 0);
        trace::gate_point(connection.id);
        open = on_received(server, connection, buffer, received);
    }
    free_connection(server, connection);
    trace::thread_exiting();
    return 0;
}

// SECTION: dispatch
//
// What recv() returned goes to the session, and its replies go back before the next recv(). The session runs
// without the lock, because of the lock order (models/README.md): a /all in it takes the table's lock and then
// every other connection's. It is safe: only this thread touches the session, and only it marks the connection
// closing. Returns false once the connection is closed.
void drain(Server& server, Connection& connection);

bool on_received(Server& server, Connection& connection, const char* data, int received) {
    std::string replies;
    // LESSON: peer-closed
    // 0 bytes means the client closed its side: the session has its last word (a last line without its end is still
    // answered), the client gets the replies to everything it sent (a half-close), and then the connection closes.
    auto verdict = win::run_session(connection, server, connection.closing(), data, received, replies);
    std::lock_guard lock(connection.lock);
    if (win::note_received(connection, received, verdict)) close_connection(server, connection, connection.reason);
    queue_send(server, connection, replies);
    drain(server, connection);
    return connection.socket != INVALID_SOCKET;
}

// Locked. Once every reply is out: close, or say goodbye and drain (win::say_goodbye).
void drain(Server& server, Connection& connection) {
    if (win::say_goodbye(connection)) close_connection(server, connection, connection.reason);
}

// SECTION: send
//
// Locked: the lock keeps the bytes of one reply together when a broadcast to this client runs at the same moment,
// and keeps shut_down from closing the socket under a send. The queue is empty again when this returns: send()
// blocks until the kernel has taken the bytes, and may take fewer than asked (a partial send), so it loops until
// every byte is gone. Returns false when not all of them could be sent; those are dropped.
bool queue_send(Server& server, Connection& connection, std::string_view bytes) {
    connection.send_queue.append(bytes);
    while (connection.socket != INVALID_SOCKET && !connection.send_queue.empty()) {
        TRACE(wait_begin, connection.id, WaitOn::send, connection.send_queue.size(), 0);
        // LESSON: send
        int sent =
            send(connection.socket, connection.send_queue.data(), static_cast<int>(connection.send_queue.size()), 0);
        if (sent == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(wait_end, connection.id, Wake::error, 0, error);
            // A client that stopped reading for longer than the send timeout, or that is gone: give up on it. Its
            // own thread may be in recv() on this socket, so it is shut down, not closed: that recv() returns, and
            // the thread closes it.
            win::note_close_reason(connection, win::close_reason_for(error));
            shutdown(connection.socket, SD_BOTH);
            break;
        }
        TRACE(wait_end, connection.id, Wake::ready, sent, 0);
        server.counters.bytes_out.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
        connection.send_queue.erase(0, static_cast<std::size_t>(sent));
    }
    bool all_sent = connection.send_queue.empty();
    connection.send_queue.clear();
    return all_sent;
}

std::size_t Server::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        std::lock_guard lock(other->lock);
        return !other->close_when_sent && queue_send(*this, *other, message);
    });
}

// SECTION: teardown
//
// A connection closes on its own thread, or under it: closing the socket makes the recv() the thread is blocked in
// fail. Either way the thread then frees the connection and ends.
void close_connection(Server& server, Connection& connection, CloseReason reason) {  // locked
    if (connection.socket == INVALID_SOCKET) return;
    win::note_close_reason(connection, reason);
    win::close_socket(connection.socket);
    win::record_closed(server, connection);
}

// The end of a connection: it leaves the table first, so that no broadcast can reach it, then it is freed.
void free_connection(Server& server, Connection& connection) {
    server.table.remove(connection);
    delete &connection;
}

// Shutdown closes every client's socket under its thread, then waits for every thread. Honestly: this works
// (measured under Wine 8.0, and it is what blocking servers commonly do), but it is outside closesocket's documented
// contract, which says to "never issue closesocket on s concurrently with another Winsock function call". The
// acceptor avoids it (see run); for the client threads this model keeps the common practice, and says so.
void shut_down(Server& server) {
    // LESSON: teardown
    // Every client's socket is closed under its thread: the recv() that thread is blocked in fails, and it ends.
    server.table.for_each_except(0, [&](Connection* connection) {
        std::lock_guard lock(connection->lock);
        close_connection(server, *connection, CloseReason::server_stopping);
        return true;
    });
    server.client_threads.join_all();
    // Every client thread has ended, and each has freed its connection — unless it never ran: with thousands of
    // threads a runtime can create one that dies before its first line. Free what such threads left, and say so.
    while (Connection* orphan = server.table.any()) {
        std::fprintf(stderr, "socklab-server: the thread of connection %u ended before it ran\n", orphan->id);
        free_connection(server, *orphan);
    }
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    Server server(options, control);
    // LESSON: stop-accept
    // win::run_acceptor runs accept_clients until the stop. When the stop event is signalled, a thread-pool callback
    // connects to our own listener (win::wake_blocked_accept): the accept() the acceptor is blocked in returns, the
    // acceptor sees the stop, and it closes the listener itself. Closing the listener from the callback would also
    // end the accept() in practice, but closesocket's documentation forbids it: never "issue closesocket on s
    // concurrently with another Winsock function call" on the same socket.
    int failed = win::run_acceptor("blocking", options, control, server.listener, [&] { accept_clients(server); });
    shut_down(server);
    trace::thread_exiting();
    return failed;
}

}  // namespace

int run_blocking(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
