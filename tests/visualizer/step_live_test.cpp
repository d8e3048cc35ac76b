// tests/visualizer/step_live_test.cpp — `--step N` on a live, gated IOCP server under Wine releases exactly N
// held workers, one at a time, each of which then runs: the trace socklab-viz records (--record) holds N gate
// releases, and after each the released thread does something before it is held again.
//
// Needs the mingw build of the models and a display or xvfb-run; without either it fails and says what is
// missing, like the other window tests.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "tests/catch.hpp"
#include "tests/visualizer/run_command.h"
#include "visualizer/model/traced_run.h"

using namespace socklab::viz;
using socklab::trace::Kind;

namespace {

using viz_tests::run;

namespace fs = std::filesystem;

}  // namespace

TEST_CASE("stepping 3 times on a gated live IOCP server releases three workers and each runs",
          "[viz][keys][wine][xvfb]") {
    const fs::path server = fs::path(SOCKLAB_SOURCE_ROOT) / "build/mingw/bin/socklab-server.exe";
    if (!fs::exists(server)) {
        FAIL("the models are not built (" << server.string() << "): ./socklab build makes them");
    }
    std::string prefix, ignored;
    if (!(std::getenv("DISPLAY") && *std::getenv("DISPLAY"))) {
        if (run("command -v xvfb-run >/dev/null 2>&1", ignored) != 0) {
            FAIL("no DISPLAY and no xvfb-run: ./socklab test installs xvfb");
        }
        prefix = "xvfb-run -a -s '-screen 0 1280x720x24' ";
    }
    const fs::path folder = fs::temp_directory_path() / ("socklab-viz-step-" + std::to_string(::getpid()));
    fs::create_directories(folder);
    const std::string trace = (folder / "stepped.sltrace").string();
    // Four clients send 20 lines a second in all: every worker is soon held at the gate, and stays held
    // unless a step releases it.
    const std::string command = prefix + SOCKLAB_VIZ_EXECUTABLE + " --start iocp --gate --connect 4 --pace 20" +
                                " --step 3 --seconds 4 --record " + trace + " --size 1280x720 2>&1";
    INFO(command);
    std::string output;
    const int status = run(command, output);
    INFO(output);
    REQUIRE(status == 0);
    CHECK(output.find("not applied") == std::string::npos);

    std::string error;
    auto run = TracedRun::open_replay(trace, error);
    INFO(error);
    REQUIRE(run);
    const auto& events = run->trace_model().events();
    std::vector<std::size_t> releases;
    for (std::size_t i = 0; i < events.size(); ++i)
        if (events[i].kind == Kind::gate_release) releases.push_back(i);
    CHECK(releases.size() == 3);
    for (std::size_t release : releases) {
        // The released worker does something after the release (handles its packet, waits again).
        bool ran = false;
        for (std::size_t i = release + 1; i < events.size() && !ran; ++i)
            ran = events[i].thread == events[release].thread && events[i].kind != Kind::gate_hold;
        CHECK(ran);
    }
    fs::remove_all(folder);
}
