// models/registry.cpp — the models the server executable (and the tests) can run, by id.
#include "models/model.h"

namespace socklab::models {

const std::vector<ModelInfo>& all_models() {
    static const std::vector<ModelInfo> models = {
        {"blocking", "models/00_blocking.cpp", "accept() and recv() in a thread per client", run_blocking},
        {"select", "models/01_select.cpp", "select() over every socket in one thread", run_select},
        {"async-select", "models/02_async_select.cpp", "window messages (WSAAsyncSelect) in one thread",
         run_async_select},
        {"event-select", "models/03_event_select.cpp", "WSAWaitForMultipleEvents, a thread per 62 sockets",
         run_event_select},
        {"overlapped-event", "models/04_overlapped_event.cpp",
         "WSAWaitForMultipleEvents on an event per overlapped I/O, in groups of 31 clients per thread",
         run_overlapped_event},
        {"completion-routine", "models/05_completion_routine.cpp",
         "SleepEx alertable on one I/O thread; completion routines run as APCs", run_completion_routine},
        {"iocp", "models/06_iocp.cpp", "GetQueuedCompletionStatus in a worker pool; accept() in one thread", run_iocp},
        {"iocp-acceptex", "models/07_iocp_acceptex.cpp",
         "GetQueuedCompletionStatus in a worker pool; AcceptEx calls kept posted", run_iocp_acceptex},
    };
    return models;
}

const ModelInfo* find_model(std::string_view id) {
    for (const ModelInfo& model : all_models())
        if (id == model.id) return &model;
    return nullptr;
}

}  // namespace socklab::models
