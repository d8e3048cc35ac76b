// cli/serve.cpp — `socklab serve <model> [server flags]`: run a model's server.
//
// The server is socklab-server: beside socklab.exe on Windows; on Linux, a Windows model's under Wine
// (cmake/wine-run), which takes a couple of seconds to start — longer the very first time, when it creates its
// prefix — so a progress line shows while we wait for the server to say it is listening; a Linux model's natively
// (build/linux/models/socklab-server). Ctrl-C (and SIGTERM on Linux) asks the server
// to shut down gracefully: we close its standard input, which it watches (--stop-on-stdin-eof), and wait for it
// to finish. The server runs in a process group of its own, so the Ctrl-C reaches only us.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/server_run.h"
#include "cli/terminal.h"

namespace socklab::cli {

namespace {

volatile std::sig_atomic_t g_stop_requested = 0;
void on_stop_signal(int) { g_stop_requested = 1; }

}  // namespace

int serve_command(const Arguments& arguments) {
    ServerRun server;
    std::string error;
    if (!server.start(arguments, error)) {
        std::fprintf(stderr, "socklab serve: %s\n", error.c_str());
        return 1;
    }
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    const bool terminal = is_terminal(stderr);
    const auto started = std::chrono::steady_clock::now();
    bool listening = false, stopping = false;
    auto forward = [&](const std::string& line) {
        if (!listening && listening_announcement(line)) {
            listening = true;
            if (terminal) std::fprintf(stderr, "\r%72s\r", "");
        }
        std::fputs(line.c_str(), stdout);
        std::fflush(stdout);
    };
    for (unsigned tick = 0; server.pump(100, forward); ++tick) {
        if (g_stop_requested && !stopping) {
            stopping = true;
            if (terminal && !listening) std::fprintf(stderr, "\r%72s\r", "");
            std::fprintf(stderr, "socklab serve: stopping the server gracefully...\n");
            server.request_stop();
        }
        if (!listening && !stopping && terminal) {
            const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            std::fputs(starting_line(tick, waited, true, server.where()).c_str(), stderr);
            std::fflush(stderr);
        }
    }
    if (terminal && !listening && !stopping) std::fprintf(stderr, "\r%72s\r", "");
    return server.wait(forward);
}

}  // namespace socklab::cli
