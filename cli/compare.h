// cli/compare.h — the same load against several models, one table: the engine of `socklab compare`, which
// `socklab report` runs scenario by scenario, and what `socklab compare` reads from its command line. The tables
// themselves are cli/compare_tables.h.
#pragma once

#include <string>
#include <vector>

#include "cli/cost.h"
#include "cli/flags.h"
#include "cli/measure.h"
#include "cli/table.h"
#include "common/load/load.h"

namespace socklab::cli {

// The eight Windows models, in the order of their files: what compare and report run when no model is named, so
// their tables keep their meaning. Every model the suite knows, Linux's too, is in common/catalog/models.h.
const std::vector<std::string>& all_models();
// Whether the cost scenario counts this model's calls with strace (system calls): a Linux model, run natively.
// The Windows models' are counted under Wine (wineserver requests); a table with both says they are two units.
bool counted_by_strace(const std::string& model);

enum class Scenario {
    echo,              // plain lines echoed, closed loop (with --work: a mix of slow handlers)
    slow_handler,      // echo with every N-th line a blocking /work: which models stall everyone else
    broadcast,         // every line is /all: fan-out to every other client
    capacity,          // more and more concurrent clients, until a model stops holding them all correctly
    tracing_overhead,  // echo with recording off and on, interleaved: what tracing costs
    cost,              // one connection's ping-pong: wineserver requests, CPU, context switches per echo (cli/cost.h)
};
bool parse_scenario(const std::string& name, Scenario& scenario);
const char* scenario_name(Scenario scenario);
// What a scenario runs when no model is named: the eight, and for cost the yardstick after them (cli/cost.h).
std::vector<std::string> default_models(Scenario scenario);

struct CompareSettings {
    std::vector<std::string> models;
    Scenario scenario = Scenario::echo;
    load::Options load;  // clients, line size, duration, work mix (host and port are filled in)
    unsigned capacity_cap = 2000;
    unsigned capacity_lines = 3;  // lines each client of a capacity step sends
    unsigned overhead_pairs = 3;  // off/on pairs; the duration is shared among their segments
    CostSettings cost;            // the cost scenario's windows (its load is always one connection)
};

struct Comparison {
    Table table;
    std::string runtime;
    bool correct = true;                // every model started, stopped cleanly and returned every byte right
    std::vector<std::string> problems;  // "iocp: client 3 line 7: expected ..." (a few per model)
};

// Runs the scenario against each model in turn; progress goes to standard error when it is a terminal.
Comparison run_comparison(const CompareSettings& settings);

// `socklab compare [model...] [options]`: the settings, and how to show the table.
struct CompareRequest {
    CompareSettings settings;
    std::string format = "md";  // md, csv or json
    std::string out_path;       // also written here, when given
};
// The models (all eight when none is named), the scenario and its load, checked against each other: --work
// turns echo into slow-handler, a broadcast needs lines of 24 bytes, only cost takes the yardstick. Prints nothing: --help and a wrong use are
// the EarlyExit, with the message a user sees.
Parsed<CompareRequest> parse_compare_command(const Arguments& arguments);

}  // namespace socklab::cli
