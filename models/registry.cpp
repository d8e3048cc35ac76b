// models/registry.cpp — the models the server executable (and the tests) can run, by id.
#include "models/model.h"

namespace socklab::models {

const std::vector<ModelInfo>& all_models() {
    // Each platform lists the models it builds (models/CMakeLists.txt says why the others are left out).
    static const std::vector<ModelInfo> models = {
#ifdef _WIN32
        {"blocking", "models/00_blocking.cpp", "accept() and recv() in a thread per client", run_blocking, "Windows"},
        {"select", "models/01_select.cpp", "select() over every socket in one thread", run_select, "Windows"},
        {"async-select", "models/02_async_select.cpp", "window messages (WSAAsyncSelect) in one thread",
         run_async_select, "Windows"},
        {"event-select", "models/03_event_select.cpp", "WSAWaitForMultipleEvents, a thread per 62 sockets",
         run_event_select, "Windows"},
        {"overlapped-event", "models/04_overlapped_event.cpp",
         "WSAWaitForMultipleEvents on an event per overlapped I/O, in groups of 31 clients per thread",
         run_overlapped_event, "Windows"},
        {"completion-routine", "models/05_completion_routine.cpp",
         "SleepEx alertable on one I/O thread; completion routines run as APCs", run_completion_routine, "Windows"},
        {"iocp", "models/06_iocp.cpp", "GetQueuedCompletionStatus in a worker pool; accept() in one thread", run_iocp,
         "Windows"},
        {"iocp-acceptex", "models/07_iocp_acceptex.cpp",
         "GetQueuedCompletionStatus in a worker pool; AcceptEx calls kept posted", run_iocp_acceptex, "Windows"},
#else
        {"poll", "models/08_poll.cpp", "poll() over every socket in one thread; select without FD_SETSIZE", run_poll,
         "Linux"},
        {"epoll", "models/09_epoll.cpp", "epoll_wait in a worker pool on one epoll instance, EPOLLONESHOT re-armed",
         run_epoll, "Linux"},
        {"io-uring", "models/10_io_uring.cpp",
         "io_uring_submit_and_wait in one thread: receives, sends and a multishot accept submitted, completions reaped",
         run_io_uring, "Linux"},
#endif
    };
    return models;
}

const ModelInfo* find_model(std::string_view id) {
    for (const ModelInfo& model : all_models())
        if (id == model.id) return &model;
    return nullptr;
}

}  // namespace socklab::models
