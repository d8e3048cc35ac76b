// cli/report.cpp — `socklab report`: the benchmark report under docs/, regenerated from a real run.
//
// Runs every compare scenario (echo, slow handlers, broadcast, capacity, tracing overhead) over the models,
// then writes one Markdown page with the tables, the headline figures, the machine and the method, a CSV per
// table, and a PNG plot per table drawn by gnuplot from exactly the numbers in the table. Where the runtime is
// Wine, every title says so and the page says what would differ on Windows.
//
// Sections: the plan · the machine · plots · the page · the command.
#include "cli/commands.h"

#ifdef _WIN32
#include <cstdio>
namespace socklab::cli {
int report_command(const Arguments&) {
    std::fprintf(stderr, "socklab report: runs on Linux (under Wine) for now, like socklab compare\n");
    return 1;
}
}  // namespace socklab::cli
#else
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/compare.h"
#include "cli/flags.h"

namespace socklab::cli {

namespace {

// ---- the plan ---------------------------------------------------------------------------------------------
// One entry per section of the report: the scenario, its load, and what its plots show.
struct Plot {
    std::string name;                  // file stem: echo-throughput, ...
    std::vector<std::string> columns;  // keys of the table's columns: a bar per model for each
    std::string y_label;
    bool log_scale = false;
    double target = 0;         // a horizontal line (the tracing-cost target), 0 = none
    std::string range_column;  // a "low..high" cell, drawn as an error bar on the first column
};

struct Section {
    std::string name;      // file stem of its CSV: echo, slow-handler, ...
    std::string heading;
    std::string question;  // what this section answers, for the reader
    CompareSettings settings;
    std::vector<Plot> plots;
    Comparison result;
};

std::vector<Section> plan(const std::vector<std::string>& models, bool quick) {
    auto section = [&](std::string name, std::string heading, std::string question, Scenario scenario,
                       unsigned clients, double seconds, std::vector<Plot> plots) {
        Section made{std::move(name), std::move(heading), std::move(question), {}, std::move(plots), {}};
        made.settings.models = models;
        made.settings.scenario = scenario;
        made.settings.load.clients = clients;
        made.settings.load.line_size = 64;
        made.settings.load.duration_seconds = seconds;
        return made;
    };
    std::vector<Section> sections;
    sections.push_back(section(
        "echo", "Echo: throughput and latency",
        "Which model answers the most small requests, and how quickly, when many clients each keep one request "
        "outstanding?",
        Scenario::echo, quick ? 8 : 64, quick ? 1 : 10,
        {{"echo-throughput", {"round_trips_per_second"}, "round trips per second", false, 0, ""},
         {"echo-latency", {"p50_ms", "p99_ms"}, "milliseconds (log scale)", true, 0, ""}}));
    sections.push_back(section(
        "slow-handler", "Slow handlers: who stalls everyone else",
        "When one request in ten blocks its handler for 50 ms, do the other clients' echoes wait behind it?",
        Scenario::slow_handler, quick ? 8 : 32, quick ? 1 : 10,
        {{"slow-handler", {"p50_ms", "p99_ms"}, "echo latency, milliseconds (log scale)", true, 0, ""}}));
    sections.back().settings.load.work_every = 10;
    sections.back().settings.load.work_block_ms = 50;
    sections.push_back(section("broadcast", "Broadcast: /all fan-out",
                               "Every line is sent on to every other client: how many deliveries per second does "
                               "each model make, every one checked?",
                               Scenario::broadcast, quick ? 4 : 16, quick ? 1 : 10,
                               {{"broadcast", {"deliveries_per_second"}, "deliveries per second", false, 0, ""}}));
    sections.back().settings.load.broadcast = true;
    sections.push_back(section("capacity", "Capacity: concurrent clients held",
                               "How many clients, all connected at once, does each model serve correctly?",
                               Scenario::capacity, 0, 0,
                               {{"capacity", {"clients_held"}, "clients held, every echo correct", false, 0, ""}}));
    sections.back().settings.capacity_cap = quick ? 250 : 4000;
    sections.push_back(section(
        "tracing-overhead", "What tracing costs",
        "How much throughput does a server lose while it records every wait, wake and completion?",
        Scenario::tracing_overhead, quick ? 8 : 64, quick ? 1 : 12,
        {{"tracing-overhead", {"cost_percent"}, "throughput lost to recording, %", false, 3, "pair_cost_range"}}));
    sections.back().settings.overhead_pairs = quick ? 1 : 3;
    return sections;
}

// ---- the machine ------------------------------------------------------------------------------------------
std::string first_line_with(const std::string& path, const std::string& prefix) {
    std::ifstream file(path);
    std::string line;
    while (std::getline(file, line))
        if (line.rfind(prefix, 0) == 0) return line;
    return "";
}

std::string machine_description() {
    std::string cpu = first_line_with("/proc/cpuinfo", "model name");
    if (auto colon = cpu.find(':'); colon != std::string::npos) cpu = cpu.substr(colon + 2);
    std::string memory = first_line_with("/proc/meminfo", "MemTotal:");
    double memory_gib = 0;
    if (!memory.empty()) memory_gib = std::atof(memory.c_str() + 9) / (1024.0 * 1024.0);
    utsname system{};
    uname(&system);
    std::string debian;
    std::ifstream("/etc/debian_version") >> debian;
    std::ostringstream text;
    text << (cpu.empty() ? "unknown processor" : cpu) << ", " << std::thread::hardware_concurrency()
         << " logical processors, " << fixed(memory_gib, 0) << " GiB; " << system.sysname << " " << system.release
         << (debian.empty() ? "" : " (Debian " + debian + ")");
    return text.str();
}

std::string today() {
    std::time_t now = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    return text;
}

// ---- our own machinery -------------------------------------------------------------------------------------
// The native benchmarks of the tracer and the visualizer, run as they are and quoted whole.
struct Benchmark {
    std::string title;
    std::string program;  // under build/linux
    std::string output;
    bool ran = false;
};

std::vector<Benchmark> run_benchmarks() {
    std::vector<Benchmark> benchmarks = {
        {"Recording one trace event (DESIGN.md targets: at most 10 ns recording, 1 ns not recording)",
         "tests/unit/trace-bench", "", false},
        {"The visualizer's intake and frame (targets: at least 2 million events/s, frame at most 8 ms, "
         "40 bytes per event)",
         "visualizer/viz-bench", "", false}};
    for (Benchmark& benchmark : benchmarks) {
        const std::string path = repository_root() + "/build/linux/" + benchmark.program;
        std::fprintf(stderr, "socklab report: %s\n", benchmark.program.c_str());
        FILE* output = std::filesystem::exists(path) ? popen((path + " 2>&1").c_str(), "r") : nullptr;
        if (!output) {
            benchmark.output = path + " is not built (./socklab build)";
            continue;
        }
        char buffer[4096];
        for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, output)) > 0;) benchmark.output.append(buffer, got);
        benchmark.ran = pclose(output) == 0;
    }
    return benchmarks;
}

// The number after `label` in a benchmark's output ("trace event, recording off: 0.26 ns" → 0.26), or -1.
double figure_after(const std::vector<Benchmark>& benchmarks, const std::string& label) {
    for (const Benchmark& benchmark : benchmarks)
        if (auto at = benchmark.output.find(label); at != std::string::npos)
            return std::atof(benchmark.output.c_str() + at + label.size());
    return -1;
}

// ---- plots ------------------------------------------------------------------------------------------------
// gnuplot draws a clustered bar chart of the given columns, from the table's own cells.
std::string gnuplot_text(const std::string& text) {
    std::string quoted;
    for (char c : text) quoted += c == '"' ? std::string("\\\"") : std::string(1, c);
    return "\"" + quoted + "\"";
}

bool draw_plot(const Section& section, const Plot& plot, const std::string& png_path, std::string& error) {
    const Table& table = section.result.table;
    std::ostringstream script;
    const std::string runtime = section.result.runtime;
    std::string title = section.heading + " — " +
                        (is_wine(runtime) ? "measured under " + runtime + " on Linux, not Windows"
                                          : "measured under " + runtime);
    script << "set terminal pngcairo size 1100,520 font 'DejaVu Sans,11' noenhanced\n"
           << "set output " << gnuplot_text(png_path) << "\n"
           << "set title " << gnuplot_text(title) << " font 'DejaVu Sans,13'\n"
           << "set ylabel " << gnuplot_text(plot.y_label) << "\n"
           << "set style data histograms\nset style histogram "
           << (plot.range_column.empty() ? "clustered gap 1" : "errorbars gap 1 lw 1.5") << "\n"
           << "set style fill solid 0.85 border -1\nset boxwidth 0.9\nset grid ytics\nset key below\n"
           << "set xtics nomirror rotate by -25\nset ytics nomirror\nset border 3\n"
           << "set xzeroaxis lt -1\n";
    if (plot.log_scale) script << "set logscale y\nset yrange [0.05:*]\n";
    if (plot.target > 0)
        script << "set arrow from graph 0, first " << plot.target << " to graph 1, first " << plot.target
               << " nohead front dt 2 lw 2 lc rgb '#c0392b'\nset label " << gnuplot_text("target")
               << " at graph 0.99, first " << plot.target << " right offset 0,0.7 tc rgb '#c0392b'\n";
    // The bars: for each measured model, each column's value (and low, high for an error bar).
    struct Bars {
        std::string model;
        std::vector<double> values;  // one per plotted column, then low and high with a range column
    };
    std::vector<Bars> bars;
    for (std::size_t row = 0; row < table.rows.size(); ++row) {
        if (table.rows[row][1].rfind("not measured", 0) == 0) continue;
        Bars model{table.rows[row][0], {}};
        for (const std::string& key : plot.columns) model.values.push_back(table.number(row, key));
        if (!plot.range_column.empty()) {  // "low..high"
            const std::string& range = table.rows[row][static_cast<std::size_t>(table.column(plot.range_column))];
            auto dots = range.find("..");
            model.values.push_back(std::atof(range.c_str()));
            model.values.push_back(dots == std::string::npos ? 0.0 : std::atof(range.c_str() + dots + 2));
        }
        bars.push_back(model);
    }
    if (bars.empty()) {
        error = "no model was measured";
        return false;
    }
    if (!plot.log_scale) {  // from zero (or the lowest bar, if below) to above the highest bar and the target
        double low = 0, high = plot.target;
        for (const Bars& model : bars)
            for (double value : model.values) low = std::min(low, value), high = std::max(high, value);
        script << "set yrange [" << low * 1.15 << ":" << (high > 0 ? high * 1.15 : 1) << "]\n";
    }
    script << "$data << EOD\n";
    for (const Bars& model : bars) {
        script << gnuplot_text(model.model);
        for (double value : model.values) script << " " << value;
        script << "\n";
    }
    script << "EOD\n";
    const char* colours[] = {"#2e86c1", "#e67e22", "#27ae60", "#8e44ad"};
    script << "plot ";
    for (std::size_t i = 0; i < plot.columns.size(); ++i) {
        const Table::Column& column = table.columns[static_cast<std::size_t>(table.column(plot.columns[i]))];
        if (i) script << ", ";
        script << "$data using " << (i + 2);
        if (!plot.range_column.empty()) script << ":" << (plot.columns.size() + 2) << ":" << (plot.columns.size() + 3);
        script << ":xtic(1) title " << gnuplot_text(column.label) << " lc rgb '" << colours[i % 4] << "'";
    }
    script << "\n";
    FILE* gnuplot = popen("gnuplot 2>&1", "w");
    if (!gnuplot) {
        error = "cannot run gnuplot";
        return false;
    }
    std::fputs(script.str().c_str(), gnuplot);
    int status = pclose(gnuplot);
    if (status != 0 || !std::filesystem::exists(png_path)) {
        error = "gnuplot failed (status " + std::to_string(status) + ")";
        return false;
    }
    return true;
}

// ---- the page ---------------------------------------------------------------------------------------------
std::string headline(const std::vector<Section>& sections, const std::vector<Benchmark>& benchmarks) {
    std::ostringstream text;
    // One line per section: its measured models ranked by one column, "name value unit", best first.
    auto line = [&](const std::string& intro, const Table& table, const std::string& key, int decimals,
                    const std::string& unit, const std::string& ending, bool ratio_to_slowest = false) {
        std::vector<std::pair<double, std::string>> rows;
        for (std::size_t row = 0; row < table.rows.size(); ++row)
            if (table.rows[row][1].rfind("not measured", 0) != 0)
                rows.push_back({table.number(row, key), table.rows[row][0]});
        if (rows.empty()) return;
        std::sort(rows.rbegin(), rows.rend());
        const double slowest = rows.back().first;
        text << "- " << intro << ": ";
        for (std::size_t i = 0; i < rows.size(); ++i) {
            text << (i ? ", " : "") << rows[i].second << " " << fixed(rows[i].first, decimals) << unit;
            if (ratio_to_slowest) text << " (" << fixed(slowest > 0 ? rows[i].first / slowest : 0, 1) << "×)";
        }
        text << ending << "\n";
    };
    for (const Section& section : sections) {
        const Table& table = section.result.table;
        const std::string clients = std::to_string(section.settings.load.clients) + " clients";
        if (section.name == "echo")
            line("**Echo throughput** (" + clients + ")", table, "round_trips_per_second", 0, " rt/s",
                 " — × is each model's throughput over the slowest's.", true);
        else if (section.name == "slow-handler")
            line("**Slow handlers**, echo p99 while one line in ten blocks 50 ms", table, "p99_ms", 1, " ms", ".");
        else if (section.name == "broadcast")
            line("**Broadcast** deliveries/s (" + clients + ")", table, "deliveries_per_second", 0, "", ".");
        else if (section.name == "capacity")
            line("**Capacity** (up to " + std::to_string(section.settings.capacity_cap) + " clients)", table,
                 "clients_held", 0, "", ".");
        else if (section.name == "tracing-overhead")
            line("**Tracing cost** (recording on vs off, interleaved)", table, "cost_percent", 1, "%",
                 " (target: 3% at most).");
    }
    const double on = figure_after(benchmarks, "recording on (file sink):"),
                 off = figure_after(benchmarks, "recording off:"),
                 intake = figure_after(benchmarks, "intake (decode + model)");
    if (on >= 0 && off >= 0 && intake >= 0)
        text << "- **Our machinery** (native): a trace event costs " << fixed(on, 1) << " ns recording and "
             << fixed(off, 2) << " ns when nobody records; the visualizer takes in " << fixed(intake, 1)
             << " million events/s.\n";
    return text.str();
}

std::string page(const std::vector<Section>& sections, const std::vector<Benchmark>& benchmarks,
                 const std::string& command, const std::string& started, double seconds) {
    std::string runtime = "unknown runtime";
    for (const Section& section : sections)
        if (section.result.runtime != "unknown runtime") runtime = section.result.runtime;
    const bool wine = is_wine(runtime);
    std::ostringstream text;
    text << "# socklab benchmark report — " << (wine ? "measured under " + runtime + " on Linux, not Windows"
                                                      : "measured under " + runtime)
         << "\n\n"
         << "Produced by `" << command << "` on " << started << " in "
         << (seconds < 120 ? fixed(seconds, 0) + " seconds" : fixed(seconds / 60, 0) + " minutes") << ". Every number below comes from that run; run the command again to replace them all.\n\n"
         << "- **Runtime:** " << runtime << (wine ? " (the Windows servers, cross-compiled with MinGW-w64)" : "")
         << "\n- **Machine:** " << machine_description() << "\n"
         << "- **Load:** `socklab`'s own load generator, native, on the same machine over loopback: each client "
            "keeps one line in flight (closed loop) and checks every byte that comes back.\n\n";
    if (wine)
        text << "**Read these as a comparison of the models with each other under Wine, not as Windows figures.** "
                "Under Wine every overlapped WSARecv/WSASend and every completion-port wait is a round trip to "
                "wineserver, so absolute throughput is far below what Windows does, and the overlapped models pay "
                "most. Wine wakes completion-port waiters first-in first-out and ignores the concurrency value; "
                "Windows wakes the most recent waiter and keeps running threads to the concurrency value, which "
                "helps the IOCP models further. Thread stacks and memory are the Wine process's own.\n\n";
    text << "## Headline figures\n\n" << headline(sections, benchmarks) << "\n";
    text << "## Method\n\n"
            "Each model's server is started fresh for each scenario (`socklab-server <model> --port 0`), watched "
            "through its own `/stats` connection four times a second (threads, connections, working set, CPU time), "
            "and stopped gracefully; a server that does not stop cleanly, or leaves a socket or per-I/O object "
            "behind, fails its measurement. The models run one after another, never at once, so they do not compete "
            "for the two processors — except in the tracing-overhead scenario, where a recording and a "
            "non-recording server of the same model run side by side and the load alternates between them.\n\n";
    for (const Section& section : sections) {
        text << "## " << section.heading << "\n\n*" << section.question << "*\n\n";
        for (const Plot& plot : section.plots) text << "![" << section.heading << "](" << plot.name << ".png)\n\n";
        text << "#" << render(section.result.table, "md") << "\n";  // the table's own "## title", one level down
        text << "Data: [" << section.name << ".csv](" << section.name << ".csv)\n\n";
    }
    text << "## Our own machinery\n\n*Does the tracer cost nearly nothing, and can the visualizer keep up?* Native "
            "Linux builds, not Wine: these time our own code, not Winsock.\n\n";
    for (const Benchmark& benchmark : benchmarks)
        text << "### " << benchmark.title << "\n\n`build/linux/" << benchmark.program << "`:\n\n```\n"
             << benchmark.output << (benchmark.output.empty() || benchmark.output.back() != '\n' ? "\n" : "")
             << "```\n\n";
    return text.str();
}

}  // namespace

// ---- the command ------------------------------------------------------------------------------------------
int report_command(const Arguments& arguments) {
    std::string out = repository_root() + "/docs/report";
    bool quick = false;
    Flags flags("report");
    flags.set_synopsis("[model...] [options]\n\nRuns every compare scenario over the models (all eight when none is "
                       "named) and writes the\nbenchmark report: README.md, a PNG plot and a CSV per table. About 10 "
                       "minutes in full.\nExits 1 if a model returned a wrong byte or failed, or a plot could not be "
                       "drawn.");
    flags.text("out", out, "the report's folder");
    flags.toggle("quick", quick, "seconds instead of minutes (fewer clients, short runs): for tests, not for reading");
    std::vector<std::string> models;
    if (!flags.parse(arguments, &models)) return flags.exit_code();
    if (models.empty()) models = all_models();
    for (const std::string& model : models)
        if (std::find(all_models().begin(), all_models().end(), model) == all_models().end())
            return usage_error("report", "no model '" + model + "' (see socklab models)");
    if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
        std::fprintf(stderr, "socklab report: gnuplot is not installed; it draws the plots (Debian: apt-get install "
                             "gnuplot-nox, which ./socklab report does for you)\n");
        return 1;
    }
    std::error_code error;
    std::filesystem::create_directories(out, error);
    if (error) {
        std::fprintf(stderr, "socklab report: cannot create %s: %s\n", out.c_str(), error.message().c_str());
        return 1;
    }

    std::string command = "./socklab report";
    for (const std::string& argument : arguments) command += " " + argument;
    const std::string started = today();
    const auto start = std::chrono::steady_clock::now();
    std::vector<Section> sections = plan(models, quick);
    bool correct = true;
    std::size_t plots = 0;
    for (std::size_t i = 0; i < sections.size(); ++i) {
        Section& section = sections[i];
        std::fprintf(stderr, "socklab report: %zu/%zu %s\n", i + 1, sections.size(), section.heading.c_str());
        section.result = run_comparison(section.settings);
        for (const std::string& problem : section.result.problems) std::fprintf(stderr, "  %s\n", problem.c_str());
        correct = correct && section.result.correct;
        std::ofstream(out + "/" + section.name + ".csv") << render(section.result.table, "csv");
        for (const Plot& plot : section.plots) {
            std::string why;
            if (!draw_plot(section, plot, out + "/" + plot.name + ".png", why)) {
                std::fprintf(stderr, "socklab report: plot %s: %s\n", plot.name.c_str(), why.c_str());
                correct = false;
            }
            ++plots;
        }
    }
    std::vector<Benchmark> benchmarks = run_benchmarks();
    for (const Benchmark& benchmark : benchmarks)
        if (!benchmark.ran) {
            std::fprintf(stderr, "socklab report: %s did not run: %s\n", benchmark.program.c_str(),
                         benchmark.output.c_str());
            correct = false;
        }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::ofstream(out + "/README.md") << page(sections, benchmarks, command, started, seconds);
    std::printf("socklab report: wrote %s/README.md and %zu plots\n", out.c_str(), plots);
    if (!correct) {
        std::fprintf(stderr, "socklab report: FAILED: a model failed or returned a wrong byte (see above)\n");
        return 1;
    }
    return 0;
}

}  // namespace socklab::cli
#endif
