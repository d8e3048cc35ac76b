// cli/demo.cpp — `socklab demo`: the suite's main job on its defaults.
//
// With a display: the visualizer on the IOCP lesson, beside a live IOCP server (under Wine on Linux) with clients.
// Without one (or with --terminal): the same run told in the terminal — a live IOCP server (under Wine on Linux), driven
// by the load generator with every byte checked, then what its worker threads did, read from its trace: which
// waiter each packet woke (most recent = what Windows does, oldest = what Wine 8.0 does), how many ran at once.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/server_run.h"
#include "cli/terminal.h"
#include "common/load/load.h"
#include "common/process/child_process.h"
#include "common/trace/reader.h"

#ifdef SOCKLAB_HAVE_VIZ_MODEL
#include "visualizer/model/runtime_note.h"
#include "visualizer/model/trace_model.h"
#endif

namespace socklab::cli {

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

    const viz::ConformanceFigures& figures = model.conformance();
    std::printf("\nWhat the threads did (from the server's own trace, %zu events)\n", recorded.events.size());
    const std::size_t width = static_cast<std::size_t>(terminal_width());
    // "  wakes          ...": the label in a column, its text wrapped under itself to the terminal's width.
    auto print_entry = [width](const std::string& label, const std::string& text) {
        std::string head = "  " + label;
        head.resize(17, ' ');
        for (const std::string& line : wrap_words(text, width, head, std::string(17, ' '))) std::printf("%s\n", line.c_str());
    };
    print_entry("runtime", model.runtime() + ", " + model.info_value("processors") + " processors, concurrency value " +
                               model.info_value("concurrency"));
    std::map<std::uint16_t, unsigned> wakes_by_thread;
    for (const trace::Event& event : recorded.events)
        if (event.kind == trace::Kind::packet_dequeued) ++wakes_by_thread[event.thread];
    for (auto& [thread, wakes] : wakes_by_thread) {
        std::string role = recorded.threads.count(thread) ? recorded.threads[thread].role : "thread";
        std::printf("  %-8s %-3u took %6u packets  ", role.c_str(), thread, wakes);
        unsigned bar = wakes * 40 / std::max(1u, static_cast<unsigned>(figures.wakes));
        std::printf("%s\n", std::string(bar, '#').c_str());
    }
    if (figures.wakes_with_choice > 0) {
        char text[256];
        std::snprintf(text, sizeof text,
                      "%llu with two or more waiters: %llu took the most recent (LIFO), %llu the oldest (FIFO): "
                      "LIFO share %.0f%%",
                      static_cast<unsigned long long>(figures.wakes_with_choice),
                      static_cast<unsigned long long>(figures.lifo_wakes),
                      static_cast<unsigned long long>(figures.fifo_wakes), 100.0 * figures.lifo_share());
        print_entry("wakes", text);
    }
    print_entry("running", "at most " + std::to_string(figures.most_running) +
                               " workers at once, against a concurrency value of " + std::to_string(figures.concurrency));
    std::string note = viz::runtime_note(model);
    if (!note.empty()) print_entry("note", note);
    std::printf("\nOpen the trace in the visualizer:\n  ./socklab viz --replay %s\n", trace_path.c_str());
}
#endif

int terminal_demo(const std::string& model, unsigned clients, double seconds) {
    std::string trace_path =
        (std::filesystem::temp_directory_path() / ("socklab-demo-" + model + ".sltrace")).string();
    char seconds_text[32];
    std::snprintf(seconds_text, sizeof seconds_text, "%.0f", seconds);
    for (const std::string& line : wrap_words("socklab demo: a live '" + model + "' server" + kUnderWine + ", " +
                                                  std::to_string(clients) + " clients for " + seconds_text +
                                                  " s, every byte checked",
                                              static_cast<std::size_t>(terminal_width())))
        std::printf("%s\n", line.c_str());
    std::printf("\n");
    ServerRun server;
    std::string error;
    if (!server.start({model, "--port", "0", "--workers", "4", "--trace-file", trace_path}, error)) {
        std::fprintf(stderr, "socklab demo: %s\n", error.c_str());
        return 1;
    }
    std::uint16_t port = 0;
    std::string runtime = "this runtime";
    auto started = std::chrono::steady_clock::now();
    const bool terminal = is_terminal(stderr);
    auto watch = [&](const std::string& line) {
        if (terminal) std::fprintf(stderr, "\r%72s\r", "");
        std::fputs(line.c_str(), stdout);
        auto at = line.find(" listening on ");
        if (at != std::string::npos) {
            auto colon = line.find(':', at);
            port = static_cast<std::uint16_t>(std::atoi(line.c_str() + colon + 1));
            auto open = line.rfind('('), close = line.rfind(')');  // "... (Wine 8.0)"
            if (open != std::string::npos && close > open) runtime = line.substr(open + 1, close - open - 1);
        }
    };
    for (unsigned tick = 0; port == 0; ++tick) {
        if (!server.pump(100, watch)) {
            std::fprintf(stderr, "socklab demo: the server stopped before listening\n");
            return 1;
        }
        double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (terminal && port == 0)
            std::fprintf(stderr, "\r%c starting the server%s... %.1f s", "|/-\\"[tick % 4], kUnderWine, waited);
        if (waited > 120) {
            std::fprintf(stderr, "\nsocklab demo: the server did not start within 120 s\n");
            return 1;
        }
    }
    std::fflush(stdout);
    load::Options options;
    options.port = port;
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
    std::printf("\nThe load, measured under %s%s\n", runtime.c_str(),
                runtime.find("Wine") != std::string::npos ? " (a Wine figure says nothing about Windows)" : "");
    std::fputs(load::describe(options, result).c_str(), stdout);
    server.request_stop();
    int status = server.wait([](const std::string& line) { std::fputs(line.c_str(), stdout); });
#ifdef SOCKLAB_HAVE_VIZ_MODEL
    tell_what_the_threads_did(trace_path);
#endif
    return result.ok() && status == 0 ? 0 : 1;
}

}  // namespace

int demo_command(const Arguments& arguments) {
    bool terminal_only = false;
    std::string model = "iocp";
    std::uint64_t clients = 16;
    double seconds = 5;
    Flags flags("demo");
    flags.set_synopsis("[options]\n\nThe visualizer on a live IOCP server with clients; in a terminal without a "
                       "display (or with\n--terminal), the same run told as text.");
    flags.toggle("terminal", terminal_only, "tell it in the terminal even when a display is available");
    flags.text("model", model, "the model to run");
    flags.count("clients", clients, 1, 2000, "clients of the load generator");
    flags.number("seconds", seconds, 1, 600, "how long the terminal demo drives the server");
    if (!flags.parse(arguments)) return flags.exit_code();
#ifdef _WIN32
    const std::string viz = (std::filesystem::path(process::this_program_folder()) / "socklab-viz.exe").string();
#else
    const std::string viz = repository_root() + "/build/linux/visualizer/socklab-viz";
#endif
    if (!terminal_only && have_display() && std::filesystem::exists(viz)) {
        // The IOCP lesson at its live step, beside a live server with a slow, steady trickle of lines, so a class
        // can follow each packet waking a worker.
        return viz_command({"--lesson", "7", "--step", "6", "--start", model, "--connect", std::to_string(clients),
                            "--pace", "20"});
    }
    return terminal_demo(model, static_cast<unsigned>(clients), seconds);
}

}  // namespace socklab::cli
