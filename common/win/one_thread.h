// common/win/one_thread.h — the run, the accept step and the non-blocking set-up of the models that serve every
// connection on one thread (select, async-select).
//
// Both wait in one loop on the thread that runs the model, and are told of waiting clients by the listener's
// readiness (readable in select(), FD_ACCEPT). What they wait in, and how the stop reaches that wait, is each
// model's lesson and stays in its file; the order around it — listener, start, ready, loop, stop — is written here.
#pragma once

#include <cstdint>
#include <functional>

#include "common/win/connection.h"

namespace socklab::win {

// Makes `socket` non-blocking (select's listener and its clients; WSAAsyncSelect does it by itself): a call that
// would wait fails with WSAEWOULDBLOCK instead. False, after reporting why, when it cannot.
bool make_non_blocking(SOCKET socket);

// Takes every client waiting on a non-blocking listener (accept_waiting_client): `accepted(client, peer_port)` for
// each, until nobody is left waiting or `accepted` returns false (no room for another).
void accept_waiting_clients(SOCKET listener,
                            const std::function<bool(SOCKET client, std::uint16_t peer_port)>& accepted);

// The run of such a model, on the calling thread: opens `listener` (create_listener), then calls `start`, which
// makes ready what the loop waits with (false, after reporting why: the server fails to start). Then names the
// thread, announces the server, tells `control` it is ready and runs `loop` until it returns, while an OnStop runs
// `wake` on a thread-pool thread at the stop to tell the loop. Once the loop has returned and the OnStop has
// finished, or after a failed start, it closes the listener and runs `shut_down`, which closes the rest. Returns 1
// when the server could not start, else 0.
int run_loop(const char* model, const char* thread, const ServerOptions& options, ServerControl& control,
             SOCKET& listener, const std::function<bool()>& start, const std::function<void()>& wake,
             const std::function<void()>& loop, const std::function<void()>& shut_down);
// The same, with a model's own steps, each given the server (its options, control and listener are used).
template <class Server>
int run_loop(const char* model, const char* thread, Server& server, bool (*start)(Server&), void (*wake)(Server&),
             void (*loop)(Server&), void (*shut_down)(Server&)) {
    return run_loop(
        model, thread, server.options, server.control, server.listener, [&] { return start(server); },
        [&] { wake(server); }, [&] { loop(server); }, [&] { shut_down(server); });
}

}  // namespace socklab::win
