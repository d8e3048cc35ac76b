// common/win/connection.cpp — the steps every model takes the same way (connection.h says why each is shared).
#include "common/win/connection.h"

#include <cstdio>
#include <cstdlib>

namespace socklab::win {

using trace::CloseReason;

// ---- the connection ---------------------------------------------------------------------------------------
CloseReason close_reason_for(int error) {
    return error == WSAECONNRESET || error == WSAECONNABORTED ? CloseReason::reset : CloseReason::error;
}

// ---- closing politely -------------------------------------------------------------------------------------
bool say_goodbye(ConnectionBase& connection) {
    if (connection.socket == INVALID_SOCKET || !connection.close_when_sent || !connection.send_queue.empty())
        return false;
    if (connection.peer_finished) return true;
    if (!connection.draining) {
        shutdown(connection.socket, SD_SEND);
        connection.draining = true;
    }
    return false;
}

// ---- accepting on one blocking thread ---------------------------------------------------------------------
void set_no_delay(SOCKET socket) {
    BOOL no_delay = TRUE;
    if (setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&no_delay), sizeof no_delay) ==
        SOCKET_ERROR)
        report_error("setsockopt(TCP_NODELAY)", WSAGetLastError());
}

SOCKET accept_next_client(SOCKET listener, const ServerControl& control, std::uint16_t& peer_port) {
    for (;;) {
        sockaddr_in peer{};
        int peer_length = sizeof peer;
        TRACE(wait_begin, 0, trace::WaitOn::accept, 0, 0);
        // LESSON: blocking-accept
        SOCKET client = accept(listener, reinterpret_cast<sockaddr*>(&peer), &peer_length);
        int error = client == INVALID_SOCKET ? WSAGetLastError() : 0;
        if (control.stop_requested()) {  // woken by wake_blocked_accept (or a client that came just too late)
            TRACE(wait_end, 0, trace::Wake::stop, 0, error);
            if (client != INVALID_SOCKET) closesocket(client);
            return INVALID_SOCKET;
        }
        if (client == INVALID_SOCKET) {
            TRACE(wait_end, 0, trace::Wake::error, 0, error);
            after_failed_accept(error);  // a client that left before accept(): next at once; else report, pause
            continue;
        }
        TRACE(wait_end, 0, trace::Wake::ready, 0, 0);
        track_socket(client);
        set_no_delay(client);
        peer_port = ntohs(peer.sin_port);
        return client;
    }
}

OnStop::OnStop(ServerControl& control, std::function<void()> action) : action_(std::move(action)) {
    if (!RegisterWaitForSingleObject(&wait_, control.stop_event(), run_action, this, INFINITE, WT_EXECUTEONLYONCE)) {
        report_error("RegisterWaitForSingleObject", GetLastError());
        broken_invariant("the server could never be stopped");
    }
}

OnStop::~OnStop() { UnregisterWaitEx(wait_, INVALID_HANDLE_VALUE); }

VOID CALLBACK OnStop::run_action(PVOID context, BOOLEAN /*timed_out*/) { static_cast<OnStop*>(context)->action_(); }

int run_acceptor(const char* model, const ServerOptions& options, ServerControl& control, SOCKET& listener,
                 const std::function<void()>& accept_clients, unsigned concurrency) {
    std::uint16_t port = 0;
    listener = create_listener(options, port);
    if (listener == INVALID_SOCKET) {
        control.report_failed();
        return 1;
    }
    trace::name_thread("acceptor");
    announce_server(model, concurrency);
    {
        OnStop on_stop(control, [&] { wake_blocked_accept(listener); });
        control.report_ready(port);
        accept_clients();
    }  // on_stop has finished: nobody else uses the listener
    closesocket(listener);
    listener = INVALID_SOCKET;
    return 0;
}

void accept_each_client(SOCKET listener, const ServerControl& control,
                        const std::function<void(SOCKET client, std::uint16_t peer_port)>& accepted) {
    std::uint16_t peer_port = 0;
    SOCKET client;
    while ((client = accept_next_client(listener, control, peer_port)) != INVALID_SOCKET) {
        trace::gate_point(0);
        accepted(client, peer_port);
    }
}

// ---- threads ----------------------------------------------------------------------------------------------
bool start_threads(unsigned count, LPTHREAD_START_ROUTINE main, void* parameter, std::vector<HANDLE>& threads) {
    for (unsigned i = 0; i < count; ++i) {
        HANDLE thread = CreateThread(nullptr, 0, main, parameter, 0, nullptr);
        if (thread == nullptr) {
            report_error("CreateThread", GetLastError());
            break;
        }
        threads.push_back(thread);
        accounting().threads.fetch_add(1);
    }
    return !threads.empty();
}

void LiveConnections::opened() {
    std::lock_guard lock(lock_);
    ++alive_;
}

void LiveConnections::freed() {
    {
        std::lock_guard lock(lock_);
        --alive_;
    }
    none_left_.notify_all();
}

void LiveConnections::wait_until_none() {
    std::unique_lock lock(lock_);
    none_left_.wait(lock, [&] { return alive_ == 0; });
}

void ThreadSet::add(HANDLE thread) {
    std::lock_guard lock(lock_);
    std::erase_if(threads_, [](HANDLE ended) {
        if (WaitForSingleObject(ended, 0) != WAIT_OBJECT_0) return false;
        CloseHandle(ended);
        accounting().threads.fetch_sub(1);
        return true;
    });
    threads_.push_back(thread);
    accounting().threads.fetch_add(1);
}

void ThreadSet::join_all() {
    std::lock_guard lock(lock_);
    join_threads(threads_);
}

// ---- one thread for every connection (select, async-select) ------------------------------------------------
SOCKET accept_waiting_client(SOCKET listener, std::uint16_t& peer_port) {
    for (;;) {
        sockaddr_in peer{};
        int peer_length = sizeof peer;
        SOCKET client = accept(listener, reinterpret_cast<sockaddr*>(&peer), &peer_length);
        if (client == INVALID_SOCKET) {
            int error = WSAGetLastError();
            if (client_left_before_accept(error)) continue;           // gone before we got to it: the next, at once
            if (error != WSAEWOULDBLOCK) after_failed_accept(error);  // e.g. out of sockets: reported, a pause
            return INVALID_SOCKET;
        }
        track_socket(client);
        set_no_delay(client);
        peer_port = ntohs(peer.sin_port);
        return client;
    }
}

SOCKET open_doorbell() {
    SOCKET doorbell = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // port 0: any free one, which getsockname tells
    int length = sizeof address;
    if (doorbell != INVALID_SOCKET && bind(doorbell, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
        getsockname(doorbell, reinterpret_cast<sockaddr*>(&address), &length) == 0 &&
        connect(doorbell, reinterpret_cast<sockaddr*>(&address), length) == 0)
        return doorbell;
    report_error("socket, bind, getsockname or connect", WSAGetLastError());
    if (doorbell != INVALID_SOCKET) closesocket(doorbell);
    return INVALID_SOCKET;
}

// ---- completion ports -------------------------------------------------------------------------------------
void packet_taken(HANDLE port, std::uint32_t connection, std::uint32_t io_id) {
    TRACE(packet_dequeued, connection, 0, 0, io_id);
    sample_queue_depth(port);
    trace::gate_point(connection);
}

// ---- failures ---------------------------------------------------------------------------------------------
void wait_failed(const char* api, DWORD error, ServerControl& control) {
    report_error(api, error);
    std::fprintf(stderr, "socklab-server: a wait failed, which retrying cannot mend: stopping\n");
    control.request_stop();
}

void broken_invariant(const char* what) {
    std::fprintf(stderr, "socklab-server: broken invariant: %s\n", what);
    std::fflush(stderr);
    std::abort();
}

}  // namespace socklab::win
