// cli/compare.cpp — `socklab compare [model...]`: the same load against each model, one table.
//
// Each model's server is started the same way (socklab-server.exe beside socklab.exe on Windows; on Linux under
// Wine for a Windows model, natively for a Linux one: common/catalog/models.h), driven by the same load generator
// with every byte checked, watched through /stats meanwhile (threads, working set, CPU time, connections), and
// stopped gracefully (cli/measure.h). The cost scenario drives one connection of its own and counts what each
// echo costs beneath the server (cli/cost.h). The table says where it was measured: a Wine figure compares models
// with each other and says nothing about Windows.
//
// Sections: scenarios · the comparison · the command line · the command. The tables: compare_tables.cpp.
#include "cli/compare.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>

#include "cli/commands.h"
#include "cli/compare_tables.h"
#include "cli/terminal.h"
#include "common/catalog/models.h"
#include "common/net/socket.h"

namespace socklab::cli {

// ---- scenarios --------------------------------------------------------------------------------------------
const std::vector<std::string>& all_models() {
    static const std::vector<std::string> models = catalog::model_ids(catalog::Platform::Windows);
    return models;
}

bool counted_by_strace(const std::string& model) {
    const catalog::KnownModel* known = catalog::find_model(model);
    return known && catalog::how_it_runs(*known) == catalog::HowItRuns::natively &&
           known->platform == catalog::Platform::Linux;
}

namespace {

struct ScenarioName {
    Scenario scenario;
    const char* name;
};
constexpr ScenarioName kScenarios[] = {{Scenario::echo, "echo"},
                                       {Scenario::slow_handler, "slow-handler"},
                                       {Scenario::broadcast, "broadcast"},
                                       {Scenario::capacity, "capacity"},
                                       {Scenario::tracing_overhead, "tracing-overhead"},
                                       {Scenario::cost, "cost"}};

}  // namespace

bool parse_scenario(const std::string& name, Scenario& scenario) {
    for (const ScenarioName& known : kScenarios)
        if (name == known.name) {
            scenario = known.scenario;
            return true;
        }
    return false;
}

std::vector<std::string> default_models(Scenario scenario) {
    std::vector<std::string> models = all_models();
    if (scenario == Scenario::cost) models.push_back(kYardstick);  // beside iocp and iocp-acceptex, as a yardstick
    return models;
}

const char* scenario_name(Scenario scenario) {
    for (const ScenarioName& known : kScenarios)
        if (scenario == known.scenario) return known.name;
    return "?";
}

namespace {

void note_problems(Comparison& comparison, const std::string& model, const std::vector<std::string>& problems) {
    for (std::size_t i = 0; i < std::min<std::size_t>(3, problems.size()); ++i)
        comparison.problems.push_back(model + ": " + problems[i]);
}

}  // namespace

// ---- the comparison ---------------------------------------------------------------------------------------
Comparison run_comparison(const CompareSettings& settings) {
    net::Startup sockets;  // the /stats watcher's connection (WSAStartup on Windows)
    const bool terminal = is_terminal(stderr);
    const std::size_t width = static_cast<std::size_t>(terminal_width());
    Comparison comparison;
    std::vector<LoadMeasurement> loads;
    std::vector<CapacityMeasurement> capacities;
    std::vector<OverheadMeasurement> overheads;
    std::vector<CostMeasurement> costs;
    // The cost scenario's counters, each started once for all the models it counts: wineserver's requests for the
    // Windows servers under Wine, strace's system calls for the native Linux servers (cli/cost.h).
    struct Counter {
        std::unique_ptr<CallCounter> counter;
        std::string why_not;
        bool tried = false;
    } wine_counter, native_counter;
    std::vector<const Measured*> measured;
    for (std::size_t index = 0; index < settings.models.size(); ++index) {
        const std::string& model = settings.models[index];
        // One line, redrawn in place (cli/terminal.h): it fits the terminal, so an update never starts a new line.
        ProgressReport progress = [&](const std::string& what, double fraction) {
            if (!terminal) return;
            std::fputs(progress_redraw(fraction, index, settings.models.size(), model, what, width).c_str(), stderr);
            std::fflush(stderr);
        };
        switch (settings.scenario) {
            case Scenario::echo:
            case Scenario::slow_handler:
            case Scenario::broadcast:
                loads.push_back(measure_load(model, settings.load, false, progress));
                note_problems(comparison, model, loads.back().load.problems);
                comparison.correct = comparison.correct && loads.back().correct();
                break;
            case Scenario::capacity:
                capacities.push_back(
                    measure_capacity(model, capacity_steps(settings.capacity_cap), settings.capacity_lines, progress));
                // Not holding every client is a finding, not a failure; failing to run or stop cleanly is.
                comparison.correct = comparison.correct && capacities.back().ok();
                break;
            case Scenario::tracing_overhead: {
                overheads.push_back(
                    measure_overhead(model, overhead_segment(settings), settings.overhead_pairs, progress));
                if (!overheads.back().problem.empty()) note_problems(comparison, model, {overheads.back().problem});
                comparison.correct = comparison.correct && overheads.back().ok() && overheads.back().problem.empty();
                break;
            }
            case Scenario::cost: {
                // A native server makes no wineserver request: its system calls are what strace counts instead.
                const bool native = counted_by_strace(model);
                Counter& counter = native ? native_counter : wine_counter;
                if (!counter.tried)
                    counter.counter = native ? start_system_call_counter(counter.why_not)
                                             : start_call_counter(counter.why_not, progress);
                counter.tried = true;
                costs.push_back(measure_cost(model, settings.cost, counter.counter.get(), progress));
                costs.back().not_counted = counter.counter ? "" : counter.why_not;
                if (!costs.back().problem.empty()) note_problems(comparison, model, {costs.back().problem});
                comparison.correct = comparison.correct && costs.back().ok() && costs.back().problem.empty();
                break;
            }
        }
    }
    wine_counter.counter.reset();  // the private wineserver stops before the table is printed
    native_counter.counter.reset();
    if (terminal) std::fputs(progress_clear(width).c_str(), stderr);
    for (const auto& run : loads) measured.push_back(&run);
    for (const auto& run : capacities) measured.push_back(&run);
    for (const auto& run : overheads) measured.push_back(&run);
    for (const auto& run : costs) measured.push_back(&run);
    for (const Measured* one : measured)
        if (!one->ok()) comparison.problems.push_back(one->model + ": " + one->failure);
    comparison.runtime = runtime_of(measured);
    switch (settings.scenario) {
        case Scenario::echo:
        case Scenario::slow_handler:
        case Scenario::broadcast:
            comparison.table = load_table(settings, loads, comparison.runtime);
            break;
        case Scenario::capacity:
            comparison.table = capacity_table(settings, capacities, comparison.runtime);
            break;
        case Scenario::tracing_overhead:
            comparison.table = overhead_table(settings, overheads, comparison.runtime);
            break;
        case Scenario::cost:
            // Its title says "Wine 8.0 on Linux 6.1.0-28-amd64": a count of wineserver requests depends on both. With
            // native rows too, each runtime is named as it is ("Wine 8.0 and Linux 6.1.0-28-amd64").
            comparison.table = cost_table(settings.cost, costs,
                                          comparison.runtime.find(" and ") != std::string::npos
                                              ? comparison.runtime
                                              : runtime_label(comparison.runtime, host_system()));
            break;
    }
    return comparison;
}

// ---- the command line -------------------------------------------------------------------------------------
namespace {

// The flags as read, turned into settings once each is known to be right.
struct CompareFlags {
    std::uint64_t clients = 64, size = 64, lines = 0, cap, pairs, runs;
    double duration = 5, throughput_seconds;
    std::string scenario = "echo", work;
    bool tracing_overhead = false;

    explicit CompareFlags(const CompareSettings& defaults)
        : cap(defaults.capacity_cap),
          pairs(defaults.overhead_pairs),
          runs(defaults.cost.timed_windows),
          throughput_seconds(defaults.cost.throughput_seconds) {}

    void declare(Flags& flags, CompareRequest& request) {
        flags.set_synopsis(
            "[model...] [options]\n\nRuns each model (all eight when none is named) under the same load, checks every "
            "byte,\nand prints one table (one block a row on a terminal too narrow for it). Exits 1 if any\nmodel "
            "returned a "
            "wrong byte or failed.\n\nScenarios:\n"
            "  echo               plain lines echoed, closed loop (--work adds a mix of slow handlers)\n"
            "  slow-handler       every 10th line is /work 0 50 (or --work): which models stall everyone else\n"
            "  broadcast          every line is /all: fan-out to every other client, each delivery checked\n"
            "  capacity           100, 250, 500, 1000 ... --cap concurrent clients: how many each model holds\n"
            "  tracing-overhead   recording off and on, interleaved in one run: what tracing costs\n"
            "  cost               one connection's ping-pong, per echoed line: wineserver requests (counted),\n"
            "                     CPU time, context switches, latency; then round trips/s at 1, 4 and 64\n"
            "                     clients; with the yardstick, a bare IOCP echo (name it as model\n"
            "                     'yardstick'; it runs after the eight when none is named)");
        flags.text("scenario", scenario, "echo, slow-handler, broadcast, capacity, tracing-overhead or cost");
        flags.count("clients", clients, 1, 5000, "concurrent clients");
        flags.count("lines", lines, 0, 1u << 30,
                    "lines per client; 0 = send for --duration (cost: a window's lines, 1000)");
        flags.count("size", size, 2, 1 << 20, "bytes per line, newline included");
        flags.number("duration", duration, 0.5, 3600, "seconds of load per model (cost: a window's bound)");
        flags.text("work", work,
                   "a slow-handler mix CPU_MS,BLOCK_MS,EVERY: every EVERY-th line is /work CPU_MS BLOCK_MS");
        flags.count("cap", cap, 1, 20000, "capacity: the most clients to try");
        flags.count("pairs", pairs, 1, 100, "tracing-overhead: off/on pairs the duration is split into");
        flags.count("runs", runs, 1, 20, "cost: timed windows per model, for the rates' spread");
        flags.number("throughput-seconds", throughput_seconds, 0.5, 600,
                     "cost: seconds of load at each of 1, 4 and 64 clients");
        flags.toggle("tracing-overhead", tracing_overhead, "the same as --scenario tracing-overhead");
        flags.text("format", request.format, "md, csv or json");
        flags.text("out", request.out_path, "write the table to this file too");
    }
};

// The message of the first thing wrong with the models named, or "". The yardstick is no model: only the cost
// scenario measures it.
std::string unknown_model(const std::vector<std::string>& models, Scenario scenario) {
    for (const std::string& model : models) {
        if (model == kYardstick && scenario != Scenario::cost)
            return "'yardstick' is measured by --scenario cost only (it is a bare IOCP echo, not a model)";
        if (model == kYardstick) continue;
        const catalog::KnownModel* known = catalog::find_model(model);
        if (!known) return "no model '" + model + "' (see socklab models)";
        if (catalog::how_it_runs(*known) == catalog::HowItRuns::not_here)
            return model + " is a Linux model: run it from socklab on Linux";
    }
    return "";
}

}  // namespace

Parsed<CompareRequest> parse_compare_command(const Arguments& arguments) {
    Parsed<CompareRequest> parsed;
    CompareRequest& request = parsed.request;
    CompareSettings& settings = request.settings;
    load::Options& options = settings.load;
    CompareFlags values(settings);
    Flags flags("compare");
    values.declare(flags, request);
    auto wrong = [&](const std::string& message) -> Parsed<CompareRequest>& {
        return parsed.stop(EarlyExit::usage_error("compare", message));
    };
    if (!flags.parse(arguments, &settings.models)) return parsed.stop(flags.early_exit());
    if (request.format != "md" && request.format != "csv" && request.format != "json")
        return wrong("--format is md, csv or json, not '" + request.format + "'");
    if (!parse_scenario(values.scenario, settings.scenario))
        return wrong("no scenario '" + values.scenario + "' (see --help)");
    if (values.tracing_overhead) settings.scenario = Scenario::tracing_overhead;
    if (settings.models.empty()) settings.models = default_models(settings.scenario);
    if (const std::string problem = unknown_model(settings.models, settings.scenario); !problem.empty())
        return wrong(problem);
    options.clients = static_cast<unsigned>(values.clients);
    options.line_size = static_cast<unsigned>(values.size);
    options.lines_per_client = values.lines;
    options.duration_seconds = values.duration;
    settings.capacity_cap = static_cast<unsigned>(values.cap);
    settings.overhead_pairs = static_cast<unsigned>(values.pairs);
    if (settings.scenario == Scenario::cost) {
        // One connection, whatever --clients says: the cost of a line, not of a crowd.
        if (!values.work.empty()) return wrong("--work does not apply to --scenario cost (one plain echo at a time)");
        settings.cost.line_size = static_cast<unsigned>(values.size);
        settings.cost.lines = values.lines ? values.lines : settings.cost.lines;
        settings.cost.window_seconds = values.duration;
        settings.cost.timed_windows = static_cast<unsigned>(values.runs);
        settings.cost.throughput_seconds = values.throughput_seconds;
    }
    if (settings.scenario == Scenario::slow_handler && values.work.empty()) values.work = "0,50,10";
    options.broadcast = settings.scenario == Scenario::broadcast;
    if (options.broadcast && values.size < 24)
        return wrong("broadcast lines must be at least 24 bytes (they name their sender)");
    if (!values.work.empty()) {
        unsigned cpu = 0, block = 0, every = 0;
        if (std::sscanf(values.work.c_str(), "%u,%u,%u", &cpu, &block, &every) != 3 || every == 0)
            return wrong("--work wants CPU_MS,BLOCK_MS,EVERY, e.g. 0,50,10, not '" + values.work + "'");
        options.work_cpu_ms = cpu;
        options.work_block_ms = block;
        options.work_every = every;
        if (settings.scenario == Scenario::echo) settings.scenario = Scenario::slow_handler;
    }
    return parsed;
}

// ---- the command ------------------------------------------------------------------------------------------
namespace {

// The table on standard output (on a terminal too narrow for the Markdown, one block a row), and in --out.
// False when --out cannot be written.
bool show_table(const Comparison& comparison, const CompareRequest& request) {
    const std::string table = render(comparison.table, request.format);
    const bool on_terminal = request.format == "md" && is_terminal(stdout);
    std::fputs(
        on_terminal ? fit_table(comparison.table, static_cast<std::size_t>(terminal_width())).c_str() : table.c_str(),
        stdout);
    if (request.out_path.empty()) return true;
    std::ofstream out(request.out_path);
    out << table;
    if (out) return true;
    std::fprintf(stderr, "socklab compare: cannot write %s\n", request.out_path.c_str());
    return false;
}

}  // namespace

int compare_command(const Arguments& arguments) {
    const Parsed<CompareRequest> parsed = parse_compare_command(arguments);
    if (parsed.early_exit) return parsed.early_exit->print();
    const Comparison comparison = run_comparison(parsed.request.settings);
    if (!show_table(comparison, parsed.request)) return 1;
    if (!comparison.correct) {
        std::fprintf(stderr,
                     "socklab compare: FAILED: a model did not start, did not stop cleanly, or returned a "
                     "wrong byte\n");
        for (const std::string& problem : comparison.problems) std::fprintf(stderr, "  %s\n", problem.c_str());
        return 1;
    }
    return 0;
}

}  // namespace socklab::cli
