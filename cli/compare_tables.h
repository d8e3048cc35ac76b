// cli/compare_tables.h — the table of each compare scenario, from its measurements: what `socklab compare`
// prints and `socklab report` writes and plots. Pure: the same measurements give the same cells.
//
// Every table's title names the load and where it was measured ("measured under Wine 8.0, 2 processors"); a model
// that could not be measured has a row that says why; every Wine table adds a note on what would differ on Windows.
#pragma once

#include <string>
#include <vector>

#include "cli/compare.h"
#include "cli/measure.h"
#include "cli/table.h"

namespace socklab::cli {

// Echo, slow handlers and broadcast: throughput, latency (of the plain lines under a /work mix, of the `OK all`
// replies in a broadcast), the server's threads, connections, memory and CPU, and what was wrong or lost.
Table load_table(const CompareSettings& settings, const std::vector<LoadMeasurement>& runs, const std::string& runtime);
// Capacity: the most clients each model held, and its steps ("100 yes 250 NO").
Table capacity_table(const CompareSettings& settings, const std::vector<CapacityMeasurement>& runs,
                     const std::string& runtime);
// Tracing overhead: throughput with recording off and on, the cost, and the spread of single pairs' costs.
Table overhead_table(const CompareSettings& settings, const std::vector<OverheadMeasurement>& runs,
                     const std::string& runtime);

// The tracing-overhead scenario splits the duration into 2 × pairs equal segments: one segment's load.
load::Options overhead_segment(const CompareSettings& settings);

}  // namespace socklab::cli
