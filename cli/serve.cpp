// cli/serve.cpp — `socklab serve <model> [server flags]`: run a model's server.
//
// On Windows the server runs directly. On Linux it runs under Wine (cmake/wine-run), which takes a couple of
// seconds to start — longer the very first time, when it creates its prefix — so a progress line shows while
// we wait for the server to say it is listening. Ctrl-C (SIGINT) or SIGTERM asks the server to shut down
// gracefully: we close its standard input, which it watches (--stop-on-stdin-eof), and wait for it to finish.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"
#include "cli/server_run.h"

#ifndef _WIN32
#include <unistd.h>
#else
#include <process.h>
#endif

namespace socklab::cli {

#ifndef _WIN32
namespace {

volatile std::sig_atomic_t g_stop_requested = 0;
void on_stop_signal(int) { g_stop_requested = 1; }

}  // namespace
#endif

#ifdef _WIN32
int serve_command(const Arguments& arguments) {
    std::string server = windows_program("socklab-server.exe");
    std::vector<const char*> argv{server.c_str()};
    for (const std::string& argument : arguments) argv.push_back(argument.c_str());
    argv.push_back(nullptr);
    // Ctrl-C reaches the server through the shared console; it shuts down gracefully on its own.
    std::signal(SIGINT, SIG_IGN);
    return static_cast<int>(_spawnv(_P_WAIT, server.c_str(), argv.data()));
}
#else
int serve_command(const Arguments& arguments) {
    ServerRun server;
    std::string error;
    if (!server.start(arguments, error)) {
        std::fprintf(stderr, "socklab serve: %s\n", error.c_str());
        return 1;
    }
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    const bool terminal = isatty(STDERR_FILENO);
    const auto started = std::chrono::steady_clock::now();
    bool listening = false, stopping = false;
    auto forward = [&](const std::string& line) {
        if (!listening && line.find(" listening on ") != std::string::npos) {
            listening = true;
            if (terminal) std::fprintf(stderr, "\r%72s\r", "");
        }
        std::fputs(line.c_str(), stdout);
        std::fflush(stdout);
    };
    const char spinner[] = "|/-\\";
    for (unsigned tick = 0; server.pump(100, forward); ++tick) {
        if (g_stop_requested && !stopping) {
            stopping = true;
            if (terminal && !listening) std::fprintf(stderr, "\r%72s\r", "");
            std::fprintf(stderr, "socklab serve: stopping the server gracefully...\n");
            server.request_stop();
        }
        if (!listening && !stopping && terminal) {
            double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            std::fprintf(stderr, "\r%c starting the server under Wine... %.1f s%s", spinner[tick % 4], waited,
                         waited > 6 ? " (the first run creates the Wine prefix)" : "");
            std::fflush(stderr);
        }
    }
    if (terminal && !listening && !stopping) std::fprintf(stderr, "\r%72s\r", "");
    return server.wait(forward);
}
#endif

}  // namespace socklab::cli
