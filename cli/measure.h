// cli/measure.h — one model's server under one load: the measuring engine behind `socklab compare` and
// `socklab report`.
//
// Every measurement starts the model's own server (socklab-server.exe beside socklab.exe on Windows; on Linux a
// Windows model's under Wine, a Linux model's natively: cli/server_run.h), drives it with the load generator
// (every byte checked), watches its /stats meanwhile, and stops it gracefully — and a server that does not stop
// cleanly, or leaves sockets or per-I/O objects behind, makes the measurement fail.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/load/load.h"

namespace socklab::cli {

// Told about progress: what is happening now, and how far the current measurement is (0..1).
using ProgressReport = std::function<void(const std::string& what, double fraction)>;

// The largest figures a server reported through /stats while it was measured.
struct ServerFigures {
    unsigned threads_most = 0;
    std::uint64_t connections_most = 0;  // the load's connections (the watcher's own is left out)
    double peak_working_set_mib = 0;
    double cpu_seconds = 0;
};

// Where a model's figures were measured: "Wine 8.0", "Windows 10.0.19045" — whatever the server says it ran on.
struct Measured {
    std::string model;
    std::string runtime;
    bool started = false;
    std::string failure;  // why the model could not be measured, or what went wrong in its server
    bool ok() const { return started && failure.empty(); }
};

// ---- echo, slow handlers, broadcast: one load against one model ----
struct LoadMeasurement : Measured {
    load::Result load;
    ServerFigures server;
    bool correct() const { return ok() && load.ok(); }
};
LoadMeasurement measure_load(const std::string& model, const load::Options& options, bool traced,
                             const ProgressReport& progress);

// ---- capacity: how many concurrent clients a model holds, every one echoing correctly ----
struct CapacityStep {
    unsigned clients = 0;
    bool held = false;    // every client connected at once and had every line echoed byte for byte
    std::string problem;  // the first thing that went wrong, when not held
    ServerFigures server;
};
struct CapacityMeasurement : Measured {
    std::vector<CapacityStep> steps;  // in order; the sweep stops at the first step not held
    unsigned held() const;            // the most clients held (0 when not even the first step was)
};
// The client counts a sweep tries: 100, 250, 500, 1000, 2000, 4000, ... up to and including cap.
std::vector<unsigned> capacity_steps(unsigned cap);
CapacityMeasurement measure_capacity(const std::string& model, const std::vector<unsigned>& steps, unsigned lines_each,
                                     const ProgressReport& progress);

// ---- what tracing costs: recording off and on, interleaved in one run ----
// Two servers of the model run at once, one recording a trace file; the same load is applied to each in turn,
// in short segments ordered off-on-on-off, on-off-off-on ... so drift on a shared machine falls on both alike.
struct OverheadMeasurement : Measured {
    std::vector<double> off, on;  // round trips per second, segment by segment
    std::string problem;          // a wrong byte in any segment
    double mean_off() const;
    double mean_on() const;
    double cost_percent() const;  // 100 × (1 − Σon / Σoff)
    // Each off/on pair's own cost, in order: their spread says how much a single pair could be trusted.
    std::vector<double> pair_costs() const;
};
OverheadMeasurement measure_overhead(const std::string& model, const load::Options& segment, unsigned pairs,
                                     const ProgressReport& progress);

// The runtime line for a title: the runtime every model that started ran on, or each of them in order, joined
// ("Wine 8.0 and Linux 6.1.0-28-amd64") when they differ; "unknown runtime" if none started.
std::string runtime_of(const std::vector<const Measured*>& measured);
// Whether a server ran natively on Linux (a Linux model says "Linux <release>").
bool is_native_linux(const std::string& runtime);
// A runtime line (runtime_of's) in a report's or a plot's title: "measured under Wine 8.0 on Linux, not Windows",
// "measured natively on Linux 6.1.0-28-amd64", and with both "measured under Wine 8.0 (the Windows models) and
// natively on Linux 6.1.0-28-amd64 (the Linux models), not on Windows".
std::string measured_where(const std::string& runtime);
// Whether a server said it ran under Wine (visualizer/model/runtime_note.h decides, for the lessons too).
bool is_wine(const std::string& runtime);

}  // namespace socklab::cli
