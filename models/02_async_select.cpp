// models/02_async_select.cpp — WSAAsyncSelect: network events arrive as window messages to one thread.

// SECTION: abstract
//
// How the network reaches the code: as window messages. WSAAsyncSelect(socket, window, message, events) asks
// Winsock to post `message` to `window` whenever one of `events` happens on the socket; wParam is the socket,
// lParam the event (FD_ACCEPT, FD_READ, FD_WRITE, FD_CLOSE) and an error code. The thread that owns the window
// sits in the ordinary message loop — GetMessage, DispatchMessage — and the window procedure handles one
// network event per message. The window is message-only, never shown: a message queue (win::open_message_window
// says what that is). Its tests run it under Wine 8.0 with no display at all.
//
// Network events are edges, not levels, and each kind is re-enabled only by the call that consumes it:
// - FD_READ is reported once, and again only after a recv(); if bytes remain after that recv(), Winsock reports
//   it again. A server that does not call recv() (back-pressure, below) gets no more FD_READ until it does.
// - FD_WRITE is reported once when the connection is set up, and after that ONLY when a send() has failed with
//   WSAEWOULDBLOCK and room has come back. So the code sends whenever it has bytes, and waits for FD_WRITE only
//   after a WSAEWOULDBLOCK. Waiting for an FD_WRITE that was never re-armed is the classic hang of this model.
// - A message may be stale: it was posted before the socket was closed, and the SOCKET value may already name
//   a new connection. So a message is a hint; recv() and send() on a non-blocking socket tell the truth.
//
// Where state lives: a Connection per client (socket, protocol session, send queue), found from the SOCKET that
// a message names (wParam).
// There are no per-I/O objects: every call completes before it returns.
//
// Threads: one. It accepts, reads, runs the protocol and sends. So a /work that blocks stalls every client.
// It is the thread that created the window: Windows delivers a window's messages only to that thread.
//
// Limits, honestly:
// - There is no FD_SETSIZE and no 64-handle limit here: the only cap is the thread's message queue (10,000 posted
//   messages by default on Windows, the USERPostMessageLimit). Winsock has at most one message of each kind
//   waiting per socket, because it re-arms an event only when the call that consumes it is made, and this code
//   posts at most one FD_READ of its own: a handful per socket, so a few thousand clients fit.
// - The cost is a message per network event, a trip through the window procedure, and everything on one thread.
// - A client that stops reading must not make the server queue without end: once kMaxQueuedBytes wait for it,
//   its FD_READ is left unanswered until its queue drains; then the code posts itself the FD_READ it skipped.

#include <string>
#include <utility>
#include <vector>

#include "common/trace/recorder.h"
#include "common/win/connection.h"
#include "common/win/message_window.h"
#include "common/win/one_thread.h"
#include "models/model.h"

namespace socklab::models {
namespace {

using trace::CloseReason;
using trace::IoOp;
using trace::Wake;

// The messages of our window. WM_APP and above are free for an application's own use.
constexpr UINT kListenerMessage = WM_APP + 1;  // FD_ACCEPT on the listening socket
constexpr UINT kSocketMessage = WM_APP + 2;    // FD_READ, FD_WRITE, FD_CLOSE on a client's socket
constexpr UINT kStopMessage = WM_APP + 3;      // posted from a thread-pool thread when the stop event is signalled
constexpr wchar_t kWindowClass[] = L"socklab async-select";

// SECTION: state
//
// One Connection per client, found from the SOCKET that a message names (wParam).
// Only the server's one thread touches it, so there is no lock.
struct Connection : win::ConnectionBase {
    using ConnectionBase::ConnectionBase;
    bool waiting_for_write = false;  // a send() failed with WSAEWOULDBLOCK: only FD_WRITE says when to go on
    bool reading_paused = false;     // a recv() was skipped because the send queue is full
    bool peer_closing = false;       // FD_CLOSE arrived: read what is left until recv() returns 0
};

struct Server : protocol::SessionHost {
    const ServerOptions& options;
    ServerControl& control;
    SOCKET listener = INVALID_SOCKET;
    win::SocketTable<Connection> table;  // what /all walks, and whose socket a message names
    HWND window = nullptr;
    std::vector<Connection*> broadcast_recipients;  // queued to by /all during this message: sent after it

    Server(const ServerOptions& o, ServerControl& c) : options(o), control(c) {}

    std::size_t broadcast(std::uint32_t from, std::string_view message) override;
    std::string stats_line() override { return counters.stats_line("async-select"); }
};

void queue_send(Server& server, Connection& connection, std::string_view bytes);
void close_connection(Server& server, Connection& connection, CloseReason reason);
LRESULT CALLBACK window_procedure(HWND window, UINT message, WPARAM wparam, LPARAM lparam);

// SECTION: listen
//
// The listening socket posts kListenerMessage with FD_ACCEPT when a client is waiting, to a message-only window
// opened first, on this thread (win::open_message_window). Everyone waiting is accepted (win::accept_waiting_clients),
// so one wake serves a burst of clients. Each accepted socket is registered for its own events at once, which also
// makes it non-blocking.
bool listen_for_clients(Server& server) {
    if (server.window == nullptr) server.window = win::open_message_window(kWindowClass, window_procedure, &server);
    if (server.window == nullptr) return false;
    if (WSAAsyncSelect(server.listener, server.window, kListenerMessage, FD_ACCEPT) == 0) return true;
    win::report_error("WSAAsyncSelect", WSAGetLastError());
    return false;
}

void accept_clients(Server& server) {
    win::accept_waiting_clients(server.listener, [&](SOCKET client, std::uint16_t peer_port) {
        auto* connection = new Connection(server, server.options.max_line, client, peer_port);
        server.table.add(connection);
        win::record_opened(server, *connection);
        // LESSON: register
        if (WSAAsyncSelect(client, server.window, kSocketMessage, FD_READ | FD_WRITE | FD_CLOSE) == SOCKET_ERROR) {
            win::report_error("WSAAsyncSelect", WSAGetLastError(), connection->id);
            close_connection(server, *connection, CloseReason::error);  // freed once this message is handled
            return true;
        }
        // Bytes may have arrived between accept() and WSAAsyncSelect(). Windows then posts FD_READ at once;
        // Wine 8.0 was measured to miss it now and then, leaving the client's first line unanswered for good.
        // A spare FD_READ costs one recv() that says WSAEWOULDBLOCK, so post one ourselves.
        // LESSON: first-read
        if (!PostMessageW(server.window, kSocketMessage, static_cast<WPARAM>(client), WSAMAKESELECTREPLY(FD_READ, 0)))
            win::report_error("PostMessageW", GetLastError(), connection->id);
        return true;
    });
    // Registering the listener again re-arms FD_ACCEPT whatever happened: Wine 8.0 re-arms it only on a successful
    // accept(), and a report that arrives just after the accept() it was about leaves it disarmed for good
    // (measured: clients never accepted). On Windows this costs a call, at worst a spare FD_ACCEPT.
    listen_for_clients(server);  // LESSON: rearm-accept
}

// SECTION: wait
//
// The message loop: GetMessage blocks until a message is posted to this thread, DispatchMessage hands it to the
// window procedure. GetMessage returns 0 for WM_QUIT, which the window procedure asks for on kStopMessage.

void loop_main(Server& server) {
    for (;;) {
        MSG message;
        TRACE(wait_begin, 0, trace::WaitOn::message, 0, 0);
        BOOL got = GetMessageW(&message, nullptr, 0, 0);  // LESSON: wait
        if (got == -1) {
            DWORD error = GetLastError();
            TRACE(wait_end, 0, Wake::error, 0, error);
            win::wait_failed("GetMessageW", error, server.control);
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

// Run on a thread-pool thread when the stop event is signalled (win::OnStop). Only the window's own thread may
// touch the window's state, so it is told by a message, queued behind the network's.
void post_stop(Server& server) {
    if (!PostMessageW(server.window, kStopMessage, 0, 0))  // LESSON: stop
        win::report_error("PostMessageW", GetLastError());
}

// SECTION: dispatch
//
// One message, one network event on one socket. WSAGETSELECTEVENT and WSAGETSELECTERROR take lParam apart.
void dispatch(Server& server, UINT message, SOCKET socket, LPARAM event_and_error);
void finish_message(Server& server);

LRESULT CALLBACK window_procedure(HWND window, UINT message, WPARAM wparam, LPARAM lparam) {
    auto* server = win::window_owner<Server>(window);
    if (server != nullptr && message == kStopMessage) {
        PostQuitMessage(0);  // GetMessage will return 0
    } else if (server != nullptr && (message == kListenerMessage || message == kSocketMessage)) {
        dispatch(*server, message, static_cast<SOCKET>(wparam), lparam);
        finish_message(*server);
    } else {
        return DefWindowProcW(window, message, wparam, lparam);
    }
    return 0;
}

void read_once(Server& server, Connection& connection);
void drain(Server& server, Connection& connection);

void dispatch(Server& server, UINT message, SOCKET socket, LPARAM event_and_error) {
    Connection* found = message == kSocketMessage ? server.table.find(socket) : nullptr;
    TRACE(message_dispatched, found ? found->id : 0, 0, message,
          WSAGETSELECTEVENT(event_and_error) | WSAGETSELECTERROR(event_and_error) << 16);
    if (message == kListenerMessage) {
        trace::gate_point(0);
        accept_clients(server);
        return;
    }
    // LESSON: stale-message
    if (found == nullptr) return;  // posted before its socket was closed: nobody to tell
    Connection& connection = *found;
    trace::gate_point(connection.id);
    long event = WSAGETSELECTEVENT(event_and_error);
    if (event == FD_WRITE) {
        connection.waiting_for_write = false;  // LESSON: fd-write
        queue_send(server, connection, {});
        drain(server, connection);
        return;
    }
    // FD_CLOSE: the client closed or reset the connection. Bytes may still wait before the end of the stream, and
    // no more FD_READ will announce them: read them all now. The error half of lParam (WSAECONNRESET...) is not
    // trusted on its own — the message may be stale — recv() will report a reset itself.
    if (event == FD_CLOSE) connection.peer_closing = true;
    // One recv() per FD_READ: if bytes remain, Winsock posts another FD_READ behind the messages of everyone else,
    // so a client that never stops sending gets its turn like the others. After FD_CLOSE there is no next FD_READ,
    // so then it reads until the end of the stream.
    do read_once(server, connection);
    while (connection.peer_closing && !connection.peer_finished && !connection.reading_paused &&
           connection.socket != INVALID_SOCKET);
    drain(server, connection);
}

void on_received(Server& server, Connection& connection, const char* data, int received);

// One recv(), unless replies pile up for a client that does not read them (back-pressure).
void read_once(Server& server, Connection& connection) {
    if (connection.send_queue.size() >= kMaxQueuedBytes && !connection.close_when_sent) {
        // Back-pressure: no recv(), so no further FD_READ; queue_send() posts it again once the queue drains.
        connection.reading_paused = true;  // LESSON: back-pressure
        return;
    }
    char buffer[win::kReceiveBufferSize];
    // LESSON: recv
    int received = recv(connection.socket, buffer, sizeof buffer, 0);
    if (received == SOCKET_ERROR) {
        int error = WSAGetLastError();
        TRACE(io_completed, connection.id, IoOp::receive, 0, error);
        // WSAEWOULDBLOCK: a stale message, or one already answered: nothing to read. After a real FD_CLOSE, recv()
        // ends with 0 or an error, never this: so an FD_CLOSE that led here was stale too.
        if (error == WSAEWOULDBLOCK) connection.peer_closing = false;
        else close_connection(server, connection, win::close_reason_for(error));
        return;
    }
    TRACE(io_completed, connection.id, IoOp::receive, received, 0);
    on_received(server, connection, buffer, received);
}

// Once every reply is out: close, or say goodbye and drain (win::say_goodbye).
void drain(Server& server, Connection& connection) {
    if (win::say_goodbye(connection)) close_connection(server, connection, connection.reason);
}

// The session takes the bytes, or the end of the stream (win::take_received), and its replies are sent at once.
void on_received(Server& server, Connection& connection, const char* data, int received) {
    std::string replies;
    if (win::take_received(connection, server, data, received, replies))
        close_connection(server, connection, connection.reason);  // sent too much after our goodbye
    queue_send(server, connection, replies);
}

// After every message: what /all queued for others goes out, and what was closed is freed.
void finish_message(Server& server) {
    for (Connection* recipient : std::exchange(server.broadcast_recipients, {})) {
        queue_send(server, *recipient, {});
        drain(server, *recipient);
    }
    server.table.free_closed();
}

// SECTION: send
//
// send() on a non-blocking socket takes what fits in the socket's send buffer — possibly only part of what was
// asked — and fails with WSAEWOULDBLOCK when nothing fits. Whatever it did not take stays at the front of the queue,
// and after a WSAEWOULDBLOCK nothing is sent until FD_WRITE: the only signal that there is room again, re-armed by
// that very failure.
// LESSON: send
void queue_send(Server& server, Connection& connection, std::string_view bytes) {
    connection.send_queue.append(bytes);
    while (connection.socket != INVALID_SOCKET && !connection.waiting_for_write && !connection.send_queue.empty()) {
        int sent =
            send(connection.socket, connection.send_queue.data(), static_cast<int>(connection.send_queue.size()), 0);
        if (sent == SOCKET_ERROR) {
            int error = WSAGetLastError();
            TRACE(io_completed, connection.id, IoOp::send, 0, error);
            if (error == WSAEWOULDBLOCK) {
                connection.waiting_for_write = true;  // FD_WRITE is re-armed: it will say when there is room
                return;
            }
            close_connection(server, connection, win::close_reason_for(error));
            return;
        }
        TRACE(io_completed, connection.id, IoOp::send, sent, 0);
        server.counters.bytes_out.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
        connection.send_queue.erase(0, static_cast<std::size_t>(sent));
    }
    if (connection.reading_paused && connection.send_queue.size() < kMaxQueuedBytes &&
        connection.socket != INVALID_SOCKET) {
        // The FD_READ we left unanswered will not come again by itself: post it ourselves, behind everyone else.
        connection.reading_paused = false;
        // LESSON: resume-read
        if (!PostMessageW(server.window, kSocketMessage, static_cast<WPARAM>(connection.socket),
                          WSAMAKESELECTREPLY(FD_READ, 0)))
            win::report_error("PostMessageW", GetLastError(), connection.id);
    }
}

// A broadcast queues, and notes the recipient; finish_message() sends once this message is handled.
// Sending here could close a recipient (a send error) in the middle of the table's walk.
std::size_t Server::broadcast(std::uint32_t from, std::string_view message) {
    return table.for_each_except(from, [&](Connection* other) {
        if (other->close_when_sent) return false;
        other->send_queue.append(message);
        broadcast_recipients.push_back(other);
        return true;
    });
}

// SECTION: teardown
//
// A connection closes at once: its socket leaves the table, so no /all reaches it and what the wait still says
// about it is passed by. It is freed when the thread is done with the message it closed in, which may still hold
// it. closesocket() also cancels the socket's WSAAsyncSelect registration; messages already posted stay stale.
// Shutdown closes every socket and frees every connection; a non-blocking model has no I/O in flight to wait for.
void close_connection(Server& server, Connection& connection, CloseReason reason) {
    if (connection.socket == INVALID_SOCKET) return;
    win::note_close_reason(connection, reason);
    win::record_closed(server, connection);
    server.table.remove(connection);
    win::close_socket(connection.socket);  // LESSON: close
}

void shut_down(Server& server) {
    while (Connection* connection = server.table.any())
        close_connection(server, *connection, CloseReason::server_stopping);
    server.table.free_closed();
    win::close_message_window(server.window, kWindowClass);
}

// SECTION: run
int run(const ServerOptions& options, ServerControl& control) {
    Server server(options, control);
    return win::run_loop("async-select", "message loop", server, listen_for_clients, post_stop, loop_main, shut_down);
}

}  // namespace

int run_async_select(const ServerOptions& options, ServerControl& control) { return run(options, control); }

}  // namespace socklab::models
