// visualizer/model/compare_plan.h — what `socklab-viz --compare iocp,select` asks for, checked before any
// server starts (Wine takes seconds; a typo should cost none). A Linux model runs natively, a Windows one under
// Wine on Linux (process::server_command), so one comparison may hold both: each row names its runtime.
//
// The compare view runs each model as its own server (ports chosen by the servers, so they never clash),
// drives the same load on each from the built-in clients (visualizer/model/client_pool.h), and plots every
// run's replies per second and round-trip latency together (visualizer/ui/compare_panel.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "visualizer/model/load_series.h"

namespace socklab::viz {

// The model ids this viewer can start, in the suite's order (common/catalog/models.h): on Linux every model (the
// Windows ones under Wine, the Linux ones natively), on Windows the eight Windows ones.
const std::vector<std::string>& known_models();
// Whether `name` is a model this viewer can start; false with a message for `option` ("--start") when it is no
// model, or a Linux model asked for on Windows.
bool check_model(const std::string& name, const std::string& option, std::string& error);

// Splits "iocp,select" (commas, no spaces needed) into model ids. False with a message naming the problem
// when a name is unknown, empty, or fewer than two models are named. The same model twice is allowed: it
// shows how much two runs of one model differ, which is the noise every other difference must exceed.
bool parse_compare_models(const std::string& list, std::vector<std::string>& models, std::string& error);

// Splits "5000,5001" into the ports the compared servers listen on, one per model in the same order (a room's
// firewall may allow only some). False with a message when a port is not 1-65535, is named twice, or the count
// differs from `model_count`.
bool parse_compare_ports(const std::string& list, std::size_t model_count, std::vector<std::uint16_t>& ports,
                         std::string& error);

// One row of the summary printed when a compare run ends.
struct CompareRow {
    std::string io_model;
    std::string runtime;  // as the server reported it: "Wine 8.0", "Windows 10.0.19045"
    LoadSummary summary;
};
// The summary as text: a heading that says what the load was and where it ran (a Wine figure is never a
// Windows figure), then one line per model: "iocp  Wine 8.0  5,123  2.94  7.10  32".
// Each row ends with the run's spread of replies/s (p10-p90 of its 250 ms windows); after the rows, one line per
// pair of models whose spreads overlap (spread_notes).
std::string format_compare_summary(const std::vector<CompareRow>& rows, const std::string& load_description);
// "iocp and select: within the run's spread: not a ranking", one per pair of rows whose spreads overlap.
std::vector<std::string> spread_notes(const std::vector<CompareRow>& rows);

}  // namespace socklab::viz
