// common/posix/one_thread.cpp — the steps the native one-thread models share (one_thread.h says why).
#include "common/posix/one_thread.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace socklab::posix {

// LESSON: posix-non-blocking
bool make_non_blocking(int socket) {
    int flags = fcntl(socket, F_GETFL);
    if (flags >= 0 && fcntl(socket, F_SETFL, flags | O_NONBLOCK) == 0) return true;
    report_error("fcntl(O_NONBLOCK)", errno);
    return false;
}

void accept_waiting_clients(int listener, const std::function<bool(int client, std::uint16_t peer_port)>& accepted) {
    std::uint16_t peer_port = 0;
    int client;
    while ((client = accept_waiting_client(listener, peer_port)) >= 0)
        if (!accepted(client, peer_port)) return;
}

int run_loop(const char* model, const char* thread, const ServerOptions& options, ServerControl& control, int& listener,
             const std::function<bool()>& start, const std::function<void()>& loop,
             const std::function<void()>& shut_down) {
    std::uint16_t port = 0;
    listener = create_listener(options, port);
    bool started = listener >= 0 && start();
    if (started) {
        trace::name_thread(thread);
        announce_server(model, 0);
        control.report_ready(port);
        loop();
    }
    if (listener >= 0) close(listener);
    listener = -1;
    shut_down();
    if (!started) control.report_failed();
    trace::thread_exiting();
    return started ? 0 : 1;
}

}  // namespace socklab::posix
