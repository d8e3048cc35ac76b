// cli/report_page.h — the benchmark report's page, docs/report/README.md, from the sections as run and the
// benchmarks' output. Pure: what it needs to know about the run and the machine comes in ReportFacts.
#pragma once

#include <string>
#include <vector>

#include "cli/benchmarks.h"
#include "cli/report_plan.h"

namespace socklab::cli {

// How the report was made, for its introduction (gathered by report.cpp; machine.h).
struct ReportFacts {
    std::string command;          // "./socklab report --quick"
    std::string started;          // "2024-05-01 14:03 UTC"
    double seconds = 0;           // how long the run took
    std::string gnuplot;          // gnuplot's version line; "" without gnuplot, and then no plots
    std::string machine;          // machine_description()
    std::string machinery_where;  // "native", "under Wine 8.0"
    unsigned processors = 0;
};

// The headline figures: a line a section, its measured models ranked best first ("name value unit"), and what our
// own machinery costs when both benchmarks ran.
std::string headline(const std::vector<Section>& sections, const std::vector<Benchmark>& benchmarks,
                     const std::string& machinery_where);

// The whole page: introduction, headline figures, method, a part per section, our own machinery.
std::string page(const std::vector<Section>& sections, const std::vector<Benchmark>& benchmarks,
                 const ReportFacts& facts);

}  // namespace socklab::cli
