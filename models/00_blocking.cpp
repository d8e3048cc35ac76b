// models/00_blocking.cpp — the baseline: blocking sockets and a thread per client.

// SECTION: abstract
//
// How the network reaches the code: it doesn't, until asked. accept() blocks the main thread until a client
// connects; recv() blocks a client's own thread until that client sends something. Nothing is "delivered":
// each thread simply sits in the one call it can make.
//
// Where state lives: a Connection per client (its socket, its protocol session, a send lock) owned by that
// client's thread. There are no per-I/O objects: every call completes before it returns.
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
#include <vector>

#include "common/trace/recorder.h"
#include "models/model.h"

namespace socklab::models {
namespace {

using trace::CloseReason;
using trace::WaitOn;
using trace::Wake;

constexpr SIZE_T kClientStackBytes = 1024 * 1024;  // each client thread's stack reservation (see run)

// SECTION: state
//
// One Connection per client. Its socket is read only by its own thread, but written by that thread and by any
// thread that broadcasts to it, so sends take the send lock.
struct Connection {
    std::uint32_t id = 0;
    SOCKET socket = INVALID_SOCKET;
    std::uint16_t peer_port = 0;
    std::mutex send_lock;
    bool closed_by_server = false;  // guarded by send_lock: teardown closed the socket under the thread's feet
};

struct BlockingServer : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    SOCKET listener = INVALID_SOCKET;
    win::ConnectionTable<Connection> table;

    // Handles of the client threads, so teardown can wait until each has really exited (its handle is
    // signalled), not merely said goodbye. Handles of finished threads are closed as new clients arrive.
    std::mutex threads_lock;
    std::vector<HANDLE> client_threads;  // guarded by threads_lock

    BlockingServer(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("blocking"); }
};

bool send_to(BlockingServer& server, Connection& connection, std::string_view bytes);

// SECTION: listen
//
// The stop event is watched by a thread-pool wait. When it is signalled, the callback connects to our own
// listener: the accept() that the main thread is blocked in returns, the main thread sees the stop, and it closes
// the listener itself. Closing the listener from the callback would also end the accept() in practice, but
// closesocket's documentation forbids it: never "issue closesocket on s concurrently with another Winsock
// function call" on the same socket.
VOID CALLBACK on_stop_requested(PVOID context, BOOLEAN /*timed_out*/) {
    auto* server = static_cast<BlockingServer*>(context);
    win::wake_blocked_accept(server->listener);  // LESSON: blocking-stop-accept
}

// SECTION: wait
//
// A client's thread: block in recv(), hand what arrived to the session, send the replies, repeat.
struct ClientStart {
    BlockingServer* server;
    Connection* connection;
};

CloseReason serve_client(BlockingServer& server, Connection& connection);

DWORD WINAPI client_main(LPVOID parameter) {
    auto* start = static_cast<ClientStart*>(parameter);
    BlockingServer& server = *start->server;
    Connection* connection = start->connection;
    delete start;
    trace::name_thread("client");
    TRACE(connection_open, connection->id, 0, connection->peer_port, 0);

    CloseReason reason = serve_client(server, *connection);

    // The connection ends here, on its own thread: leave the table first, so no broadcast can reach it.
    server.table.remove(connection->id);
    {
        std::lock_guard lock(connection->send_lock);
        if (!connection->closed_by_server) {
            shutdown(connection->socket, SD_SEND);  // a clean FIN after the last reply
            win::close_socket(connection->socket);
        } else {
            reason = CloseReason::server_stopping;
        }
    }
    TRACE(connection_close, connection->id, reason, 0, 0);
    server.counters.connection_closed();
    delete connection;
    win::accounting().connections.fetch_sub(1);
    trace::thread_exiting();
    return 0;
}

enum class Next { keep_reading, close };
Next dispatch(BlockingServer& server, Connection& connection, protocol::Session& session, const char* data,
              int received, std::string& replies, CloseReason& reason);

CloseReason serve_client(BlockingServer& server, Connection& connection) {
    protocol::Session session(connection.id, server, server.options.max_line);
    char buffer[4096];
    std::string replies;
    CloseReason reason = CloseReason::none;
    for (;;) {
        TRACE(wait_begin, connection.id, WaitOn::receive, 0, 0);
        int received = recv(connection.socket, buffer, sizeof buffer, 0);  // LESSON: blocking-recv
        if (received == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(wait_end, connection.id, Wake::error, 0, error);
            return error == WSAECONNRESET || error == WSAECONNABORTED ? CloseReason::reset : CloseReason::error;
        }
        TRACE(wait_end, connection.id, Wake::ready, received, 0);
        trace::gate_point(connection.id);
        if (dispatch(server, connection, session, buffer, received, replies, reason) == Next::close) return reason;
    }
}

// SECTION: dispatch
//
// What recv() returned goes to the session; its replies go back before the next recv(). 0 bytes means the
// client closed its side: it still gets the replies to everything it sent (a half-close), then we close.
Next dispatch(BlockingServer& server, Connection& connection, protocol::Session& session, const char* data,
              int received, std::string& replies, CloseReason& reason) {
    protocol::Session::Verdict verdict;
    if (received == 0) {
        verdict = session.on_peer_closed(replies);  // LESSON: blocking-peer-closed
    } else {
        server.counters.bytes_in.fetch_add(static_cast<std::uint64_t>(received), std::memory_order_relaxed);
        verdict = session.on_receive(data, static_cast<std::size_t>(received), replies);
    }
    bool sent = replies.empty() || send_to(server, connection, replies);
    replies.clear();
    if (!sent) {
        reason = CloseReason::error;
        return Next::close;
    }
    if (received == 0) {
        reason = CloseReason::peer_closed;
        return Next::close;
    }
    if (verdict == protocol::Session::Verdict::close_after_replies) {
        reason = session.close_reason();
        return Next::close;
    }
    return Next::keep_reading;
}

// SECTION: send
//
// send() may accept fewer bytes than asked (a partial send): loop until everything is gone. The send lock
// makes the bytes of one reply contiguous even when a broadcast to this client runs at the same moment.
bool send_to(BlockingServer& server, Connection& connection, std::string_view bytes) {
    std::lock_guard lock(connection.send_lock);
    if (connection.closed_by_server) return false;
    while (!bytes.empty()) {
        TRACE(wait_begin, connection.id, WaitOn::send, bytes.size(), 0);
        int sent = send(connection.socket, bytes.data(), static_cast<int>(bytes.size()), 0);  // LESSON: blocking-send
        if (sent == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(wait_end, connection.id, Wake::error, 0, error);
            // A client that stopped reading for longer than the send timeout: give up on it. Shutting the
            // socket down makes its own thread's recv() return, and that thread closes it.
            shutdown(connection.socket, SD_BOTH);
            return false;
        }
        TRACE(wait_end, connection.id, Wake::ready, sent, 0);
        server.counters.bytes_out.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
        bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
}

std::size_t BlockingServer::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) { return send_to(*this, *other, message); });
}

// SECTION: teardown
//
// Closing each client's socket makes the recv() its thread is blocked in fail, and the thread ends; then wait for
// all of them. Honestly: this works (measured under Wine 8.0, and it is what blocking servers commonly do), but it
// is outside closesocket's documented contract, which says to "never issue closesocket on s concurrently with
// another Winsock function call". The acceptor avoids it (see listen); for the client threads this model keeps
// the common practice, and says so.
void close_every_connection(BlockingServer& server) {
    server.table.for_each_except(0, [](Connection* connection) {
        std::lock_guard lock(connection->send_lock);
        connection->closed_by_server = true;
        win::close_socket(connection->socket);  // LESSON: blocking-teardown
        return true;
    });
    std::lock_guard lock(server.threads_lock);
    for (HANDLE thread : server.client_threads) {
        WaitForSingleObject(thread, INFINITE);
        CloseHandle(thread);
        win::accounting().threads.fetch_sub(1);
    }
    server.client_threads.clear();
    // Every client thread has ended, and each removes its connection as it ends — unless it never ran: with
    // thousands of threads a runtime can create one that dies before its first line. Free what such threads left.
    std::vector<Connection*> orphans;
    server.table.for_each_except(0, [&](Connection* connection) {
        orphans.push_back(connection);
        return true;
    });
    if (!orphans.empty())
        std::fprintf(stderr, "socklab-server: %zu client thread(s) ended before they ran; freeing their connections\n",
                     orphans.size());
    for (Connection* connection : orphans) {
        server.table.remove(connection->id);
        server.counters.connection_closed();
        delete connection;
        win::accounting().connections.fetch_sub(1);
    }
}

// Closes the handles of client threads that have ended (called as each new client arrives).
void forget_finished_threads(BlockingServer& server) {
    std::lock_guard lock(server.threads_lock);
    auto& threads = server.client_threads;
    for (auto it = threads.begin(); it != threads.end();) {
        if (WaitForSingleObject(*it, 0) == WAIT_OBJECT_0) {
            CloseHandle(*it);
            win::accounting().threads.fetch_sub(1);
            it = threads.erase(it);
        } else {
            ++it;
        }
    }
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    BlockingServer server(options, control);
    std::uint16_t port = 0;
    server.listener = win::create_listener(options, port);
    if (server.listener == INVALID_SOCKET) {
        control.report_failed();
        return 1;
    }
    trace::name_thread("acceptor");
    win::announce_server("blocking", 0);
    HANDLE stop_wait = nullptr;
    RegisterWaitForSingleObject(&stop_wait, control.stop_event(), on_stop_requested, &server, INFINITE,
                                WT_EXECUTEONLYONCE);
    control.report_ready(port);

    for (;;) {
        sockaddr_in peer{};
        int peer_length = sizeof peer;
        TRACE(wait_begin, 0, WaitOn::accept, 0, 0);
        SOCKET client =
            accept(server.listener, reinterpret_cast<sockaddr*>(&peer), &peer_length);  // LESSON: blocking-accept
        int error = client == INVALID_SOCKET ? WSAGetLastError() : 0;
        if (control.stop_requested()) {  // woken by on_stop_requested (or a client that came just too late)
            TRACE(wait_end, 0, Wake::stop, 0, error);
            if (client != INVALID_SOCKET) closesocket(client);
            break;
        }
        if (client == INVALID_SOCKET) {
            TRACE(wait_end, 0, Wake::error, 0, error);
            win::after_failed_accept(error);  // a client that left before accept(): next at once; else report, pause
            continue;
        }
        TRACE(wait_end, 0, Wake::ready, 0, 0);
        trace::gate_point(0);
        win::track_socket(client);

        // A client that stops reading must not stall a broadcaster forever.
        DWORD send_timeout_ms = 10000;
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, reinterpret_cast<const char*>(&send_timeout_ms),
                   sizeof send_timeout_ms);
        // Replies are small lines, and a client often gets two in a row (someone's broadcast, then its own reply).
        // Nagle's algorithm would hold the second until the first is acknowledged, and the client delays that ACK by
        // up to 40 ms: every such reply would stall. TCP_NODELAY sends each one at once.
        BOOL no_delay = TRUE;
        if (setsockopt(client, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&no_delay), sizeof no_delay) ==
            SOCKET_ERROR)
            win::report_error("setsockopt(TCP_NODELAY)", WSAGetLastError());  // slower replies, still correct: carry on
        auto* connection = new Connection;
        win::accounting().connections.fetch_add(1);
        connection->id = win::next_connection_id();
        connection->socket = client;
        connection->peer_port = ntohs(peer.sin_port);
        server.counters.connection_opened();
        server.table.add(connection->id, connection);
        forget_finished_threads(server);
        // A thread per client, each with its own stack: 1 MiB of address space reserved (kClientStackBytes). Left at
        // 0, the size would come from the executable's header ("Thread Stack Size" on Microsoft Learn): 1 MiB from
        // the MSVC linker, but 2 MiB from the GNU linker of the MinGW build — so it is said here, not inherited.
        auto* start = new ClientStart{&server, connection};  // the new thread owns it, and deletes it
        // LESSON: blocking-thread-per-client
        HANDLE thread =
            CreateThread(nullptr, kClientStackBytes, client_main, start, STACK_SIZE_PARAM_IS_A_RESERVATION, nullptr);
        if (thread == nullptr) {
            win::report_error("CreateThread", GetLastError(), connection->id);
            delete start;  // no thread took it
            server.table.remove(connection->id);
            win::close_socket(connection->socket);
            server.counters.connection_closed();
            delete connection;
            win::accounting().connections.fetch_sub(1);
            continue;
        }
        std::lock_guard lock(server.threads_lock);
        server.client_threads.push_back(thread);
        win::accounting().threads.fetch_add(1);
    }

    UnregisterWaitEx(stop_wait, INVALID_HANDLE_VALUE);  // waits for the callback if it is running
    closesocket(server.listener);  // the acceptor has returned and the callback has finished: nobody uses it
    close_every_connection(server);
    trace::thread_exiting();
    return 0;
}

}  // namespace

int run_blocking(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
