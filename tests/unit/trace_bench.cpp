// trace-bench — what one trace event costs (docs/design.md §10: ≤ 10 ns recording, ≤ 1 ns when nobody records).
// Prints figures; it is a benchmark, not a test.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "common/trace/recorder.h"

namespace trace = socklab::trace;

static double ns_per_event(int count) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i) TRACE(line_in, 1, 0, i, 0);
    auto elapsed = std::chrono::steady_clock::now() - start;
    return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) / count;
}

int main() {
    constexpr int kEvents = 10'000'000;
    // Off: the recorder is not running, so TRACE is one branch on a flag.
    double off = ns_per_event(kEvents);

    // On: a file sink listening; bursts of 8,000 events (half a ring) so the collector keeps up and
    // nothing is dropped, as in a server whose threads also do real work between events.
    std::string path = (std::filesystem::temp_directory_path() / "socklab-bench.sltrace").string();
    trace::RecorderOptions options;
    options.sinks.push_back(trace::make_file_sink(path));
    options.ring_events = 1u << 16;
    trace::start(std::move(options));
    double total = 0;
    int rounds = 0;
    for (int done = 0; done < kEvents; done += 8000, ++rounds) {
        total += ns_per_event(8000);
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    trace::stop();
    double on = total / rounds;
    std::printf("trace event, recording off: %.2f ns\n", off);
    std::printf("trace event, recording on (file sink): %.2f ns\n", on);
    std::printf("event size: %zu bytes\n", sizeof(trace::Event));
    std::filesystem::remove(path);
    return 0;
}
