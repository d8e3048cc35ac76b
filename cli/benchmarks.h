// cli/benchmarks.h — our own machinery's benchmarks, run for `socklab report` and quoted whole on its page:
// trace-bench (recording one trace event) and viz-bench (the visualizer's intake and frame). On Linux they are
// run from build/linux, on Windows from beside socklab.exe.
#pragma once

#include <string>
#include <vector>

namespace socklab::cli {

// The benchmarks of the tracer and the visualizer, run as they are and quoted whole: on Linux from build/linux,
// on Windows from beside socklab.exe.
struct Benchmark {
    std::string title;
    std::string program;  // the Linux build's path under build/linux; on Windows its name + .exe
    std::string output;
    bool built = false;
    bool ran = false;
};

// Runs each benchmark that is built and keeps what it printed; one that is not built says so in its output.
std::vector<Benchmark> run_benchmarks();

// The number after `label` in a benchmark's output ("trace event, recording off: 0.26 ns" → 0.26), or -1.
double figure_after(const std::vector<Benchmark>& benchmarks, const std::string& label);

// What the page shows as the program's place: "build/linux/tests/unit/trace-bench", or "trace-bench.exe".
std::string benchmark_shown(const std::string& program);

}  // namespace socklab::cli
