// visualizer/model/synthetic_trace.h — a made-up but well-formed IOCP-like trace, for tests, the benchmark
// and `socklab-viz --synthetic`. It is labelled as synthetic in its info records (runtime "synthetic"), so it
// is never mistaken for a measurement.
//
// What it simulates: `workers` threads wait on completion port 0; packets (one per client line) are posted and
// handed to a waiter while fewer than `concurrency` workers run, taking the most recent waiter (lifo = true,
// the Windows rule) or the oldest (lifo = false, what Wine 8.0 does). Some lines are /work requests that block.
// Every event's site points at the line of synthetic_trace.cpp that emitted it.
#pragma once

#include <cstdint>
#include <string>

#include "common/trace/reader.h"

namespace socklab::viz {

struct SyntheticOptions {
    unsigned workers = 4;
    unsigned concurrency = 2;
    unsigned connections = 8;
    std::size_t lines = 200;  // client lines, each one packet
    bool lifo = true;
    unsigned gate_every = 0;  // every n-th wake is held at the gate a while (0 = never)
    unsigned work_every = 5;  // every n-th line is a /work that blocks (0 = never)
    std::uint64_t seed = 1;
    std::string model = "iocp";
    std::string runtime = "synthetic";
};

trace::Trace make_synthetic_trace(const SyntheticOptions& options);

}  // namespace socklab::viz
