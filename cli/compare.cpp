// cli/compare.cpp — `socklab compare [model...]`: the same load against each model, one table.
//
// Each model's server is started the same way (socklab-server.exe beside socklab.exe on Windows, under Wine on
// Linux), driven by the same load generator with
// every byte checked, watched through /stats meanwhile (threads, working set, CPU time, connections), and
// stopped gracefully (cli/measure.h). The table says where it was measured: a Wine figure compares models
// with each other and says nothing about Windows.
//
// Sections: scenarios · one table per scenario · the comparison · the command.
#include "cli/compare.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <thread>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/terminal.h"
#include "common/net/socket.h"

namespace socklab::cli {

// ---- scenarios --------------------------------------------------------------------------------------------
const std::vector<std::string>& all_models() {
    static const std::vector<std::string> models = {"blocking",         "select",           "async-select",
                                                    "event-select",     "overlapped-event", "completion-routine",
                                                    "iocp",             "iocp-acceptex"};
    return models;
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
                                       {Scenario::tracing_overhead, "tracing-overhead"}};

}  // namespace

bool parse_scenario(const std::string& name, Scenario& scenario) {
    for (const ScenarioName& known : kScenarios)
        if (name == known.name) {
            scenario = known.scenario;
            return true;
        }
    return false;
}

const char* scenario_name(Scenario scenario) {
    for (const ScenarioName& known : kScenarios)
        if (scenario == known.scenario) return known.name;
    return "?";
}

namespace {

// ---- one table per scenario -------------------------------------------------------------------------------
// Every table's title names the load and the runtime; every Wine table says what would differ on Windows.
std::string load_words(const load::Options& options) {
    std::string words = std::to_string(options.clients) + " clients, " + std::to_string(options.line_size) +
                        "-byte lines, " +
                        (options.lines_per_client ? std::to_string(options.lines_per_client) + " lines each"
                                                  : fixed(options.duration_seconds, 0) + " s closed loop");
    if (options.work_every)
        words += ", every " + std::to_string(options.work_every) + "th line /work " +
                 std::to_string(options.work_cpu_ms) + " " + std::to_string(options.work_block_ms);
    return words;
}

std::string measured_under(const std::string& runtime) {
    return "measured under " + runtime + ", " + std::to_string(std::thread::hardware_concurrency()) + " processors";
}

const char* kWineNote =
    "Measured under Wine: every overlapped WSARecv/WSASend is a round trip to wineserver, and Wine wakes "
    "completion-port waiters FIFO and ignores the concurrency value. Compare the models with each other; on "
    "Windows the absolute figures, and the IOCP models' lead, would differ.";

void add_failure_row(Table& table, const Measured& measured) {
    std::vector<std::string> cells(table.columns.size(), "");
    cells[0] = measured.model;
    cells[1] = "not measured: " + measured.failure;
    table.rows.push_back(cells);
}

Table load_table(const CompareSettings& settings, const std::vector<LoadMeasurement>& runs,
                 const std::string& runtime) {
    Table table;
    const bool slow = settings.load.work_every > 0, broadcast = settings.load.broadcast;
    table.title = std::string(broadcast ? "Broadcast" : slow ? "Slow handlers" : "Echo") + ": " +
                  load_words(settings.load) + "; " + measured_under(runtime);
    table.columns = {{"model", "model"},
                     {"round_trips_per_second", broadcast ? "broadcasts/s" : "round trips/s"}};
    if (broadcast) table.columns.push_back({"deliveries_per_second", "deliveries/s"});
    // Whose latency: the plain lines' under a /work mix, the `OK all` replies' in a broadcast.
    const std::string whose = broadcast ? "reply " : slow ? "echo " : "";
    table.columns.insert(table.columns.end(),
                    {{"p50_ms", whose + "p50 ms"},
                     {"p99_ms", whose + "p99 ms"},
                     {"max_ms", whose + "max ms"},
                     {"threads", "threads"},
                     {"connections", "connections"},
                     {"peak_working_set_mib", "peak memory MiB"},
                     {"cpu_seconds", "CPU s"},
                     {"errors", "wrong or lost"}});
    for (const LoadMeasurement& run : runs) {
        if (!run.ok()) {
            add_failure_row(table, run);
            continue;
        }
        // Latency of the plain lines (the /all lines in a broadcast): a /work line takes its block time by design.
        const load::Result& r = run.load;
        std::vector<std::string> row = {run.model, fixed(r.lines_per_second, 0)};
        if (broadcast) row.push_back(fixed(r.deliveries_per_second, 0));
        row.insert(row.end(), {fixed(r.echo_latency_p50_us / 1000, 2), fixed(r.echo_latency_p99_us / 1000, 2),
                               fixed(r.echo_latency_max_us / 1000, 2), std::to_string(run.server.threads_most),
                               std::to_string(run.server.connections_most), fixed(run.server.peak_working_set_mib, 1),
                               fixed(run.server.cpu_seconds, 2), std::to_string(r.mismatches + r.errors)});
        table.rows.push_back(row);
    }
    if (broadcast)
        table.notes.push_back(
            "Every line is `/all <text>`: the server sends `<id>: <text>` to every other client (and to the /stats "
            "watcher) and replies `OK all <n>` to the sender. Each delivery is checked byte for byte and in its "
            "sender's order; deliveries/s counts those the load's clients received. Latency is of the `OK all` "
            "reply.");
    if (slow)
        table.notes.push_back(
            "Every " + std::to_string(settings.load.work_every) + "th line of each client is `/work " +
            std::to_string(settings.load.work_cpu_ms) + " " + std::to_string(settings.load.work_block_ms) +
            "`: its handler blocks. Round trips count every line; latency is of the plain lines: a model whose "
            "echo latency climbs toward the block time makes everyone wait behind one slow handler.");
    if (is_wine(runtime)) table.notes.push_back(kWineNote);
    return table;
}

Table capacity_table(const CompareSettings& settings, const std::vector<CapacityMeasurement>& runs,
                     const std::string& runtime) {
    Table table;
    table.title = "Capacity: concurrent clients held, every one echoing " + std::to_string(settings.capacity_lines) +
                  " lines correctly, up to " + std::to_string(settings.capacity_cap) + "; " + measured_under(runtime);
    table.columns = {{"model", "model"},
                     {"clients_held", "clients held"},
                     {"threads", "threads at most"},
                     {"peak_working_set_mib", "peak memory MiB"},
                     {"steps", "steps (clients: held?)"},
                     {"first_problem", "first problem"}};
    for (const CapacityMeasurement& run : runs) {
        if (!run.started) {
            add_failure_row(table, run);
            continue;
        }
        std::string steps, problem;
        ServerFigures most;
        for (const CapacityStep& step : run.steps) {
            steps += (steps.empty() ? "" : " ") + std::to_string(step.clients) + (step.held ? " yes" : " NO");
            if (!step.held && problem.empty()) problem = step.problem;
            most.threads_most = std::max(most.threads_most, step.server.threads_most);
            most.peak_working_set_mib = std::max(most.peak_working_set_mib, step.server.peak_working_set_mib);
        }
        // A server that held every step but did not stop cleanly afterwards: the steps still say what it held.
        if (!run.failure.empty()) problem = (problem.empty() ? "" : problem + "; then ") + run.failure;
        table.rows.push_back({run.model, std::to_string(run.held()), std::to_string(most.threads_most),
                              fixed(most.peak_working_set_mib, 1), steps, problem});
    }
    table.notes.push_back(
        "Each step connects every client before any sends, so all of them are open at once, then each sends " +
        std::to_string(settings.capacity_lines) +
        " lines and checks every echoed byte; echoes still missing 10 s after the last line was sent count as "
        "lost. The sweep stops at the first step a model does not hold.");
    if (is_wine(runtime))
        table.notes.push_back("Measured under Wine: thread and memory figures are the Wine process's own; a "
                              "Windows server's limits (non-paged pool, thread stacks) would differ.");
    return table;
}

// The tracing-overhead scenario splits the duration into 2 × pairs equal segments.
load::Options overhead_segment(const CompareSettings& settings) {
    load::Options segment = settings.load;
    segment.duration_seconds = settings.load.duration_seconds / (2.0 * settings.overhead_pairs);
    return segment;
}

Table overhead_table(const CompareSettings& settings, const std::vector<OverheadMeasurement>& runs,
                     const std::string& runtime) {
    Table table;
    const load::Options segment = overhead_segment(settings);
    table.title = "Tracing overhead: " + load_words(segment) + " per segment, " +
                  std::to_string(settings.overhead_pairs) + " off/on pairs interleaved; " + measured_under(runtime);
    table.columns = {{"model", "model"},
                     {"off_round_trips_per_second", "recording off rt/s"},
                     {"on_round_trips_per_second", "recording on rt/s"},
                     {"cost_percent", "tracing cost %"},
                     {"pair_cost_range", "one pair's cost, low..high %"},
                     {"errors", "wrong or lost"}};
    for (const OverheadMeasurement& run : runs) {
        if (!run.ok()) {
            add_failure_row(table, run);
            continue;
        }
        std::vector<double> pairs = run.pair_costs();
        auto [low, high] = pairs.empty() ? std::pair{0.0, 0.0}
                                         : std::pair{*std::min_element(pairs.begin(), pairs.end()),
                                                     *std::max_element(pairs.begin(), pairs.end())};
        table.rows.push_back({run.model, fixed(run.mean_off(), 0), fixed(run.mean_on(), 0),
                              fixed(run.cost_percent(), 1), fixed(low, 1) + ".." + fixed(high, 1),
                              run.problem.empty() ? "0" : run.problem});
    }
    table.notes.push_back(
        "Two servers of each model run at once, one recording a trace file (--trace-file); the same load goes to "
        "each in turn, off-on then on-off, so a drift in the machine's speed falls on both. The cost is 1 - "
        "(sum of recording-on throughput / sum of recording-off throughput). The target (docs/design.md section 10) is "
        "3% at most. A single pair's cost shows how far one short run can be trusted.");
    if (is_wine(runtime))
        table.notes.push_back("Measured under Wine, where every overlapped call is already a round trip to "
                              "wineserver: on Windows a server is faster, so the same per-event cost is a larger "
                              "share of it.");
    return table;
}

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
            capacities.push_back(measure_capacity(model, capacity_steps(settings.capacity_cap),
                                                  settings.capacity_lines, progress));
            // Not holding every client is a finding, not a failure; failing to run or stop cleanly is.
            comparison.correct = comparison.correct && capacities.back().ok();
            break;
        case Scenario::tracing_overhead: {
            overheads.push_back(measure_overhead(model, overhead_segment(settings), settings.overhead_pairs, progress));
            if (!overheads.back().problem.empty()) note_problems(comparison, model, {overheads.back().problem});
            comparison.correct = comparison.correct && overheads.back().ok() && overheads.back().problem.empty();
            break;
        }
        }
    }
    if (terminal) std::fputs(progress_clear(width).c_str(), stderr);
    for (const auto& run : loads) measured.push_back(&run);
    for (const auto& run : capacities) measured.push_back(&run);
    for (const auto& run : overheads) measured.push_back(&run);
    for (const Measured* one : measured)
        if (!one->ok()) comparison.problems.push_back(one->model + ": " + one->failure);
    comparison.runtime = runtime_of(measured);
    switch (settings.scenario) {
    case Scenario::echo:
    case Scenario::slow_handler:
    case Scenario::broadcast: comparison.table = load_table(settings, loads, comparison.runtime); break;
    case Scenario::capacity: comparison.table = capacity_table(settings, capacities, comparison.runtime); break;
    case Scenario::tracing_overhead:
        comparison.table = overhead_table(settings, overheads, comparison.runtime);
        break;
    }
    return comparison;
}

// ---- the command ------------------------------------------------------------------------------------------
int compare_command(const Arguments& arguments) {
    CompareSettings settings;
    load::Options& options = settings.load;
    std::uint64_t clients = 64, size = 64, lines = 0, cap = settings.capacity_cap, pairs = settings.overhead_pairs;
    double duration = 5;
    std::string scenario_text = "echo", work, format = "md", out_path;
    bool tracing_overhead = false;
    Flags flags("compare");
    flags.set_synopsis(
        "[model...] [options]\n\nRuns each model (all eight when none is named) under the same load, checks every "
        "byte,\nand prints one table (one block a row on a terminal too narrow for it). Exits 1 if any\nmodel returned a "
        "wrong byte or failed.\n\nScenarios:\n"
        "  echo               plain lines echoed, closed loop (--work adds a mix of slow handlers)\n"
        "  slow-handler       every 10th line is /work 0 50 (or --work): which models stall everyone else\n"
        "  broadcast          every line is /all: fan-out to every other client, each delivery checked\n"
        "  capacity           100, 250, 500, 1000 ... --cap concurrent clients: how many each model holds\n"
        "  tracing-overhead   recording off and on, interleaved in one run: what tracing costs");
    flags.text("scenario", scenario_text, "echo, slow-handler, broadcast, capacity or tracing-overhead");
    flags.count("clients", clients, 1, 5000, "concurrent clients");
    flags.count("lines", lines, 0, 1u << 30, "lines per client; 0 = send for --duration");
    flags.count("size", size, 2, 1 << 20, "bytes per line, newline included");
    flags.number("duration", duration, 0.5, 3600, "seconds of load per model");
    flags.text("work", work, "a slow-handler mix CPU_MS,BLOCK_MS,EVERY: every EVERY-th line is /work CPU_MS BLOCK_MS");
    flags.count("cap", cap, 1, 20000, "capacity: the most clients to try");
    flags.count("pairs", pairs, 1, 100, "tracing-overhead: off/on pairs the duration is split into");
    flags.toggle("tracing-overhead", tracing_overhead, "the same as --scenario tracing-overhead");
    flags.text("format", format, "md, csv or json");
    flags.text("out", out_path, "write the table to this file too");
    if (!flags.parse(arguments, &settings.models)) return flags.exit_code();
    if (format != "md" && format != "csv" && format != "json")
        return usage_error("compare", "--format is md, csv or json, not '" + format + "'");
    if (!parse_scenario(scenario_text, settings.scenario))
        return usage_error("compare", "no scenario '" + scenario_text + "' (see --help)");
    if (tracing_overhead) settings.scenario = Scenario::tracing_overhead;
    if (settings.models.empty()) settings.models = all_models();
    for (const std::string& model : settings.models)
        if (std::find(all_models().begin(), all_models().end(), model) == all_models().end())
            return usage_error("compare", "no model '" + model + "' (see socklab models)");
    options.clients = static_cast<unsigned>(clients);
    options.line_size = static_cast<unsigned>(size);
    options.lines_per_client = lines;
    options.duration_seconds = duration;
    settings.capacity_cap = static_cast<unsigned>(cap);
    settings.overhead_pairs = static_cast<unsigned>(pairs);
    if (settings.scenario == Scenario::slow_handler && work.empty()) work = "0,50,10";
    options.broadcast = settings.scenario == Scenario::broadcast;
    if (options.broadcast && size < 24)
        return usage_error("compare", "broadcast lines must be at least 24 bytes (they name their sender)");
    if (!work.empty()) {
        unsigned cpu = 0, block = 0, every = 0;
        if (std::sscanf(work.c_str(), "%u,%u,%u", &cpu, &block, &every) != 3 || every == 0)
            return usage_error("compare", "--work wants CPU_MS,BLOCK_MS,EVERY, e.g. 0,50,10, not '" + work + "'");
        options.work_cpu_ms = cpu;
        options.work_block_ms = block;
        options.work_every = every;
        if (settings.scenario == Scenario::echo) settings.scenario = Scenario::slow_handler;
    }

    Comparison comparison = run_comparison(settings);
    const std::string table = render(comparison.table, format);
    // On a terminal, a Markdown table wider than it is shown one block a row; a pipe or --out gets the Markdown.
    const bool on_terminal = format == "md" && is_terminal(stdout);
    std::fputs(on_terminal ? fit_table(comparison.table, static_cast<std::size_t>(terminal_width())).c_str() : table.c_str(),
               stdout);
    if (!out_path.empty()) {
        std::ofstream out(out_path);
        out << table;
        if (!out) {
            std::fprintf(stderr, "socklab compare: cannot write %s\n", out_path.c_str());
            return 1;
        }
    }
    if (!comparison.correct) {
        std::fprintf(stderr, "socklab compare: FAILED: a model did not start, did not stop cleanly, or returned a "
                             "wrong byte\n");
        for (const std::string& problem : comparison.problems) std::fprintf(stderr, "  %s\n", problem.c_str());
        return 1;
    }
    return 0;
}

}  // namespace socklab::cli
