// models/server_main.cpp — socklab-server: runs any model by its id.
//
//   socklab-server <model> [--port N] [--listen ADDRESS] [--workers N] [--concurrency N] [--max-line N]
//                          [--trace-file FILE] [--trace-port N] [--accepts N] [--accept-data]
//                          [--stop-on-stdin-eof]
//   socklab-server --list
//
// Ctrl-C (or Ctrl-Break, or closing the console; on Linux SIGINT or SIGTERM) shuts the server down gracefully.
// --stop-on-stdin-eof does the same when standard input reaches its end: that is how the socklab CLI stops a server
// it runs (under Wine, or natively).
//
// It builds for Windows with the eight Winsock models and for Linux with the native ones (models/CMakeLists.txt);
// what differs — socket library start-up, stop signals, the runtime's name — is in the two blocks below.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#ifndef _WIN32
#include <signal.h>
#include <cerrno>
#include <unistd.h>

#include <thread>
#endif

#include "common/trace/recorder.h"
#include "models/model.h"

namespace {

using socklab::models::ModelInfo;
using socklab::models::ServerControl;
using socklab::models::ServerOptions;
#ifdef _WIN32
namespace platform = socklab::win;
#else
namespace platform = socklab::posix;
#endif

ServerControl* g_control = nullptr;

#ifdef _WIN32
BOOL WINAPI on_console_event(DWORD) {
    if (g_control) g_control->request_stop();
    return TRUE;  // handled: the model shuts down and main returns
}

DWORD WINAPI watch_stdin(LPVOID) {
    char buffer[256];
    DWORD read = 0;
    HANDLE input = GetStdHandle(STD_INPUT_HANDLE);
    while (ReadFile(input, buffer, sizeof buffer, &read, nullptr) && read > 0) {}
    if (g_control) g_control->request_stop();
    return 0;
}
#else
// A signal handler may only call async-signal-safe functions: request_stop is one write() to the stop eventfd.
extern "C" void on_stop_signal(int) {
    if (g_control) g_control->request_stop();
}

void watch_stdin() {
    char buffer[256];
    ssize_t got;
    while ((got = read(STDIN_FILENO, buffer, sizeof buffer)) > 0 || (got < 0 && errno == EINTR)) {}
    if (g_control) g_control->request_stop();
}
#endif

void print_usage(std::FILE* out) {
    std::fprintf(out,
                 "usage: socklab-server <model> [options]\n"
                 "       socklab-server --list\n\n"
                 "Serves the socklab line protocol with one of the socket I/O models of this platform.\n\n"
                 "options:\n"
                 "  --port N             TCP port (default 5000; 0 picks a free one)\n"
                 "  --listen ADDRESS     address to bind (default 127.0.0.1; 0.0.0.0 for a classroom network)\n"
                 "  --workers N          worker threads of pooled models (default: twice the processors)\n"
                 "  --concurrency N      completion-port concurrency value (default 0: the processors)\n"
                 "  --max-line N         longest line accepted, in bytes (default 4096)\n"
                 "  --trace-file FILE    record a trace to FILE\n"
                 "  --trace-port N       serve the live trace to viewers on 127.0.0.1:N\n"
                 "  --accepts N          iocp-acceptex: AcceptEx calls kept posted (default 8)\n"
                 "  --accept-data        iocp-acceptex: AcceptEx waits for the client's first bytes\n"
                 "  --idle-seconds N     iocp-acceptex --accept-data: close clients silent this long (default 3)\n"
                 "  --stop-on-stdin-eof  shut down when standard input ends\n"
                 "  --list               list the models\n");
}

bool parse_number(const char* text, unsigned long max, unsigned long& value) {
    char* end = nullptr;
    value = std::strtoul(text, &end, 10);
    return end != text && *end == '\0' && value <= max && text[0] != '-';
}

}  // namespace

int main(int argc, char** argv) {
    // ---- setup: arguments ----
    ServerOptions options;
    std::string trace_file;
    long trace_port = -1;
    bool stop_on_stdin_eof = false;
    for (int i = 1; i < argc; ++i) {
        std::string argument = argv[i];
        auto value = [&](const char* name) -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "socklab-server: %s needs a value\n", name);
                std::exit(2);
            }
            return argv[++i];
        };
        auto number = [&](const char* name, unsigned long max) -> unsigned long {
            const char* text = value(name);
            unsigned long parsed;
            if (!parse_number(text, max, parsed)) {
                std::fprintf(stderr, "socklab-server: %s wants a number from 0 to %lu, not '%s'\n", name, max, text);
                std::exit(2);
            }
            return parsed;
        };
        if (argument == "--help" || argument == "-h") {
            print_usage(stdout);
            return 0;
        } else if (argument == "--list") {
            for (const ModelInfo& model : socklab::models::all_models())
                std::printf("%-20s %-32s %s\n", model.id, model.file, model.waits_on);
            return 0;
        } else if (argument == "--port") {
            options.port = static_cast<std::uint16_t>(number("--port", 65535));
        } else if (argument == "--listen") {
            options.listen_address = value("--listen");
        } else if (argument == "--workers") {
            options.workers = static_cast<unsigned>(number("--workers", 1024));
        } else if (argument == "--concurrency") {
            options.concurrency = static_cast<unsigned>(number("--concurrency", 1024));
        } else if (argument == "--max-line") {
            options.max_line = number("--max-line", 1 << 20);
            if (options.max_line == 0) options.max_line = 1;
        } else if (argument == "--trace-file") {
            trace_file = value("--trace-file");
        } else if (argument == "--trace-port") {
            trace_port = static_cast<long>(number("--trace-port", 65535));
        } else if (argument == "--accepts") {
            options.accepts = static_cast<unsigned>(number("--accepts", 4096));
            if (options.accepts == 0) options.accepts = 1;
        } else if (argument == "--accept-data") {
            options.accept_data = true;
        } else if (argument == "--idle-seconds") {
            options.idle_seconds = static_cast<unsigned>(number("--idle-seconds", 3600));
        } else if (argument == "--stop-on-stdin-eof") {
            stop_on_stdin_eof = true;
        } else if (!argument.empty() && argument[0] == '-') {
            std::fprintf(stderr, "socklab-server: unknown option '%s' (see --help)\n", argument.c_str());
            return 2;
        } else if (options.model.empty()) {
            options.model = argument;
        } else {
            std::fprintf(stderr, "socklab-server: one model only ('%s' and '%s')\n", options.model.c_str(),
                         argument.c_str());
            return 2;
        }
    }
    if (options.model.empty()) {
        print_usage(stderr);
        return 2;
    }
    const ModelInfo* model = socklab::models::find_model(options.model);
    if (!model) {
        std::fprintf(stderr, "socklab-server: no model '%s'; the models are:", options.model.c_str());
        for (const ModelInfo& known : socklab::models::all_models()) std::fprintf(stderr, " %s", known.id);
        std::fprintf(stderr, "\n");
        return 2;
    }

    // ---- setup: the socket library, tracing, stop signals ----
#ifdef _WIN32
    WSADATA wsa;
    if (int error = WSAStartup(MAKEWORD(2, 2), &wsa)) {
        std::fprintf(stderr, "socklab-server: WSAStartup failed: %s\n", socklab::win::error_text(error).c_str());
        return 1;
    }
#else
    // A server of 1,000 clients needs more descriptors than the usual soft limit of 1,024: take what is allowed.
    constexpr unsigned long kDescriptorsFor1000Clients = 1100;
    if (unsigned long limit = socklab::posix::raise_open_file_limit(); limit < kDescriptorsFor1000Clients)
        std::fprintf(
            stderr,
            "socklab-server: only %lu open files allowed (RLIMIT_NOFILE, hard limit): fewer than 1,000 clients "
            "can connect at once; raise it with ulimit -Hn\n",
            limit);
    signal(SIGPIPE, SIG_IGN);  // the models send with MSG_NOSIGNAL; this covers any other write to a closed socket
#endif
    socklab::trace::RecorderOptions recorder;
    try {
        if (!trace_file.empty()) recorder.sinks.push_back(socklab::trace::make_file_sink(trace_file));
        if (trace_port >= 0)
            recorder.sinks.push_back(
                socklab::trace::make_live_sink("127.0.0.1", static_cast<std::uint16_t>(trace_port)));
    } catch (const std::exception& error) {
        std::fprintf(stderr, "socklab-server: %s\n", error.what());
        return 1;
    }
    bool tracing = !recorder.sinks.empty();
    if (tracing) socklab::trace::start(std::move(recorder));
    socklab::trace::gate_reset();

    socklab::protocol::set_process_figures_source([] { return platform::process_figures(); });
    ServerControl control;
    g_control = &control;
#ifdef _WIN32
    SetConsoleCtrlHandler(on_console_event, TRUE);
    if (stop_on_stdin_eof) CloseHandle(CreateThread(nullptr, 0, watch_stdin, nullptr, 0, nullptr));
#else
    struct sigaction on_stop {};
    on_stop.sa_handler = on_stop_signal;
    sigemptyset(&on_stop.sa_mask);
    sigaction(SIGINT, &on_stop, nullptr);
    sigaction(SIGTERM, &on_stop, nullptr);
    // Detached: it may still be blocked in read() when main returns, and the process's end takes it.
    if (stop_on_stdin_eof) std::thread(watch_stdin).detach();
#endif
    control.on_ready = [&](std::uint16_t port) {
        std::printf("socklab-server: %s listening on %s:%u", model->id, options.listen_address.c_str(), port);
        if (socklab::trace::live_port()) std::printf(", live trace on 127.0.0.1:%u", socklab::trace::live_port());
        std::printf(" (%s)\n", platform::runtime_name().c_str());
        std::fflush(stdout);
    };

    // ---- main loop: the model runs until stopped ----
    int result = model->run(options, control);

    // ---- cleanup ----
    socklab::trace::gate_shutdown();
    if (tracing) socklab::trace::stop();
    auto& accounting = socklab::server::accounting();
    std::printf("socklab-server: stopped; %ld sockets, %ld per-I/O objects, %ld connections left\n",
                accounting.sockets.load(), accounting.io_objects.load(), accounting.connections.load());
    std::fflush(stdout);
#ifdef _WIN32
    WSACleanup();
#else
    g_control = nullptr;  // a late signal finds no control to stop
#endif
    return result;
}
