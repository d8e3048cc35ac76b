// cli/report_plan.h — what `socklab report` measures: one section per compare scenario, with its load and the
// plots drawn from its table. Pure: report.cpp runs the plan, report_page.h writes it up.
#pragma once

#include <string>
#include <vector>

#include "cli/compare.h"

namespace socklab::cli {

// A plot of one section: for each measured model, a bar per column, drawn by gnuplot from the table's cells.
struct Plot {
    std::string name;                  // file stem: echo-throughput, ...
    std::vector<std::string> columns;  // keys of the table's columns: a bar per model for each
    std::string y_label;
    bool log_scale = false;
    double target = 0;         // a horizontal line (the tracing-cost target), 0 = none
    std::string range_column;  // a "low..high" cell, drawn as an error bar on the first column
    bool drawn = false;        // its PNG was written (not without gnuplot)
};

// One section of the report: the scenario, its load, what its plots show and, once run, its result.
struct Section {
    std::string name;  // file stem of its CSV: echo, slow-handler, ...
    std::string heading;
    std::string question;  // what this section answers, for the reader
    CompareSettings settings;
    std::vector<Plot> plots;
    Comparison result;
};

// The six sections, in the report's order: echo, slow-handler, broadcast, capacity, tracing-overhead, cost (with
// the yardstick when iocp or iocp-acceptex is measured). `quick`: seconds instead of minutes (fewer clients, short
// runs), for tests.
std::vector<Section> plan(const std::vector<std::string>& models, bool quick);

}  // namespace socklab::cli
