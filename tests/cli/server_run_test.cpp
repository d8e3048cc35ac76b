// tests/cli/server_run_test.cpp — how the CLI reads a server it started (cli/server_run.h): the port and runtime in
// its "listening on" line, which every command that starts a server waits for, and the line a terminal shows
// meanwhile.
#include "cli/server_run.h"
#include "tests/catch.hpp"

namespace cli = socklab::cli;

TEST_CASE("server run: the port and the runtime come from the server's listening line") {
    const auto wine = cli::listening_announcement("socklab-server: iocp listening on 127.0.0.1:40123 (Wine 8.0)\n");
    REQUIRE(wine);
    CHECK(wine->port == 40123);
    CHECK(wine->runtime == "Wine 8.0");
    const auto windows =
        cli::listening_announcement("socklab-server: select listening on 0.0.0.0:5000 (Windows 10.0.19045)");
    REQUIRE(windows);
    CHECK(windows->port == 5000);
    CHECK(windows->runtime == "Windows 10.0.19045");
    const auto unnamed = cli::listening_announcement("socklab-server: blocking listening on 127.0.0.1:6000\n");
    REQUIRE(unnamed);
    CHECK(unnamed->port == 6000);
    CHECK(unnamed->runtime == "");
    CHECK_FALSE(cli::listening_announcement("socklab-server: iocp stopped; 0 sockets, 0 per-I/O objects\n"));
    CHECK_FALSE(cli::listening_announcement(""));
}

TEST_CASE("server run: the starting line turns its spinner, says where the server runs, and why it is slow") {
    CHECK(cli::starting_line(0, 0.04, true) == "\r| starting the server under Wine... 0.0 s");
    CHECK(cli::starting_line(1, 2.44, true) == "\r/ starting the server under Wine... 2.4 s");
    CHECK(cli::starting_line(6, 7.0, true) ==
          "\r- starting the server under Wine... 7.0 s (the first run creates the Wine prefix)");
    CHECK(cli::starting_line(7, 7.0, false) == "\r\\ starting the server under Wine... 7.0 s");
}
