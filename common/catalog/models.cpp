// common/catalog/models.cpp — see models.h.
#include "common/catalog/models.h"

namespace socklab::catalog {

const std::vector<KnownModel>& known_models() {
    constexpr Platform windows_model = Platform::Windows, linux_model = Platform::Linux;
    static const std::vector<KnownModel> models = {
        {"blocking", "models/00_blocking.cpp", windows_model, "accept() and recv() in a thread per client"},
        {"select", "models/01_select.cpp", windows_model, "select() over every socket in one thread"},
        {"async-select", "models/02_async_select.cpp", windows_model, "window messages (WSAAsyncSelect) in one thread"},
        {"event-select", "models/03_event_select.cpp", windows_model,
         "WSAWaitForMultipleEvents, a thread per 62 sockets"},
        {"overlapped-event", "models/04_overlapped_event.cpp", windows_model,
         "WSAWaitForMultipleEvents on an event per overlapped I/O, in groups of 31 clients per thread"},
        {"completion-routine", "models/05_completion_routine.cpp", windows_model,
         "SleepEx alertable on one I/O thread; completion routines run as APCs"},
        {"iocp", "models/06_iocp.cpp", windows_model,
         "GetQueuedCompletionStatus in a worker pool; accept() in one thread"},
        {"iocp-acceptex", "models/07_iocp_acceptex.cpp", windows_model,
         "GetQueuedCompletionStatus in a worker pool; AcceptEx calls kept posted"},
        {"poll", "models/08_poll.cpp", linux_model,
         "poll() over every socket in one thread; select without FD_SETSIZE"},
        {"epoll", "models/09_epoll.cpp", linux_model,
         "epoll_wait in a worker pool on one epoll instance, EPOLLONESHOT re-armed"},
        {"io-uring", "models/10_io_uring.cpp", linux_model,
         "io_uring_submit_and_wait in one thread: receives, sends and a multishot accept submitted, completions "
         "reaped"},
    };
    return models;
}

const KnownModel* find_model(std::string_view id) {
    for (const KnownModel& model : known_models())
        if (id == model.id) return &model;
    return nullptr;
}

std::vector<std::string> model_ids(Platform platform) {
    std::vector<std::string> ids;
    for (const KnownModel& model : known_models())
        if (model.platform == platform) ids.push_back(model.id);
    return ids;
}

const char* platform_name(Platform platform) { return platform == Platform::Windows ? "Windows" : "Linux"; }

HowItRuns how_it_runs(const KnownModel& model) {
#ifdef _WIN32
    return model.platform == Platform::Windows ? HowItRuns::natively : HowItRuns::not_here;
#else
    return model.platform == Platform::Linux ? HowItRuns::natively : HowItRuns::under_wine;
#endif
}

const char* how_it_runs_words(HowItRuns how) {
    switch (how) {
        case HowItRuns::natively:
            return "natively";
        case HowItRuns::under_wine:
            return "under Wine";
        case HowItRuns::not_here:
            break;
    }
    return "not on this platform";
}

std::string runs_where(std::string_view id) {
    const KnownModel* model = find_model(id);
#ifdef _WIN32
    return model && model->platform == Platform::Linux ? " (a Linux model)" : "";
#else
    return model && model->platform == Platform::Linux ? " natively" : " under Wine";
#endif
}

const KnownModel* model_in(const std::vector<std::string>& server_arguments) {
    for (const std::string& argument : server_arguments)
        if (const KnownModel* model = find_model(argument)) return model;
    return nullptr;
}

std::vector<std::string> ids_that_run_here() {
    std::vector<std::string> ids;
    for (const KnownModel& model : known_models())
        if (how_it_runs(model) != HowItRuns::not_here) ids.push_back(model.id);
    return ids;
}

}  // namespace socklab::catalog
