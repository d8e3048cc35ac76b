// cli/compare.cpp — `socklab compare [model...]`: the same load against each model, one table.
//
// Each model's server is started the same way (under Wine on Linux), driven by the same load generator with
// every byte checked, and watched through /stats meanwhile (threads, working set, CPU time, connections), then
// stopped gracefully. The table says where it was measured: a Wine figure compares models with each other and
// says nothing about Windows.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/server_run.h"
#include "common/load/load.h"
#include "common/net/socket.h"

#ifndef _WIN32
#include <unistd.h>
#endif

namespace socklab::cli {

namespace {

const std::vector<std::string> kAllModels = {"blocking",         "select",             "async-select",
                                             "event-select",     "overlapped-event",   "completion-routine",
                                             "iocp",             "iocp-acceptex"};

struct ModelRun {
    std::string model;
    bool started = false;
    std::string failure;  // why it could not be measured
    load::Result load;
    unsigned threads_most = 0;
    std::uint64_t connections_most = 0;
    double peak_working_set_mib = 0;
    double cpu_seconds = 0;
    double traced_lines_per_second = -1;  // --tracing-overhead: the same load with the recorder on
};

// "OK stats model=iocp connections=3 ... threads=8 cpu_ms=20" → {"model": "iocp", ...}
std::map<std::string, std::string> parse_stats(const std::string& line) {
    std::map<std::string, std::string> fields;
    std::istringstream words(line);
    std::string word;
    while (words >> word)
        if (auto equals = word.find('='); equals != std::string::npos)
            fields[word.substr(0, equals)] = word.substr(equals + 1);
    return fields;
}

// Asks a server for /stats on a connection of its own, every quarter second, keeping the largest figures.
class StatsWatcher {
public:
    StatsWatcher(std::uint16_t port, ModelRun& run) : run_(run) {
        std::string error;
        socket_ = net::connect_tcp("127.0.0.1", port, error);
        if (socket_.valid()) thread_ = std::thread([this] { watch(); });
    }
    ~StatsWatcher() { finish(); }
    void finish() {
        if (!thread_.joinable()) return;
        stop_ = true;
        thread_.join();
        sample();  // the last word: CPU time and peak memory at the end of the run
    }

private:
    void watch() {
        while (!stop_) {
            sample();
            for (int i = 0; i < 25 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    void sample() {
        if (!net::send_all(socket_, "/stats\n", 7)) return;
        std::string line;
        char byte;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (line.empty() || line.back() != '\n') {
            net::PollEntry entry{socket_.native(), net::poll_in(), 0};
            if (std::chrono::steady_clock::now() > deadline) return;
            if (net::poll(&entry, 1, 50) <= 0) continue;
            if (net::receive_some(socket_, &byte, 1) != 1) return;
            line.push_back(byte);
        }
        auto fields = parse_stats(line);
        auto number = [&](const char* key) { return fields.count(key) ? std::stod(fields[key]) : 0.0; };
        run_.threads_most = std::max(run_.threads_most, static_cast<unsigned>(number("threads")));
        // The watcher's own connection is not the load's: leave it out.
        run_.connections_most = std::max<std::uint64_t>(run_.connections_most,
                                                        static_cast<std::uint64_t>(std::max(0.0, number("most") - 1)));
        run_.peak_working_set_mib = std::max(run_.peak_working_set_mib, number("peak_working_set_kb") / 1024.0);
        run_.cpu_seconds = std::max(run_.cpu_seconds, number("cpu_ms") / 1000.0);
    }

    ModelRun& run_;
    net::Socket socket_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
};

[[maybe_unused]] std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

}  // namespace

#ifdef _WIN32
int compare_command(const Arguments&) {
    std::fprintf(stderr, "socklab compare: runs on Linux (under Wine) for now; on Windows run socklab-server and "
                         "socklab load by hand\n");
    return 1;
}
#else
int compare_command(const Arguments& arguments) {
    load::Options options;
    options.duration_seconds = 5;
    std::uint64_t clients = 64, size = 64, lines = 0;
    double duration = options.duration_seconds;
    std::string work, format = "md", out_path;
    Flags flags("compare");
    flags.set_synopsis("[model...] [options]\n\nRuns each model (all eight when none is named) under the same load, "
                       "checks every byte,\nand prints one table. Exits 1 if any model returned a wrong byte or failed.");
    flags.count("clients", clients, 1, 5000, "concurrent clients");
    flags.count("lines", lines, 0, 1u << 30, "lines per client; 0 = send for --duration");
    flags.count("size", size, 2, 1 << 20, "bytes per line, newline included");
    flags.number("duration", duration, 0.5, 3600, "seconds of load per model");
    flags.text("work", work, "a slow-handler mix CPU_MS,BLOCK_MS,EVERY: every EVERY-th line is /work CPU_MS BLOCK_MS");
    flags.text("format", format, "md, csv or json");
    flags.text("out", out_path, "write the table to this file too");
    bool tracing_overhead = false;
    flags.toggle("tracing-overhead", tracing_overhead,
                 "run each model twice, recording off and on (--trace-file), and show what tracing costs");
    std::vector<std::string> models;
    if (!flags.parse(arguments, &models)) return flags.exit_code();
    if (format != "md" && format != "csv" && format != "json")
        return usage_error("compare", "--format is md, csv or json, not '" + format + "'");
    if (models.empty()) models = kAllModels;
    for (const std::string& model : models)
        if (std::find(kAllModels.begin(), kAllModels.end(), model) == kAllModels.end())
            return usage_error("compare", "no model '" + model + "' (see socklab models)");
    options.clients = static_cast<unsigned>(clients);
    options.line_size = static_cast<unsigned>(size);
    options.lines_per_client = lines;
    options.duration_seconds = duration;
    if (!work.empty()) {
        unsigned cpu = 0, block = 0, every = 0;
        if (std::sscanf(work.c_str(), "%u,%u,%u", &cpu, &block, &every) != 3 || every == 0)
            return usage_error("compare", "--work wants CPU_MS,BLOCK_MS,EVERY, e.g. 0,50,10, not '" + work + "'");
        options.work_cpu_ms = cpu;
        options.work_block_ms = block;
        options.work_every = every;
    }

    const bool terminal = isatty(STDERR_FILENO);
    std::string runtime = "unknown runtime";
    std::vector<ModelRun> runs;
    for (std::size_t index = 0; index < models.size(); ++index) {
        const std::string model = models[index];
        // One measurement: start the server, drive it, watch /stats, stop it.
        auto measure = [&](bool traced) {
            ModelRun run;
            run.model = model;
            auto progress_line = [&](const std::string& what, double fraction) {
                if (!terminal) return;
                int filled = static_cast<int>(fraction * 30);
                std::fprintf(stderr, "\r[%-30s] %zu/%zu %-18s %-28s", std::string(std::max(0, filled), '#').c_str(),
                             index + 1, models.size(), (model + (traced ? " +trace" : "")).c_str(), what.c_str());
                std::fflush(stderr);
            };
            progress_line("starting under Wine", 0);
            std::vector<std::string> server_arguments{model, "--port", "0"};
            std::string trace_path = "/tmp/socklab-compare-" + model + ".sltrace";
            if (traced) server_arguments.insert(server_arguments.end(), {"--trace-file", trace_path});
            ServerRun server;
            std::string error;
            std::uint16_t port = 0;
            if (server.start(server_arguments, error)) {
                auto started = std::chrono::steady_clock::now();
                while (port == 0 && server.pump(100, [&](const std::string& line) {
                           auto at = line.find(" listening on ");
                           if (at == std::string::npos) return;
                           port = static_cast<std::uint16_t>(std::atoi(line.c_str() + line.find(':', at) + 1));
                           auto open = line.rfind('('), close = line.rfind(')');
                           if (open != std::string::npos && close > open)
                               runtime = line.substr(open + 1, close - open - 1);
                       })) {
                    if (std::chrono::steady_clock::now() - started > std::chrono::seconds(120)) break;
                }
            }
            if (port == 0) {
                run.failure = error.empty() ? "the server did not start" : error;
            } else {
                run.started = true;
                load::Options these = options;
                these.port = port;
                StatsWatcher watcher(port, run);
                run.load = load::run(these, [&](const load::Progress& now) {
                    progress_line(fixed(now.elapsed_seconds, 1) + " s, " + std::to_string(now.lines_echoed) + " lines",
                                  std::min(1.0, now.elapsed_seconds / these.duration_seconds));
                });
                watcher.finish();
            }
            server.request_stop();
            server.wait([](const std::string&) {});
            if (traced) std::remove(trace_path.c_str());
            return run;
        };
        ModelRun run = measure(false);
        if (tracing_overhead && run.started) {
            ModelRun traced = measure(true);
            run.traced_lines_per_second = traced.started ? traced.load.lines_per_second : 0;
            if (!traced.load.ok()) run.load.errors += traced.load.errors + traced.load.mismatches;
        }
        runs.push_back(run);
    }
    if (terminal) std::fprintf(stderr, "\r%90s\r", "");

    // ---- the table ----
    const bool wine = runtime.find("Wine") != std::string::npos;
    std::string title = "socklab compare: " + std::to_string(options.clients) + " clients, " +
                        std::to_string(options.line_size) + "-byte lines, " +
                        (options.lines_per_client ? std::to_string(options.lines_per_client) + " lines each"
                                                  : fixed(options.duration_seconds, 0) + " s closed loop") +
                        (options.work_every ? ", /work " + std::to_string(options.work_cpu_ms) + " " +
                                                  std::to_string(options.work_block_ms) + " every " +
                                                  std::to_string(options.work_every) + " lines"
                                            : "") +
                        "; measured under " + runtime + ", " +
                        std::to_string(std::thread::hardware_concurrency()) + " processors";
    std::ostringstream table;
    if (format == "json") {
        table << "{\n  \"title\": \"" << title << "\",\n  \"runtime\": \"" << runtime << "\",\n  \"models\": [\n";
        for (std::size_t i = 0; i < runs.size(); ++i) {
            const ModelRun& r = runs[i];
            table << "    {\"model\": \"" << r.model << "\", \"measured\": " << (r.started ? "true" : "false")
                  << ", \"round_trips_per_second\": " << fixed(r.load.lines_per_second, 0)
                  << ", \"p50_ms\": " << fixed(r.load.latency_p50_us / 1000, 2)
                  << ", \"p99_ms\": " << fixed(r.load.latency_p99_us / 1000, 2)
                  << ", \"max_ms\": " << fixed(r.load.latency_max_us / 1000, 2) << ", \"threads\": " << r.threads_most
                  << ", \"connections\": " << r.connections_most
                  << ", \"peak_working_set_mib\": " << fixed(r.peak_working_set_mib, 1)
                  << ", \"cpu_seconds\": " << fixed(r.cpu_seconds, 2) << ", \"wrong_bytes\": " << r.load.mismatches
                  << ", \"errors\": " << r.load.errors;
            if (tracing_overhead) table << ", \"traced_round_trips_per_second\": " << fixed(r.traced_lines_per_second, 0);
            table << "}" << (i + 1 < runs.size() ? "," : "") << "\n";
        }
        table << "  ]\n}\n";
    } else {
        const char* separator = format == "csv" ? "," : " | ";
        if (format == "md") table << "## " << title << "\n\n";
        std::vector<std::string> header = {"model", "round trips/s", "p50 ms", "p99 ms", "max ms", "threads",
                                           "connections", "peak memory MiB", "CPU s", "errors"};
        if (tracing_overhead) header.insert(header.end(), {"traced rt/s", "tracing cost"});
        auto row = [&](const std::vector<std::string>& cells) {
            if (format == "md") table << "| ";
            for (std::size_t i = 0; i < cells.size(); ++i) table << cells[i] << (i + 1 < cells.size() ? separator : "");
            table << (format == "md" ? " |\n" : "\n");
        };
        row(header);
        if (format == "md") row(std::vector<std::string>(header.size(), "---"));
        for (const ModelRun& r : runs) {
            if (!r.started) {
                std::vector<std::string> cells(header.size(), "");
                cells[0] = r.model;
                cells[1] = "not measured: " + r.failure;
                row(cells);
                continue;
            }
            std::vector<std::string> cells = {
                r.model, fixed(r.load.lines_per_second, 0), fixed(r.load.latency_p50_us / 1000, 2),
                fixed(r.load.latency_p99_us / 1000, 2), fixed(r.load.latency_max_us / 1000, 2),
                std::to_string(r.threads_most), std::to_string(r.connections_most), fixed(r.peak_working_set_mib, 1),
                fixed(r.cpu_seconds, 2), std::to_string(r.load.mismatches + r.load.errors)};
            if (tracing_overhead) {
                double cost = r.load.lines_per_second > 0
                                  ? 100.0 * (1.0 - r.traced_lines_per_second / r.load.lines_per_second)
                                  : 0;
                cells.push_back(fixed(r.traced_lines_per_second, 0));
                cells.push_back(fixed(cost, 1) + "%");
            }
            row(cells);
        }
        if (format == "md" && wine)
            table << "\nMeasured under Wine: every overlapped WSARecv/WSASend is a round trip to wineserver, and "
                     "Wine wakes\ncompletion-port waiters FIFO and ignores the concurrency value. Compare the models "
                     "with each other;\non Windows the absolute figures, and the IOCP models' lead, would differ.\n";
        if (format == "md" && tracing_overhead)
            table << "\nTracing cost: the same load with the recorder writing a trace file, run right after. Single runs "
                     "on a shared\nmachine vary by tens of percent: repeat before trusting a difference of a few.\n";
    }
    std::fputs(table.str().c_str(), stdout);
    if (!out_path.empty()) {
        std::ofstream out(out_path);
        out << table.str();
        if (!out) {
            std::fprintf(stderr, "socklab compare: cannot write %s\n", out_path.c_str());
            return 1;
        }
    }
    bool all_correct = std::all_of(runs.begin(), runs.end(), [](const ModelRun& r) { return r.started && r.load.ok(); });
    if (!all_correct) {
        std::fprintf(stderr, "socklab compare: FAILED: a model did not start or returned a wrong byte\n");
        for (const ModelRun& r : runs)
            for (std::size_t i = 0; i < std::min<std::size_t>(3, r.load.problems.size()); ++i)
                std::fprintf(stderr, "  %s: %s\n", r.model.c_str(), r.load.problems[i].c_str());
        return 1;
    }
    return 0;
}
#endif

}  // namespace socklab::cli
