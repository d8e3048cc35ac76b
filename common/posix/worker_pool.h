// common/posix/worker_pool.h — what a native model with a pool of workers shares (epoll): the table of connections
// that any worker, and /all, may reach, and the run around the pool. The counterpart of what common/win keeps for the
// completion-port models (win::ConnectionTable, win::free_connection, the run of a pool).
//
// What the workers wait in (epoll_wait) is the lesson and stays in the model's file; the order around it — listener,
// start, workers, ready, the stop, shut down — is written here.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/posix/connection.h"
#include "common/server/connection_table.h"

namespace socklab::posix {

// ---- the table of connections -----------------------------------------------------------------------------
// The live connections of a pool, by id (common/server/connection_table.h), under a std::mutex, as each
// connection's `lock` is. Lock order, as on Windows (models/README.md): the table's lock first, then a connection's.
//
// Why the workers look a connection up here instead of keeping a pointer in the kernel's event: an event the kernel
// has handed to one worker may name a connection another worker is freeing at that moment (a second report of the
// same socket, see models/09_epoll.cpp). An id that is no longer in the table is harmless; a pointer would be freed
// memory. take() finds it and locks it before the table's lock is let go, and free_connection() removes it from the
// table and then waits for its lock: whoever found it before has let go of it by then, and nobody can find it after.
template <class Connection>
using ConnectionTable = server::ConnectionTable<Connection, std::mutex>;

// A closed connection is freed: it leaves `table`, then its lock is taken once and let go — a worker that found it
// just before (take) or a /all writing to it is done with it then, and nobody can find it any more — its close is
// recorded, and it is deleted. Called without the connection's lock.
template <class Connection>
void free_connection(protocol::SessionHost& host, ConnectionTable<Connection>& table, Connection& connection) {
    table.remove(connection);
    { std::lock_guard last_user_gone(connection.lock); }
    record_closed(host, connection);
    delete &connection;
}

// ---- the run of a pool -----------------------------------------------------------------------------------
// Opens `listener` (create_listener), then calls `start`, which makes ready what the workers wait with (false, after
// reporting why: the server fails to start), then starts `workers` threads running `worker_main(parameter)`. Then it
// announces the server, tells `control` it is ready and waits, traced as a wait for the stop, until every worker has
// ended — each ends when it sees the control's stop_fd() ready. Then, or after a failed start, it closes the listener
// and runs `shut_down` with no worker left, which closes and frees the rest. Returns 1 when the server could not
// start, else 0.
inline int run_pool(const char* model, const ServerOptions& options, ServerControl& control, int& listener,
                    const std::function<bool()>& start, unsigned workers, void (*worker_main)(void* parameter),
                    void* parameter, const std::function<void()>& shut_down) {
    std::uint16_t port = 0;
    listener = create_listener(options, port);
    std::vector<std::thread> threads;
    bool started = listener >= 0 && start() && start_threads(workers, worker_main, parameter, threads);
    if (started) {
        trace::name_thread("main");
        announce_server(model, 0);  // 0: no concurrency value, unlike a completion port
        control.report_ready(port);
        // Nothing to do but wait: the workers accept, serve and see the stop themselves.
        TRACE(wait_begin, 0, trace::WaitOn::stop, 0, 0);
        join_threads(threads);
        TRACE(wait_end, 0, trace::Wake::stop, 0, 0);
    }
    if (listener >= 0) close(listener);
    listener = -1;
    shut_down();
    if (!started) control.report_failed();
    trace::thread_exiting();
    return started ? 0 : 1;
}
// The same, with a model's own steps, each given the server (its options, control and listener are used).
template <class Server>
int run_pool(const char* model, Server& server, bool (*start)(Server&), unsigned workers,
             void (*worker_main)(void* parameter), void (*shut_down)(Server&)) {
    return run_pool(
        model, server.options, server.control, server.listener, [&] { return start(server); }, workers, worker_main,
        &server, [&] { shut_down(server); });
}

}  // namespace socklab::posix
