// cli/report.cpp — `socklab report`: the benchmark report under docs/, regenerated from a real run.
//
// Runs every compare scenario (echo, slow handlers, broadcast, capacity, tracing overhead) over the models,
// then writes one Markdown page with the tables, the headline figures, the machine and the method, a CSV per
// table, and a PNG plot per table drawn by gnuplot from exactly the numbers in the table (without gnuplot, the
// page says so and has no plots). Where the runtime is Wine, every title says so and the page says what would
// differ on Windows.
//
// Sections: the plan · the machine · our own machinery · plots · the page · the command.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/compare.h"
#include "cli/flags.h"
#include "common/process/child_process.h"

#ifdef _WIN32
// The processor's name, the memory and the system's version have no portable call: Windows has the registry,
// GlobalMemoryStatusEx and ntdll; Linux has /proc and uname.
#include <windows.h>
#else
#include <sys/utsname.h>
#endif

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
    bool drawn = false;        // its PNG was written (not without gnuplot)
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
#ifdef _WIN32
// Wine's version when this program runs under Wine (ntdll exports wine_get_version there), else nullptr.
const char* wine_version() {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    using WineGetVersion = const char*(CDECL*)();
    auto get = ntdll ? reinterpret_cast<WineGetVersion>(reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_version")))
                     : nullptr;
    return get ? get() : nullptr;
}

std::string processor_name() {
    char name[256] = "";
    DWORD size = sizeof name;
    if (RegGetValueA(HKEY_LOCAL_MACHINE, "HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\0", "ProcessorNameString",
                     RRF_RT_REG_SZ, nullptr, name, &size) != ERROR_SUCCESS)
        return "";
    std::string text = name;
    text.erase(0, text.find_first_not_of(' '));  // some processors pad their name on the left
    return text;
}

double memory_gib() {
    MEMORYSTATUSEX status{};
    status.dwLength = sizeof status;
    return GlobalMemoryStatusEx(&status) ? static_cast<double>(status.ullTotalPhys) / (1024.0 * 1024.0 * 1024.0) : 0;
}

// "Windows 10.0.19045"; under Wine the system Wine runs on, which is what the figures depend on.
std::string system_name() {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    using WineHostVersion = void(CDECL*)(const char** system, const char** release);
    if (auto host = ntdll ? reinterpret_cast<WineHostVersion>(
                                reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_host_version")))
                          : nullptr) {
        const char *system = nullptr, *release = nullptr;
        host(&system, &release);
        return std::string(system ? system : "an unknown system") + (release ? std::string(" ") + release : "") +
               " (socklab.exe under Wine " + wine_version() + ")";
    }
    // RtlGetVersion tells the real version where GetVersionEx is shimmed for compatibility.
    using RtlGetVersionFunction = LONG(WINAPI*)(OSVERSIONINFOW*);
    auto get = ntdll ? reinterpret_cast<RtlGetVersionFunction>(reinterpret_cast<void*>(GetProcAddress(ntdll, "RtlGetVersion")))
                     : nullptr;
    OSVERSIONINFOW version{};
    version.dwOSVersionInfoSize = sizeof version;
    if (!get || get(&version) != 0) return "Windows";
    return "Windows " + std::to_string(version.dwMajorVersion) + "." + std::to_string(version.dwMinorVersion) + "." +
           std::to_string(version.dwBuildNumber);
}
#else
const char* wine_version() { return nullptr; }  // the native Linux CLI: never under Wine itself

std::string first_line_with(const std::string& path, const std::string& prefix) {
    std::ifstream file(path);
    std::string line;
    while (std::getline(file, line))
        if (line.rfind(prefix, 0) == 0) return line;
    return "";
}

std::string processor_name() {
    std::string cpu = first_line_with("/proc/cpuinfo", "model name");
    auto colon = cpu.find(':');
    return colon == std::string::npos ? "" : cpu.substr(colon + 2);
}

double memory_gib() {
    std::string memory = first_line_with("/proc/meminfo", "MemTotal:");
    return memory.empty() ? 0 : std::atof(memory.c_str() + 9) / (1024.0 * 1024.0);  // kB
}

// "Linux 6.1.0-18-amd64 (Debian 12.5)".
std::string system_name() {
    utsname system{};
    uname(&system);
    std::string debian;
    std::ifstream("/etc/debian_version") >> debian;
    return std::string(system.sysname) + " " + system.release + (debian.empty() ? "" : " (Debian " + debian + ")");
}
#endif

std::string machine_description() {
    const std::string cpu = processor_name();
    std::ostringstream text;
    text << (cpu.empty() ? "unknown processor" : cpu) << ", " << std::thread::hardware_concurrency()
         << " logical processors, " << fixed(memory_gib(), 0) << " GiB; " << system_name();
    return text.str();
}

// Where our own benchmarks ran: natively, or under Wine when socklab.exe itself runs there.
std::string machinery_where() {
    const char* wine = wine_version();
    return wine ? std::string("under Wine ") + wine : "native";
}

std::string today() {
    std::time_t now = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    return text;
}

// ---- our own machinery -------------------------------------------------------------------------------------
// The benchmarks of the tracer and the visualizer, run as they are and quoted whole: on Linux from build/linux,
// on Windows from beside socklab.exe.
struct Benchmark {
    std::string title;
    std::string program;  // the Linux build's path under build/linux; on Windows its name + .exe
    std::string output;
    bool built = false;
    bool ran = false;
};

std::string benchmark_path(const std::string& program) {
#ifdef _WIN32
    return (std::filesystem::path(process::this_program_folder()) /
            (std::filesystem::path(program).filename().string() + ".exe"))
        .string();
#else
    return repository_root() + "/build/linux/" + program;
#endif
}

// What the page shows as the program's place.
std::string benchmark_shown(const std::string& program) {
#ifdef _WIN32
    return std::filesystem::path(program).filename().string() + ".exe";
#else
    return "build/linux/" + program;
#endif
}

// A command for popen with its output and errors in one stream. cmd.exe (which _popen runs) strips the first
// and last quote of a command that has more than two: one more pair around it all keeps the program's quotes.
std::string shell_command(const std::string& program, const std::string& arguments) {
#ifdef _WIN32
    return "\"\"" + program + "\" " + arguments + " 2>&1\"";
#else
    return "'" + program + "' " + arguments + " 2>&1";
#endif
}

FILE* open_pipe(const std::string& command, const char* mode) {
#ifdef _WIN32
    return _popen(command.c_str(), mode);
#else
    return popen(command.c_str(), mode);
#endif
}

// The command's exit status: 0 when it succeeded.
int close_pipe(FILE* pipe) {
#ifdef _WIN32
    return _pclose(pipe);
#else
    return pclose(pipe);
#endif
}

std::vector<Benchmark> run_benchmarks() {
    std::vector<Benchmark> benchmarks = {
        {"Recording one trace event (docs/design.md targets: at most 10 ns recording, 1 ns not recording)",
         "tests/unit/trace-bench", "", false, false},
        {"The visualizer's intake and frame (targets: at least 2 million events/s, frame at most 8 ms, "
         "40 bytes per event)",
         "visualizer/viz-bench", "", false, false}};
    for (Benchmark& benchmark : benchmarks) {
        const std::string path = benchmark_path(benchmark.program);
        std::fprintf(stderr, "socklab report: %s\n", benchmark_shown(benchmark.program).c_str());
        benchmark.built = std::filesystem::exists(path);
        FILE* output = benchmark.built ? open_pipe(shell_command(path, ""), "r") : nullptr;
        if (!output) {
            benchmark.output = benchmark.built ? "cannot run " + path : path + " is not built";
            continue;
        }
        char buffer[4096];
        for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, output)) > 0;) benchmark.output.append(buffer, got);
        benchmark.ran = close_pipe(output) == 0;
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

// Whether gnuplot can be run here: its version line ("gnuplot 5.4 patchlevel 4"), or "" when it cannot. It is
// often absent on Windows; the report is then written without plots.
std::string gnuplot_version() {
    FILE* output = open_pipe("gnuplot --version 2>&1", "r");
    if (!output) return "";
    std::string text;
    char buffer[256];
    for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, output)) > 0;) text.append(buffer, got);
    if (close_pipe(output) != 0 || text.rfind("gnuplot", 0) != 0) return "";
    return text.substr(0, text.find_first_of("\r\n"));
}

// A string in a gnuplot command, single-quoted: gnuplot reads backslashes there as they are (a Windows path
// stays one) and a quote is written twice.
std::string gnuplot_text(const std::string& text) {
    std::string quoted;
    for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    return "'" + quoted + "'";
}

// A string in gnuplot's inline data, which knows only double quotes.
std::string gnuplot_data_text(const std::string& text) {
    std::string quoted;
    for (char c : text) quoted += c == '"' ? std::string("'") : std::string(1, c);
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
        script << gnuplot_data_text(model.model);
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
    FILE* gnuplot = open_pipe("gnuplot 2>&1", "w");
    if (!gnuplot) {
        error = "cannot run gnuplot";
        return false;
    }
    std::fputs(script.str().c_str(), gnuplot);
    int status = close_pipe(gnuplot);
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
        text << "- **Our machinery** (" << machinery_where() << "): a trace event costs " << fixed(on, 1) << " ns recording and "
             << fixed(off, 2) << " ns when nobody records; the visualizer takes in " << fixed(intake, 1)
             << " million events/s.\n";
    return text.str();
}

std::string page(const std::vector<Section>& sections, const std::vector<Benchmark>& benchmarks,
                 const std::string& command, const std::string& started, double seconds,
                 const std::string& gnuplot) {
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
         << "- **Load:** `socklab`'s own load generator, " << machinery_where()
         << ", on the same machine over loopback: each client keeps one line in flight (closed loop) and checks "
            "every byte that comes back.\n"
         << "- **Plots:** "
         << (gnuplot.empty() ? "none: gnuplot was not found on this machine (install it and run the command again "
                               "to draw them); the tables hold every figure"
                             : "drawn by " + gnuplot + " from the tables' own cells")
         << "\n\n";
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
            "for the "
         << std::thread::hardware_concurrency()
         << " processors — except in the tracing-overhead scenario, where a recording and a non-recording server of "
            "the same model run side by side and the load alternates between them.\n\n";
    for (const Section& section : sections) {
        text << "## " << section.heading << "\n\n*" << section.question << "*\n\n";
        for (const Plot& plot : section.plots)
            if (plot.drawn) text << "![" << section.heading << "](" << plot.name << ".png)\n\n";
        text << "#" << render(section.result.table, "md") << "\n";  // the table's own "## title", one level down
        text << "Data: [" << section.name << ".csv](" << section.name << ".csv)\n\n";
    }
    const std::string where = machinery_where();
    text << "## Our own machinery\n\n*Does the tracer cost nearly nothing, and can the visualizer keep up?* "
         << (where == "native" ? "Native builds, not Wine" : "Windows builds run " + where + ", like socklab.exe")
         << ": these time our own code, not Winsock.\n\n";
    for (const Benchmark& benchmark : benchmarks)
        text << "### " << benchmark.title << "\n\n`" << benchmark_shown(benchmark.program) << "`:\n\n```\n"
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
                       "minutes in full.\nWithout gnuplot the report is written without plots. Exits 1 if a model "
                       "returned a wrong\nbyte or failed, gnuplot failed to draw a plot, or a benchmark that is built "
                       "failed.");
    flags.text("out", out, "the report's folder");
    flags.toggle("quick", quick, "seconds instead of minutes (fewer clients, short runs): for tests, not for reading");
    std::vector<std::string> models;
    if (!flags.parse(arguments, &models)) return flags.exit_code();
    if (models.empty()) models = all_models();
    for (const std::string& model : models)
        if (std::find(all_models().begin(), all_models().end(), model) == all_models().end())
            return usage_error("report", "no model '" + model + "' (see socklab models)");
    // Said first, so that nobody waits ten minutes to find the plots missing.
    const std::string gnuplot = gnuplot_version();
    if (gnuplot.empty())
        std::fprintf(stderr, "socklab report: gnuplot was not found, so the report will have no plots (Debian: "
                             "apt-get install gnuplot-nox, which ./socklab report does for you; Windows: install "
                             "gnuplot and put its bin folder on PATH)\n");
    std::error_code error;
    std::filesystem::create_directories(out, error);
    if (error) {
        std::fprintf(stderr, "socklab report: cannot create %s: %s\n", out.c_str(), error.message().c_str());
        return 1;
    }

#ifdef _WIN32
    std::string command = "socklab report";
#else
    std::string command = "./socklab report";  // the checkout's wrapper, which builds and installs first
#endif
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
        for (Plot& plot : section.plots) {
            if (gnuplot.empty()) break;
            std::string why;
            plot.drawn = draw_plot(section, plot, out + "/" + plot.name + ".png", why);
            if (!plot.drawn) {
                std::fprintf(stderr, "socklab report: plot %s: %s\n", plot.name.c_str(), why.c_str());
                correct = false;
            }
            plots += plot.drawn;
        }
    }
    std::vector<Benchmark> benchmarks = run_benchmarks();
    // A benchmark that is not built is a gap the page shows (the Windows build has no visualizer without
    // GLFW and ImGui); one that is built and fails is a failure.
    for (const Benchmark& benchmark : benchmarks)
        if (!benchmark.ran) {
            std::fprintf(stderr, "socklab report: %s did not run: %s\n", benchmark_shown(benchmark.program).c_str(),
                         benchmark.output.c_str());
            correct = correct && !benchmark.built;
        }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::ofstream(out + "/README.md") << page(sections, benchmarks, command, started, seconds, gnuplot);
    std::printf("socklab report: wrote %s/README.md and %zu plots%s\n", out.c_str(), plots,
                gnuplot.empty() ? " (no gnuplot)" : "");
    if (!correct) {
        std::fprintf(stderr, "socklab report: FAILED: a model failed or returned a wrong byte (see above)\n");
        return 1;
    }
    return 0;
}

}  // namespace socklab::cli
