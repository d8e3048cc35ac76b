// models/02_async_select.cpp — WSAAsyncSelect: network events arrive as window messages to one thread.

// SECTION: abstract
//
// How the network reaches the code: as window messages. WSAAsyncSelect(socket, window, message, events) asks
// Winsock to post `message` to `window` whenever one of `events` happens on the socket; wParam is the socket,
// lParam the event (FD_ACCEPT, FD_READ, FD_WRITE, FD_CLOSE) and an error code. The thread that owns the window
// sits in the ordinary message loop — GetMessage, DispatchMessage — and the window procedure handles one
// network event per message. The window is message-only (its parent is HWND_MESSAGE): Microsoft's "Window
// Features" page, under "Message-Only Windows", says such a window "is not visible, has no z-order, cannot be
// enumerated, and does not receive broadcast messages" — all this model needs is its message queue. (Its tests
// run it under Wine 8.0 with no display at all: `./socklab test` starts no X server for the models.)
//
// The messages are edges, not levels, and each kind is re-enabled only by the call that consumes it:
// - FD_READ is posted once, and again only after a recv(); if bytes remain after that recv(), Winsock posts
//   another. A server that does not call recv() (back-pressure, below) gets no more FD_READ until it does.
// - FD_WRITE is posted once when the connection is set up, and after that ONLY when a send() has failed with
//   WSAEWOULDBLOCK and room has come back. So the code sends whenever it has bytes, and waits for FD_WRITE only
//   after a WSAEWOULDBLOCK. Waiting for an FD_WRITE that was never re-armed is the classic hang of this model.
// - A message may be stale: it was posted before the socket was closed, and the SOCKET value may already name
//   a new connection. So a message is a hint; recv() and send() on a non-blocking socket tell the truth.
//
// Where state lives: a Connection per client (socket, protocol session, send queue, what it waits for), found
// from the message's wParam through a map. No per-I/O objects: a non-blocking call finishes before it returns.
//
// Threads: one — the thread that created the window, because Windows delivers a window's messages only to the
// thread that created it. So a /work that blocks stalls every client.
//
// Limits, honestly: there is no FD_SETSIZE and no 64-handle limit here: the only cap is the thread's message
// queue (10,000 posted messages by default on Windows, the USERPostMessageLimit). Winsock has at most one
// message of each kind waiting per socket, because it re-arms an event only when the call that consumes it is
// made, and this code posts at most one FD_READ of its own: a handful per socket, so a few thousand clients fit. The cost is a message per network event and a
// trip through the window procedure, and everything on one thread. A client that stops reading must not make
// the server queue without end: once kMaxQueuedBytes wait for it, its FD_READ is left unanswered until its
// queue drains; then the code posts itself the FD_READ it skipped.

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

// The messages of our window. WM_APP and above are free for an application's own use.
constexpr UINT kListenerMessage = WM_APP + 1;  // FD_ACCEPT on the listening socket
constexpr UINT kSocketMessage = WM_APP + 2;    // FD_READ, FD_WRITE, FD_CLOSE on a client's socket
constexpr UINT kStopMessage = WM_APP + 3;      // posted by the thread pool when the stop event is signalled
constexpr wchar_t kWindowClass[] = L"socklab async-select";

// SECTION: state
//
// One Connection per client. Only the window's thread touches it, so there is no lock.
struct Connection {
    std::uint32_t id = 0;
    std::uint16_t peer_port = 0;
    SOCKET socket = INVALID_SOCKET;  // INVALID_SOCKET once closed; freed when the message is handled
    protocol::Session session;
    std::string send_queue;          // bytes accepted from the session or a broadcast, not yet taken by send()
    bool waiting_for_write = false;  // a send() failed with WSAEWOULDBLOCK: only FD_WRITE says when to go on
    bool reading_paused = false;     // an FD_READ was left unanswered because the send queue is full
    bool peer_closing = false;       // FD_CLOSE arrived: read what is left until recv() returns 0
    bool close_when_sent = false;    // the session asked to close once its replies are out
    bool peer_finished = false;      // the client closed its side (recv returned 0)
    bool draining = false;           // we said goodbye (shutdown SD_SEND); discarding what still arrives
    std::size_t drained_bytes = 0;
    CloseReason reason = CloseReason::none;

    Connection(std::uint32_t connection_id, protocol::SessionHost& host, std::size_t max_line)
        : id(connection_id), session(connection_id, host, max_line) {}
};

struct AsyncSelectServer : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    SOCKET listener = INVALID_SOCKET;
    HWND window = nullptr;
    std::unordered_map<SOCKET, Connection*> by_socket;  // a message's wParam → whose socket it is
    std::vector<Connection*> closed;                    // closed during this message, freed once it is handled
    std::vector<Connection*> broadcast_recipients;      // queued to by /all during this message: sent after it
    win::ConnectionTable<Connection> table;             // what /all walks
    char receive_buffer[kReceiveBufferSize];

    AsyncSelectServer(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("async-select"); }
};

void close_connection(AsyncSelectServer& server, Connection& connection, CloseReason reason);
void send_queued(AsyncSelectServer& server, Connection& connection);

// SECTION: listen
//
// The listening socket posts kListenerMessage with FD_ACCEPT when a client is waiting. Each accepted socket is
// registered for its own events at once; WSAAsyncSelect also makes it non-blocking.
void on_listener_message(AsyncSelectServer& server, LPARAM event_and_error) {
    TRACE(message_dispatched, 0, 0, kListenerMessage,
          WSAGETSELECTEVENT(event_and_error) | WSAGETSELECTERROR(event_and_error) << 16);
    trace::gate_point(0);
    for (;;) {  // everyone waiting, not just one: FD_ACCEPT is re-posted only after accept() anyway
        sockaddr_in peer{};
        int peer_length = sizeof peer;
        SOCKET client = accept(server.listener, reinterpret_cast<sockaddr*>(&peer), &peer_length);
        if (client == INVALID_SOCKET) {
            int error = WSAGetLastError();
            if (win::client_left_before_accept(error)) continue;  // it reset before we got to it: next
            if (error != WSAEWOULDBLOCK) {
                win::report_error("accept", error);  // e.g. out of sockets: the next FD_ACCEPT tries again
                return;
            }
            // Everyone waiting is accepted. Registering the listener again re-arms FD_ACCEPT whatever happened:
            // Wine 8.0 re-arms it only on a successful accept(), and a readiness report that arrives just after
            // the accept() it was about leaves it disarmed for good (measured: clients never accepted). On
            // Windows this costs a call, and at worst a spare FD_ACCEPT that finds nobody waiting.
            // LESSON: async-select-rearm-accept
            if (WSAAsyncSelect(server.listener, server.window, kListenerMessage, FD_ACCEPT) == SOCKET_ERROR)
                win::report_error("WSAAsyncSelect", WSAGetLastError());
            return;
        }
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
        // LESSON: async-select-register
        if (WSAAsyncSelect(client, server.window, kSocketMessage, FD_READ | FD_WRITE | FD_CLOSE) == SOCKET_ERROR) {
            win::report_error("WSAAsyncSelect", WSAGetLastError(), connection->id);
            win::close_socket(client);
            delete connection;
            win::accounting().connections.fetch_sub(1);
            continue;
        }
        server.by_socket[client] = connection;
        server.table.add(connection->id, connection);
        server.counters.connection_opened();
        TRACE(connection_open, connection->id, 0, connection->peer_port, 0);
        // Bytes may have arrived between accept() and WSAAsyncSelect(). Windows then posts FD_READ at once;
        // Wine 8.0 was measured to miss it now and then, leaving the client's first line unanswered for good.
        // A spare FD_READ costs one recv() that says WSAEWOULDBLOCK, so post one ourselves.
        // LESSON: async-select-first-read
        if (!PostMessageW(server.window, kSocketMessage, static_cast<WPARAM>(client), WSAMAKESELECTREPLY(FD_READ, 0)))
            win::report_error("PostMessageW", GetLastError(), connection->id);
    }
}

// SECTION: wait
//
// The message loop: GetMessage blocks until a message is posted to this thread, DispatchMessage hands it to the
// window procedure. GetMessage returns 0 for WM_QUIT, which the window procedure asks for on kStopMessage.
LRESULT CALLBACK window_procedure(HWND window, UINT message, WPARAM wparam, LPARAM lparam);

void run_message_loop() {
    for (;;) {
        MSG message;
        TRACE(wait_begin, 0, WaitOn::message, 0, 0);
        BOOL got = GetMessageW(&message, nullptr, 0, 0);  // LESSON: async-select-wait
        if (got == -1) {
            DWORD error = GetLastError();
            TRACE(wait_end, 0, Wake::error, 0, error);
            win::report_error("GetMessageW", error);
            return;
        }
        if (got == 0) {
            TRACE(wait_end, 0, Wake::stop, 0, 0);
            return;
        }
        TRACE(wait_end, 0, Wake::message, message.message, 0);
        DispatchMessageW(&message);
    }
}

// SECTION: dispatch
//
// One message, one network event on one socket. WSAGETSELECTEVENT and WSAGETSELECTERROR take lParam apart.
void on_socket_message(AsyncSelectServer& server, SOCKET socket, LPARAM event_and_error);
void read_once(AsyncSelectServer& server, Connection& connection);
void after_io(AsyncSelectServer& server, Connection& connection);
void finish_message(AsyncSelectServer& server);

LRESULT CALLBACK window_procedure(HWND window, UINT message, WPARAM wparam, LPARAM lparam) {
    auto* server = reinterpret_cast<AsyncSelectServer*>(GetWindowLongPtrW(window, GWLP_USERDATA));
    if (server == nullptr) return DefWindowProcW(window, message, wparam, lparam);  // during CreateWindowEx
    switch (message) {
        case kListenerMessage:
            on_listener_message(*server, lparam);
            finish_message(*server);
            return 0;
        case kSocketMessage:
            on_socket_message(*server, static_cast<SOCKET>(wparam), lparam);
            finish_message(*server);
            return 0;
        case kStopMessage:
            PostQuitMessage(0);  // GetMessage will return 0
            return 0;
        default:
            return DefWindowProcW(window, message, wparam, lparam);
    }
}

void on_socket_message(AsyncSelectServer& server, SOCKET socket, LPARAM event_and_error) {
    auto found = server.by_socket.find(socket);
    Connection* connection = found == server.by_socket.end() ? nullptr : found->second;
    TRACE(message_dispatched, connection ? connection->id : 0, 0, kSocketMessage,
          WSAGETSELECTEVENT(event_and_error) | WSAGETSELECTERROR(event_and_error) << 16);
    // LESSON: async-select-stale-message
    if (connection == nullptr) return;  // posted before its socket was closed: nobody to tell
    trace::gate_point(connection->id);
    switch (WSAGETSELECTEVENT(event_and_error)) {
        case FD_READ:
            read_once(server, *connection);
            break;
        case FD_CLOSE:
            // The client closed or reset the connection. Bytes may still wait before the end of the stream, and no
            // more FD_READ will announce them: read them all now. The error half of lParam (WSAECONNRESET...) is
            // not trusted on its own — the message may be stale — recv() will report a reset itself.
            connection->peer_closing = true;
            read_once(server, *connection);
            break;
        case FD_WRITE:
            connection->waiting_for_write = false;  // LESSON: async-select-fd-write
            send_queued(server, *connection);
            break;
    }
    after_io(server, *connection);
}

// One recv() per FD_READ: if bytes remain, Winsock posts another FD_READ behind the messages of everyone else,
// so a client that never stops sending gets its turn like the others. After FD_CLOSE there is no next FD_READ,
// so then it reads until the end of the stream.
void read_once(AsyncSelectServer& server, Connection& connection) {
    do {
        if (connection.send_queue.size() >= kMaxQueuedBytes && !connection.close_when_sent) {
            // Back-pressure: no recv(), so no further FD_READ; send_queued() posts it again once the queue drains.
            connection.reading_paused = true;  // LESSON: async-select-back-pressure
            return;
        }
        // LESSON: async-select-recv
        int received = recv(connection.socket, server.receive_buffer, sizeof server.receive_buffer, 0);
        if (received == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(io_completed, connection.id, IoOp::receive, 0, error);
            if (error == WSAEWOULDBLOCK) {
                // A stale message, or one already answered: nothing to read. After a real FD_CLOSE, recv() ends
                // with 0 or an error, never this: so an FD_CLOSE that led here was stale too.
                connection.peer_closing = false;
                return;
            }
            close_connection(
                server, connection,
                error == WSAECONNRESET || error == WSAECONNABORTED ? CloseReason::reset : CloseReason::error);
            return;
        }
        TRACE(io_completed, connection.id, IoOp::receive, received, 0);
        std::string replies;
        if (received == 0) {
            connection.peer_finished = true;
            if (!connection.close_when_sent) {
                connection.session.on_peer_closed(replies);  // LESSON: async-select-peer-closed
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
        send_queued(server, connection);
    } while (connection.peer_closing && !connection.peer_finished && connection.socket != INVALID_SOCKET);
}

// When the session asked to close and every reply is out: close now if the client has closed too; otherwise
// say goodbye (shutdown SD_SEND, a FIN after the last reply) and read until the client closes.
void after_io(AsyncSelectServer& server, Connection& connection) {
    if (connection.socket == INVALID_SOCKET || !connection.close_when_sent || !connection.send_queue.empty()) return;
    if (connection.peer_finished) {
        close_connection(server, connection, connection.reason);
    } else if (!connection.draining) {
        shutdown(connection.socket, SD_SEND);
        connection.draining = true;
    }
}

// After every message: what /all queued for others goes out, and what was closed is freed.
void free_closed_connections(AsyncSelectServer& server);

void finish_message(AsyncSelectServer& server) {
    std::vector<Connection*> recipients;
    recipients.swap(server.broadcast_recipients);
    for (Connection* recipient : recipients) {
        send_queued(server, *recipient);
        after_io(server, *recipient);
    }
    free_closed_connections(server);
}

// SECTION: send
//
// Bytes go out as soon as they are queued, unless a send() already failed with WSAEWOULDBLOCK: then the socket's
// buffer is full, and the only signal that it has room again is the FD_WRITE that this very failure re-armed.
// A partial send keeps the rest at the front of the queue.
void send_queued(AsyncSelectServer& server, Connection& connection) {
    while (connection.socket != INVALID_SOCKET && !connection.waiting_for_write && !connection.send_queue.empty()) {
        // LESSON: async-select-send
        int sent =
            send(connection.socket, connection.send_queue.data(), static_cast<int>(connection.send_queue.size()), 0);
        if (sent == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(io_completed, connection.id, IoOp::send, 0, error);
            if (error == WSAEWOULDBLOCK) {
                connection.waiting_for_write = true;  // LESSON: async-select-rearm-write
                return;
            }
            close_connection(
                server, connection,
                error == WSAECONNRESET || error == WSAECONNABORTED ? CloseReason::reset : CloseReason::error);
            return;
        }
        TRACE(io_completed, connection.id, IoOp::send, sent, 0);
        server.counters.bytes_out.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
        connection.send_queue.erase(0, static_cast<std::size_t>(sent));  // LESSON: async-select-partial-send
    }
    if (connection.reading_paused && connection.send_queue.size() < kMaxQueuedBytes &&
        connection.socket != INVALID_SOCKET) {
        // The FD_READ we left unanswered will not come again by itself: post it ourselves, behind everyone else.
        connection.reading_paused = false;
        // LESSON: async-select-resume-read
        if (!PostMessageW(server.window, kSocketMessage, static_cast<WPARAM>(connection.socket),
                          WSAMAKESELECTREPLY(FD_READ, 0)))
            win::report_error("PostMessageW", GetLastError(), connection.id);
    }
}

// A broadcast queues, and notes the recipient; finish_message() sends once this message is handled. Sending
// here could close a recipient (a send error), and closing takes the table's lock that this walk holds.
std::size_t AsyncSelectServer::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        if (other->socket == INVALID_SOCKET || other->close_when_sent) return false;
        other->send_queue.append(message);
        broadcast_recipients.push_back(other);
        return true;
    });
}

// SECTION: teardown
//
// closesocket() also cancels the socket's WSAAsyncSelect registration; messages already posted for it stay in
// the queue and are recognised as stale. Shutdown closes every socket, frees every connection, then destroys
// the window and its class. There is no I/O in flight to wait for.
void close_connection(AsyncSelectServer& server, Connection& connection, CloseReason reason) {
    if (connection.socket == INVALID_SOCKET) return;
    if (connection.reason == CloseReason::none || reason == CloseReason::reset) connection.reason = reason;
    server.table.remove(connection.id);  // no broadcast can reach it any more
    server.by_socket.erase(connection.socket);
    win::close_socket(connection.socket);  // LESSON: async-select-close
    connection.send_queue.clear();
    TRACE(connection_close, connection.id, connection.reason, 0, 0);
    server.counters.connection_closed();
    server.closed.push_back(&connection);
}

void free_closed_connections(AsyncSelectServer& server) {
    for (Connection* connection : server.closed) {
        delete connection;
        win::accounting().connections.fetch_sub(1);
    }
    server.closed.clear();
}

void shut_down(AsyncSelectServer& server) {
    while (!server.by_socket.empty())
        close_connection(server, *server.by_socket.begin()->second, CloseReason::server_stopping);
    server.broadcast_recipients.clear();
    free_closed_connections(server);
    closesocket(server.listener);
    DestroyWindow(server.window);
    // Fails harmlessly while another server in this process still has a window of the class.
    UnregisterClassW(kWindowClass, GetModuleHandleW(nullptr));
}

// The thread pool runs this when the stop event is signalled. Only the window's own thread may touch the
// window's state, so it is told by a message, queued behind the network's.
VOID CALLBACK on_stop_requested(PVOID context, BOOLEAN /*timed_out*/) {
    auto* server = static_cast<AsyncSelectServer*>(context);
    if (!PostMessageW(server->window, kStopMessage, 0, 0))  // LESSON: async-select-stop
        win::report_error("PostMessageW", GetLastError());
}

// A message-only window: HWND_MESSAGE as the parent means no desktop, no painting, only messages.
HWND create_message_window(AsyncSelectServer& server) {
    WNDCLASSEXW window_class{};
    window_class.cbSize = sizeof window_class;
    window_class.lpfnWndProc = window_procedure;
    window_class.hInstance = GetModuleHandleW(nullptr);
    window_class.lpszClassName = kWindowClass;
    if (RegisterClassExW(&window_class) == 0 && GetLastError() != ERROR_CLASS_ALREADY_EXISTS) {
        win::report_error("RegisterClassExW", GetLastError());
        return nullptr;
    }
    // LESSON: async-select-message-window
    HWND window = CreateWindowExW(0, kWindowClass, L"socklab async-select", 0, 0, 0, 0, 0, HWND_MESSAGE, nullptr,
                                  GetModuleHandleW(nullptr), nullptr);
    if (window == nullptr) {
        win::report_error("CreateWindowExW", GetLastError());
        return nullptr;
    }
    SetWindowLongPtrW(window, GWLP_USERDATA, reinterpret_cast<LONG_PTR>(&server));
    return window;
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    auto server = std::make_unique<AsyncSelectServer>(options, control);
    std::uint16_t port = 0;
    server->listener = win::create_listener(options, port);
    if (server->listener == INVALID_SOCKET) {
        control.report_failed();
        return 1;
    }
    // The window belongs to this thread: its messages will be delivered here, and nowhere else.
    server->window = create_message_window(*server);
    if (server->window == nullptr) {
        closesocket(server->listener);
        control.report_failed();
        return 1;
    }
    if (WSAAsyncSelect(server->listener, server->window, kListenerMessage, FD_ACCEPT) == SOCKET_ERROR) {
        win::report_error("WSAAsyncSelect", WSAGetLastError());
        shut_down(*server);
        control.report_failed();
        return 1;
    }
    trace::name_thread("message loop");
    win::announce_server("async-select", 0);
    HANDLE stop_wait = nullptr;
    RegisterWaitForSingleObject(&stop_wait, control.stop_event(), on_stop_requested, server.get(), INFINITE,
                                WT_EXECUTEONLYONCE);
    control.report_ready(port);

    run_message_loop();

    UnregisterWaitEx(stop_wait, INVALID_HANDLE_VALUE);  // waits for the callback if it is running
    shut_down(*server);
    trace::thread_exiting();
    return control.stop_requested() ? 0 : 1;
}

}  // namespace

int run_async_select(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
