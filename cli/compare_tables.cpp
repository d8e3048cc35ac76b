// cli/compare_tables.cpp — see compare_tables.h.
#include "cli/compare_tables.h"

#include <algorithm>
#include <thread>

namespace socklab::cli {

namespace {

// Every table's title names the load and the runtime (every runtime, when rows ran on different ones); every Wine
// table says what would differ on Windows.
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

// The runtimes the rows were measured on, each once, in the rows' order (a run that never started has none).
template <class Run>
std::vector<std::string> runtimes_of(const std::vector<Run>& runs) {
    std::vector<std::string> runtimes;
    for (const Run& run : runs)
        if (run.started && !run.runtime.empty() &&
            std::find(runtimes.begin(), runtimes.end(), run.runtime) == runtimes.end())
            runtimes.push_back(run.runtime);
    return runtimes;
}

// "under Wine 8.0", "natively on Linux 6.1.0-28-amd64" (a Linux model's server says "Linux <release>").
std::string where(const std::string& runtime) {
    return is_native_linux(runtime) ? "natively on " + runtime : "under " + runtime;
}

// "measured under Wine 8.0, 2 processors" (`runtime`, the comparison's); when the rows ran on different runtimes,
// each is named and the runtime column (name_runtimes) says which row ran where.
template <class Run>
std::string measured_under(const std::vector<Run>& runs, const std::string& runtime) {
    std::vector<std::string> runtimes = runtimes_of(runs);
    if (runtimes.size() < 2) runtimes = {runtime};
    std::string words = "measured";
    for (std::size_t i = 0; i < runtimes.size(); ++i) words += (i == 0 ? " " : " and ") + where(runtimes[i]);
    words += ", " + std::to_string(std::thread::hardware_concurrency()) + " processors";
    if (runtimes.size() > 1) words += " (the runtime column says which row ran where)";
    return words;
}

// A native figure never sits beside a Wine one unnamed: with rows from two runtimes, a runtime column after the
// model's (one row per run, in order) and a note.
template <class Run>
void name_runtimes(Table& table, const std::vector<Run>& runs) {
    if (runtimes_of(runs).size() < 2) return;
    table.columns.insert(table.columns.begin() + 1, {"runtime", "runtime"});
    for (std::size_t i = 0; i < table.rows.size() && i < runs.size(); ++i)
        table.rows[i].insert(table.rows[i].begin() + 1, runs[i].started ? runs[i].runtime : "");
    table.notes.push_back(
        "The rows were measured on different runtimes (the runtime column): a Windows model under Wine, where every "
        "Winsock call that waits or completes goes through wineserver, and a Linux model natively, straight to the "
        "kernel. Compare rows of one runtime with each other; across runtimes, the gap is mostly the runtime's.");
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

}  // namespace

Table load_table(const CompareSettings& settings, const std::vector<LoadMeasurement>& runs,
                 const std::string& runtime) {
    Table table;
    const bool slow = settings.load.work_every > 0, broadcast = settings.load.broadcast;
    table.title = std::string(broadcast ? "Broadcast"
                              : slow    ? "Slow handlers"
                                        : "Echo") +
                  ": " + load_words(settings.load) + "; " + measured_under(runs, runtime);
    table.columns = {{"model", "model"}, {"round_trips_per_second", broadcast ? "broadcasts/s" : "round trips/s"}};
    if (broadcast) table.columns.push_back({"deliveries_per_second", "deliveries/s"});
    // Whose latency: the plain lines' under a /work mix, the `OK all` replies' in a broadcast.
    const std::string whose = broadcast ? "reply " : slow ? "echo " : "";
    table.columns.insert(table.columns.end(), {{"p50_ms", whose + "p50 ms"},
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
    name_runtimes(table, runs);
    if (is_wine(runtime)) table.notes.push_back(kWineNote);
    return table;
}

Table capacity_table(const CompareSettings& settings, const std::vector<CapacityMeasurement>& runs,
                     const std::string& runtime) {
    Table table;
    table.title = "Capacity: concurrent clients held, every one echoing " + std::to_string(settings.capacity_lines) +
                  " lines correctly, up to " + std::to_string(settings.capacity_cap) + "; " +
                  measured_under(runs, runtime);
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
    name_runtimes(table, runs);
    table.notes.push_back(
        "Each step connects every client before any sends, so all of them are open at once, then each sends " +
        std::to_string(settings.capacity_lines) +
        " lines and checks every echoed byte; echoes still missing 10 s after the last line was sent count as "
        "lost. The sweep stops at the first step a model does not hold.");
    if (is_wine(runtime))
        table.notes.push_back(
            "Measured under Wine: thread and memory figures are the Wine process's own; a "
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
                  std::to_string(settings.overhead_pairs) + " off/on pairs interleaved; " +
                  measured_under(runs, runtime);
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
    name_runtimes(table, runs);
    table.notes.push_back(
        "Two servers of each model run at once, one recording a trace file (--trace-file); the same load goes to "
        "each in turn, off-on then on-off, so a drift in the machine's speed falls on both. The cost is 1 - "
        "(sum of recording-on throughput / sum of recording-off throughput). The target (docs/design.md section 10) is "
        "3% at most. A single pair's cost shows how far one short run can be trusted.");
    if (is_wine(runtime))
        table.notes.push_back(
            "Measured under Wine, where every overlapped call is already a round trip to "
            "wineserver: on Windows a server is faster, so the same per-event cost is a larger "
            "share of it.");
    return table;
}

}  // namespace socklab::cli
