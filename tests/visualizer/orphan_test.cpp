// tests/visualizer/orphan_test.cpp — no orphans: the servers a viewer started stop when it dies, however it
// dies. socklab-viz starts a live IOCP server under Wine (socklab-server.exe), the test SIGKILLs the viewer once
// the server listens, then requires that no process of that server (found by its unique --port) remains within
// 20 s, and that nothing listens on the port.
//
// Needs the mingw build of the models and a display or xvfb-run.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/catch.hpp"
#include "tests/visualizer/run_command.h"
#include "visualizer/model/server_process.h"

namespace {

using viz_tests::free_port;

using viz_tests::run;
namespace fs = std::filesystem;

// The processes whose command line matches `pattern` (pgrep -f), one "pid command" a line; empty when none.
std::string processes(const std::string& pattern) {
    std::string output;
    run("pgrep -af -- '" + pattern + "' 2>/dev/null", output);
    return output;
}

}  // namespace

TEST_CASE("a viewer killed with SIGKILL leaves no server running", "[viz][wine][xvfb][orphans]") {
    const fs::path server = fs::path(SOCKLAB_SOURCE_ROOT) / "build/mingw/bin/socklab-server.exe";
    if (!fs::exists(server)) FAIL("the models are not built (" << server.string() << "): ./socklab build makes them");
    std::string prefix;
    if (!viz_tests::display_prefix(prefix)) FAIL("no DISPLAY and no xvfb-run: ./socklab test installs xvfb");

    const std::uint16_t port = free_port();
    REQUIRE(port != 0);
    const std::string port_text = std::to_string(port);
    const std::string viewer_pattern = "^[^ ]*socklab-viz --start iocp --port " + port_text + " ";
    // "[s]": the pattern must not match the command line of the `sh -c pgrep ...` that searches for it.
    const std::string server_pattern = "[s]ocklab-server\\.exe iocp --port " + port_text + " ";
    std::string ignored;
    // In the background; --seconds bounds it should the kill below never come.
    const std::string command = prefix + SOCKLAB_VIZ_EXECUTABLE + " --start iocp --port " + port_text +
                                " --seconds 90 --size 1280x720 >/dev/null 2>&1 &";
    INFO(command);
    REQUIRE(std::system(command.c_str()) == 0);

    // The server listens (Wine starts in a few seconds; the first run creates the prefix): at most 60 s.
    bool listening = false;
    for (int tries = 0; tries < 240 && !listening; ++tries) {
        listening = socklab::viz::port_in_use(port);
        if (!listening) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    INFO(processes(server_pattern));
    REQUIRE(listening);
    const std::string viewer = processes(viewer_pattern);
    INFO("viewer: " << viewer);
    REQUIRE(!viewer.empty());
    CHECK(!processes(server_pattern).empty());  // the server is there before the kill

    const pid_t viewer_pid = static_cast<pid_t>(std::atol(viewer.c_str()));
    REQUIRE(viewer_pid > 0);
    REQUIRE(::kill(viewer_pid, SIGKILL) == 0);

    // Within 20 s: no socklab-server.exe for this port, and nothing listening on it.
    std::string left = processes(server_pattern);
    for (int tries = 0; tries < 80 && (!left.empty() || socklab::viz::port_in_use(port)); ++tries) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        left = processes(server_pattern);
    }
    INFO("left running: " << left);
    CHECK(left.empty());
    CHECK(!socklab::viz::port_in_use(port));
    if (!left.empty()) run("pkill -KILL -f -- '" + server_pattern + "'", ignored);  // this test's own leftovers
}
