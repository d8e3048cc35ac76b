// common/win/one_thread.cpp — the steps the one-thread models share (one_thread.h says why).
#include "common/win/one_thread.h"

namespace socklab::win {

// LESSON: select-non-blocking
bool make_non_blocking(SOCKET socket) {
    u_long non_blocking = 1;
    if (ioctlsocket(socket, FIONBIO, &non_blocking) == 0) return true;
    report_error("ioctlsocket", WSAGetLastError());
    return false;
}

void accept_waiting_clients(SOCKET listener,
                            const std::function<bool(SOCKET client, std::uint16_t peer_port)>& accepted) {
    std::uint16_t peer_port = 0;
    SOCKET client;
    while ((client = accept_waiting_client(listener, peer_port)) != INVALID_SOCKET)
        if (!accepted(client, peer_port)) return;
}

int run_loop(const char* model, const char* thread, const ServerOptions& options, ServerControl& control,
             SOCKET& listener, const std::function<bool()>& start, const std::function<void()>& wake,
             const std::function<void()>& loop, const std::function<void()>& shut_down) {
    std::uint16_t port = 0;
    listener = create_listener(options, port);
    bool started = listener != INVALID_SOCKET && start();
    if (started) {
        trace::name_thread(thread);
        announce_server(model, 0);
        OnStop on_stop(control, wake);
        control.report_ready(port);
        loop();
    }
    // on_stop has finished (its destructor waits for a `wake` that is running): nobody else uses the listener now.
    closesocket(listener);  // (INVALID_SOCKET when it was never opened: no harm)
    listener = INVALID_SOCKET;
    shut_down();
    if (!started) control.report_failed();
    trace::thread_exiting();
    return started ? 0 : 1;
}

}  // namespace socklab::win
