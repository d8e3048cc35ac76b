// common/posix/one_thread.h — the run, the accept step and the non-blocking set-up of the native models that serve
// every connection on one thread (poll): the counterpart of common/win/one_thread.h.
//
// What the model waits in is its lesson and stays in its file; the order around it — listener, start, ready, loop,
// stop — is written here. Unlike Windows' select(), poll() can wait on the stop signal itself (the control's
// eventfd), so no doorbell and no thread to ring it are needed.
#pragma once

#include <cstdint>
#include <functional>

#include "common/posix/connection.h"

namespace socklab::posix {

// Makes `socket` non-blocking (O_NONBLOCK): a call that would wait fails with EAGAIN instead. False, after
// reporting why, when it cannot.
bool make_non_blocking(int socket);

// Takes every client waiting on a non-blocking listener (accept_waiting_client): `accepted(client, peer_port)` for
// each, until nobody is left waiting or `accepted` returns false (no room for another).
void accept_waiting_clients(int listener, const std::function<bool(int client, std::uint16_t peer_port)>& accepted);

// The run of such a model, on the calling thread: opens `listener` (create_listener), then calls `start`, which
// makes ready what the loop waits with (false, after reporting why: the server fails to start). Then names the
// thread, announces the server, tells `control` it is ready and runs `loop` until it returns (it waits on
// control.stop_fd() itself). Then, or after a failed start, it closes the listener and runs `shut_down`, which
// closes the rest. Returns 1 when the server could not start, else 0.
int run_loop(const char* model, const char* thread, const ServerOptions& options, ServerControl& control, int& listener,
             const std::function<bool()>& start, const std::function<void()>& loop,
             const std::function<void()>& shut_down);
// The same, with a model's own steps, each given the server (its options, control and listener are used).
template <class Server>
int run_loop(const char* model, const char* thread, Server& server, bool (*start)(Server&), void (*loop)(Server&),
             void (*shut_down)(Server&)) {
    return run_loop(
        model, thread, server.options, server.control, server.listener, [&] { return start(server); },
        [&] { loop(server); }, [&] { shut_down(server); });
}

}  // namespace socklab::posix
