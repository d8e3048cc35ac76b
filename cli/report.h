// cli/report.h — `socklab report`: what it reads from its command line (report.cpp runs it; the plan, the plots
// and the page are report_plan.h, gnuplot.h and report_page.h).
#pragma once

#include <string>
#include <vector>

#include "cli/flags.h"

namespace socklab::cli {

struct ReportRequest {
    std::string out;                  // the report's folder: docs/report in the checkout unless --out
    bool quick = false;               // seconds instead of minutes, for tests
    std::vector<std::string> models;  // all eight when none is named
    std::string command;              // as the page quotes it: "./socklab report --quick" ("socklab report" on Windows)
};

// Prints nothing: --help and a wrong use (an unknown flag, a model that does not exist) are the EarlyExit, with
// the message a user sees.
Parsed<ReportRequest> parse_report_command(const Arguments& arguments);

}  // namespace socklab::cli
