// model-tests: the conformance suite's entry point. `model-tests --model <id> [Catch2 options]`.
#include <cstdio>
#include <string>

#define CATCH_CONFIG_RUNNER
#include "common/net/socket.h"
#include "tests/catch.hpp"
#include "tests/models/model_under_test.h"

namespace {
const socklab::models::ModelInfo* g_model = nullptr;
unsigned long g_open_file_limit = 0;  // 0: no such limit (Windows)
}  // namespace

const socklab::models::ModelInfo& model_under_test() { return *g_model; }

bool model_under_test_stalls_everyone_on_work() {
    // The models that serve every client from one thread (docs/design.md §5), and the two that serve a group of
    // clients per thread: a blocking /work stalls its whole group (event-select: up to 62 clients;
    // overlapped-event: up to 31), and in these tests, a handful of clients all in the first group, that is
    // everyone.
    const std::string id = g_model->id;
    return id == "select" || id == "async-select" || id == "event-select" || id == "overlapped-event" ||
           id == "completion-routine" || id == "poll" || id == "io-uring";
}

bool enough_open_files(unsigned long needed, std::string& why_not) {
    if (g_open_file_limit == 0 || g_open_file_limit >= needed) return true;
    why_not = "this test opens about " + std::to_string(needed) +
              " descriptors in one process (its clients and the server's sockets), and RLIMIT_NOFILE allows " +
              std::to_string(g_open_file_limit) + " even raised to its hard limit: raise the hard limit (ulimit -Hn " +
              std::to_string(needed) + " as root, or LimitNOFILE= for a service) and run it again";
    return false;
}

int main(int argc, char** argv) {
    socklab::net::Startup startup;
#ifndef _WIN32
    // The clients and the server share this process: 1,000 clients are 2,000 descriptors, twice the usual soft
    // limit of 1,024. Take what the hard limit allows; a test that needs more says so (enough_open_files).
    g_open_file_limit = socklab::posix::raise_open_file_limit();
#endif
    Catch::Session session;
    std::string model = "iocp";
    session.cli(session.cli() | Catch::clara::Opt(model, "model")["--model"]("the model to test (an id)"));
    if (int error = session.applyCommandLine(argc, argv)) return error;
    g_model = socklab::models::find_model(model);
    if (!g_model) {
        std::fprintf(stderr, "model-tests: no model '%s'\n", model.c_str());
        return 2;
    }
    return session.run();
}
