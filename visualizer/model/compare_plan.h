// visualizer/model/compare_plan.h — what `socklab-viz --compare iocp,select` asks for, checked before any
// server starts (Wine takes seconds; a typo should cost none).
//
// The compare view runs each model as its own server (ports chosen by the servers, so they never clash),
// drives the same load on each from the built-in clients (visualizer/model/client_pool.h), and plots every
// session's replies per second and round-trip latency together (visualizer/ui/compare_panel.cpp).
#pragma once

#include <string>
#include <vector>

#include "visualizer/model/load_series.h"

namespace socklab::viz {

// The model ids socklab-server runs (models/registry.cpp, DESIGN.md §5), in the suite's order.
const std::vector<std::string>& known_models();

// Splits "iocp,select" (commas, no spaces needed) into model ids. False with a message naming the problem
// when a name is unknown, empty, or fewer than two models are named. The same model twice is allowed: it
// shows how much two runs of one model differ, which is the noise every other difference must exceed.
bool parse_compare_models(const std::string& list, std::vector<std::string>& models, std::string& error);

// One row of the summary printed when a compare run ends.
struct CompareRow {
    std::string model;
    std::string runtime;  // as the server reported it: "Wine 8.0", "Windows 10.0.19045"
    LoadSummary summary;
};
// The summary as text: a heading that says what the load was and where it ran (a Wine figure is never a
// Windows figure), then one line per model: "iocp  Wine 8.0  5,123  2.94  7.10  32".
std::string format_compare_summary(const std::vector<CompareRow>& rows, const std::string& load_description);

}  // namespace socklab::viz
