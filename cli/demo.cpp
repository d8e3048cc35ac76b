// cli/demo.cpp — `socklab demo`: the suite's main job on its defaults.
//
// With a display: the visualizer on the IOCP lesson, beside a live IOCP server (under Wine on Linux) with clients.
// Without one (or with --terminal): the same run told in the terminal — a live IOCP server (under Wine on Linux), driven
// by the load generator with every byte checked, then what its worker threads did, read from its trace: which
// waiter each packet woke (most recent = what Windows does, oldest = what Wine 8.0 does), how many ran at once.
#include "cli/demo.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "cli/commands.h"
#include "cli/locate.h"
#include "cli/server_run.h"
#include "cli/terminal.h"
#include "common/load/load.h"

#ifdef SOCKLAB_HAVE_VIZ_MODEL
#include "visualizer/model/runtime_note.h"
#endif

namespace socklab::cli {

Parsed<DemoRequest> parse_demo_command(const Arguments& arguments) {
    Parsed<DemoRequest> parsed;
    DemoRequest& request = parsed.request;
    Flags flags("demo");
    flags.set_synopsis(
        "[options]\n\nThe visualizer on a live IOCP server with clients; in a terminal without a "
        "display (or with\n--terminal), the same run told as text.");
    flags.toggle("terminal", request.terminal_only, "tell it in the terminal even when a display is available");
    flags.text("model", request.model, "the model to run");
    flags.count("clients", request.clients, 1, 2000, "clients of the load generator");
    flags.number("seconds", request.seconds, 1, 600, "how long the terminal demo drives the server");
    if (!flags.parse(arguments)) return parsed.stop(flags.early_exit());
    return parsed;
}

std::vector<std::string> demo_viewer_arguments(const DemoRequest& request) {
    return {"--lesson", "7", "--step", "6", "--start", request.model, "--connect", std::to_string(request.clients),
            "--pace",   "20"};
}

#ifdef SOCKLAB_HAVE_VIZ_MODEL
std::string threads_report(const trace::Trace& recorded, const viz::TraceModel& model, std::size_t width) {
    const viz::ConformanceFigures& figures = model.conformance();
    std::string text =
        "\nWhat the threads did (from the server's own trace, " + std::to_string(recorded.events.size()) + " events)\n";
    // "  wakes          ...": the label in a column, its text wrapped under itself to the width.
    auto entry = [&](const std::string& label, const std::string& words) {
        std::string head = "  " + label;
        head.resize(17, ' ');
        for (const std::string& line : wrap_words(words, width, head, std::string(17, ' '))) text += line + "\n";
    };
    entry("runtime", model.runtime() + ", " + model.info_value("processors") + " processors, concurrency value " +
                         model.info_value("concurrency"));
    std::map<std::uint16_t, unsigned> wakes_by_thread;
    for (const trace::Event& event : recorded.events)
        if (event.kind == trace::Kind::packet_dequeued) ++wakes_by_thread[event.thread];
    for (const auto& [thread, wakes] : wakes_by_thread) {
        const auto known = recorded.threads.find(thread);
        const std::string role = known != recorded.threads.end() ? known->second.role : "thread";
        char line[96];
        std::snprintf(line, sizeof line, "  %-8s %-3u took %6u packets  ", role.c_str(), thread, wakes);
        const unsigned bar = wakes * 40 / std::max(1u, static_cast<unsigned>(figures.wakes));
        text += line + std::string(bar, '#') + "\n";
    }
    if (figures.wakes_with_choice > 0) {
        char words[256];
        std::snprintf(words, sizeof words,
                      "%llu with two or more waiters: %llu took the most recent (LIFO), %llu the oldest (FIFO): "
                      "LIFO share %.0f%%",
                      static_cast<unsigned long long>(figures.wakes_with_choice),
                      static_cast<unsigned long long>(figures.lifo_wakes),
                      static_cast<unsigned long long>(figures.fifo_wakes), 100.0 * figures.lifo_share());
        entry("wakes", words);
    }
    entry("running", "at most " + std::to_string(figures.most_running) +
                         " workers at once, against a concurrency value of " + std::to_string(figures.concurrency));
    const std::string note = viz::runtime_note(model);
    if (!note.empty()) entry("note", note);
    return text;
}
#endif

namespace {

bool have_display() {
#ifdef _WIN32
    return true;  // a Windows session always has a desktop to open a window on
#endif
    const char* x = std::getenv("DISPLAY");
    const char* wayland = std::getenv("WAYLAND_DISPLAY");
    return (x && *x) || (wayland && *wayland);
}

#ifdef SOCKLAB_HAVE_VIZ_MODEL
// Reads the trace file twice over: as recorded (events and thread names) and into the visualizer's model.
void tell_what_the_threads_did(const std::string& trace_path) {
    trace::Trace recorded;
    std::string error;
    if (!trace::read_trace_file(trace_path, recorded, error)) {
        std::printf("(the trace could not be read: %s)\n", error.c_str());
        return;
    }
    viz::TraceModel model;
    trace::StreamDecoder decoder(model.decoder_handler());
    std::FILE* file = std::fopen(trace_path.c_str(), "rb");
    char buffer[65536];
    std::size_t got;
    while (file && (got = std::fread(buffer, 1, sizeof buffer, file)) > 0) decoder.feed(buffer, got);
    if (file) std::fclose(file);
    model.finish();
    std::fputs(threads_report(recorded, model, static_cast<std::size_t>(terminal_width())).c_str(), stdout);
    std::printf("\nOpen the trace in the visualizer:\n  ./socklab viz --replay %s\n", trace_path.c_str());
}
#endif

// Starts the model with a trace file and waits until it listens, its output shown and a spinner meanwhile. The
// port and the runtime it names; port 0 (after saying why) when it did not start.
Listening start_demo_server(ServerRun& server, const std::string& model, const std::string& trace_path) {
    std::string error;
    if (!server.start({model, "--port", "0", "--workers", "4", "--trace-file", trace_path}, error)) {
        std::fprintf(stderr, "socklab demo: %s\n", error.c_str());
        return {};
    }
    const bool terminal = is_terminal(stderr);
    const StartWait started = server.wait_until_listening(
        std::chrono::seconds(120),
        [&](const std::string& line) {
            if (terminal) std::fprintf(stderr, "\r%72s\r", "");
            std::fputs(line.c_str(), stdout);
        },
        [&](unsigned tick, double waited) {
            if (terminal) std::fputs(starting_line(tick, waited, false, server.where()).c_str(), stderr);
        });
    if (started.outcome == StartWait::Outcome::exited)
        std::fprintf(stderr, "socklab demo: the server stopped before listening\n");
    if (started.outcome == StartWait::Outcome::timed_out)
        std::fprintf(stderr, "\nsocklab demo: the server did not start within 120 s\n");
    if (!started.ok()) return {};
    Listening listening = started.listening;
    if (listening.runtime.empty()) listening.runtime = "this runtime";
    return listening;
}

// The load generator against the demo's server for `seconds`, a progress line meanwhile; then its figures.
load::Result drive_demo_load(const Listening& server, unsigned clients, double seconds) {
    const bool terminal = is_terminal(stderr);
    load::Options options;
    options.port = server.port;
    options.clients = clients;
    options.duration_seconds = seconds;
    options.line_size = 64;
    auto progress = [&](const load::Progress& now) {
        if (terminal)
            std::fprintf(stderr, "\r  %4.1f s  %llu lines echoed", now.elapsed_seconds,
                         static_cast<unsigned long long>(now.lines_echoed));
    };
    load::Result result = load::run(options, progress);
    if (terminal) std::fprintf(stderr, "\r%72s\r", "");
    std::printf("\nThe load, measured under %s%s\n", server.runtime.c_str(),
                server.runtime.find("Wine") != std::string::npos ? " (a Wine figure says nothing about Windows)" : "");
    std::fputs(load::describe(options, result).c_str(), stdout);
    return result;
}

// Without a display: a live server, driven by the load generator with every byte checked, then what its worker
// threads did, read from its trace.
int terminal_demo(const DemoRequest& request) {
    const std::string trace_path =
        (std::filesystem::temp_directory_path() / ("socklab-demo-" + request.model + ".sltrace")).string();
    char seconds_text[32];
    std::snprintf(seconds_text, sizeof seconds_text, "%.0f", request.seconds);
    for (const std::string& line :
         wrap_words("socklab demo: a live '" + request.model + "' server" + runs_where(request.model) + ", " +
                        std::to_string(request.clients) + " clients for " + seconds_text + " s, every byte checked",
                    static_cast<std::size_t>(terminal_width())))
        std::printf("%s\n", line.c_str());
    std::printf("\n");
    ServerRun server;
    const Listening listening = start_demo_server(server, request.model, trace_path);
    if (listening.port == 0) return 1;
    std::fflush(stdout);
    const load::Result result = drive_demo_load(listening, static_cast<unsigned>(request.clients), request.seconds);
    server.request_stop();
    const int status = server.wait([](const std::string& line) { std::fputs(line.c_str(), stdout); });
#ifdef SOCKLAB_HAVE_VIZ_MODEL
    tell_what_the_threads_did(trace_path);
#endif
    return result.ok() && status == 0 ? 0 : 1;
}

}  // namespace

int demo_command(const Arguments& arguments) {
    const Parsed<DemoRequest> parsed = parse_demo_command(arguments);
    if (parsed.early_exit) return parsed.early_exit->print();
    if (!parsed.request.terminal_only && have_display() && std::filesystem::exists(visualizer_program()))
        return viz_command(demo_viewer_arguments(parsed.request));
    return terminal_demo(parsed.request);
}

}  // namespace socklab::cli
