// model-tests: the conformance suite's entry point. `model-tests --model <id> [Catch2 options]`.
#include <cstdio>
#include <string>

#define CATCH_CONFIG_RUNNER
#include "common/net/socket.h"
#include "tests/catch.hpp"
#include "tests/models/model_under_test.h"

namespace {
const socklab::models::ModelInfo* g_model = nullptr;
}

const socklab::models::ModelInfo& model_under_test() { return *g_model; }

bool model_under_test_stalls_everyone_on_work() {
    // The models that serve every client from one thread (docs/design.md §5), and the two that serve a group of
    // clients per thread: a blocking /work stalls its whole group (event-select: up to 62 clients;
    // overlapped-event: up to 31), and in these tests, a handful of clients all in the first group, that is
    // everyone.
    const std::string id = g_model->id;
    return id == "select" || id == "async-select" || id == "event-select" || id == "overlapped-event" ||
           id == "completion-routine";
}

int main(int argc, char** argv) {
    socklab::net::Startup startup;
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
