// cli/benchmarks.cpp — see benchmarks.h.
#include "cli/benchmarks.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cli/locate.h"
#include "cli/shell_pipe.h"
#include "common/process/child_process.h"

namespace socklab::cli {

namespace {

// Where the program is: under build/linux on Linux; beside socklab.exe on Windows, its name + .exe.
std::string benchmark_path(const std::string& program) {
#ifdef _WIN32
    return (std::filesystem::path(process::this_program_folder()) /
            (std::filesystem::path(program).filename().string() + ".exe"))
        .string();
#else
    return repository_root() + "/build/linux/" + program;
#endif
}

}  // namespace

std::string benchmark_shown(const std::string& program) {
#ifdef _WIN32
    return std::filesystem::path(program).filename().string() + ".exe";
#else
    return "build/linux/" + program;
#endif
}

std::vector<Benchmark> run_benchmarks() {
    std::vector<Benchmark> benchmarks = {
        {"Recording one trace event (targets, docs/design.md §10: at most 5 ns recording, 1 ns not recording; "
         "trace-bench prints the clock read alone beside them, the floor of any event)",
         "tests/unit/trace-bench", "", false, false},
        {"The visualizer's intake and frame (targets: at least 2 million events/s, frame at most 8 ms, "
         "40 bytes per event)",
         "visualizer/viz-bench", "", false, false}};
    for (Benchmark& benchmark : benchmarks) {
        const std::string path = benchmark_path(benchmark.program);
        std::fprintf(stderr, "socklab report: %s\n", benchmark_shown(benchmark.program).c_str());
        benchmark.built = std::filesystem::exists(path);
        FILE* output = benchmark.built ? open_pipe(shell_command(path, ""), "r") : nullptr;
        if (!output) {
            benchmark.output = benchmark.built ? "cannot run " + path : path + " is not built";
            continue;
        }
        benchmark.output = read_all(output);
        benchmark.ran = close_pipe(output) == 0;
    }
    return benchmarks;
}

double figure_after(const std::vector<Benchmark>& benchmarks, const std::string& label) {
    for (const Benchmark& benchmark : benchmarks)
        if (auto at = benchmark.output.find(label); at != std::string::npos)
            return std::atof(benchmark.output.c_str() + at + label.size());
    return -1;
}

}  // namespace socklab::cli
