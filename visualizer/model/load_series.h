// visualizer/model/load_series.h — throughput and round-trip latency over time, as the clients saw them.
//
// The compare view (visualizer/ui/compare_panel.cpp) plots, for every run, how many replies came back
// per second and how long they took, sampled every 250 ms of wall time. The figures come from the client
// side (visualizer/model/client_pool.h), not from the trace, so they mean the same thing for every model
// and include everything a real client waits for: the kernel, the runtime (Wine) and the server.
//
// A window's latency percentiles are exact (nearest rank over every reply in the window): a window holds at
// most a few thousand replies, so sorting them four times a second costs little, and exact figures can be
// checked by tests to the nanosecond.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

namespace socklab::viz {

// One window of wall time.
struct LoadSample {
    double end_seconds = 0;         // the window's end, in seconds since the series started
    std::uint32_t replies = 0;      // replies that arrived in the window
    double replies_per_second = 0;  // replies / window length
    // Round trip from the line being queued to its reply arriving; only meaningful when replies > 0.
    std::int64_t latency_p50_ns = 0;
    std::int64_t latency_p99_ns = 0;
    std::int64_t latency_max_ns = 0;
};

// The value at nearest rank ceil(fraction * n) (1-based) of `values`, which it reorders. 0 when empty.
// Nearest rank always returns one of the values, never an interpolation: "p99 = 7.1 ms" means a reply took
// exactly that long.
std::int64_t nearest_rank_percentile(std::vector<std::int64_t>& values, double fraction);

class LoadSeries {
public:
    static constexpr std::int64_t kDefaultWindowNs = 250'000'000;  // four samples a second
    static constexpr std::size_t kDefaultCapacity = 2400;          // ten minutes of 250 ms windows

    explicit LoadSeries(std::int64_t window_ns = kDefaultWindowNs, std::size_t capacity = kDefaultCapacity);

    // Windows are counted from `now_ns` (a steady clock, in nanoseconds). Forgets every sample.
    void start(std::int64_t now_ns);
    bool started() const { return started_; }
    // A reply arrived at now_ns, latency_ns after its line was sent. Starts the series if needed.
    void add_reply(std::int64_t now_ns, std::int64_t latency_ns);
    // Closes every window that ended at or before now_ns; windows with no reply are kept, with zero replies,
    // so a stalled server shows as a drop to zero rather than as a gap that hides it.
    void advance(std::int64_t now_ns);

    // The closed windows, oldest first; at most capacity() of them (the oldest are forgotten).
    const std::deque<LoadSample>& samples() const { return samples_; }
    // Every window closed since start(), including those forgotten: changes exactly when a sample is added.
    std::uint64_t windows_closed() const { return windows_closed_; }
    std::uint64_t total_replies() const { return total_replies_; }
    std::int64_t window_ns() const { return window_ns_; }
    std::size_t capacity() const { return capacity_; }

private:
    void close_window();

    std::int64_t window_ns_;
    std::size_t capacity_;
    bool started_ = false;
    std::int64_t window_end_ns_ = 0;  // where the open window ends
    std::uint64_t windows_closed_ = 0;
    std::uint64_t total_replies_ = 0;
    std::vector<std::int64_t> window_latencies_;  // the open window's round trips; reused, so no allocation
    std::deque<LoadSample> samples_;
};

// What a run of a series adds up to, for the text under the plots and the summary printed at exit.
struct LoadSummary {
    std::size_t windows = 0;             // windows since the first reply
    double mean_replies_per_second = 0;  // over those windows
    double last_replies_per_second = 0;  // the newest window
    // Medians, over the windows that had replies, of each window's p50 and p99: a steady figure that one
    // slow window cannot move (the plots show the slow windows).
    std::int64_t median_p50_ns = 0;
    std::int64_t median_p99_ns = 0;
    // The run's spread of replies per second: the 10th and 90th percentiles (nearest rank) over the same
    // windows. Two models whose spreads overlap were not told apart by this run (see within_spread).
    double low_replies_per_second = 0;
    double high_replies_per_second = 0;
};
// Sums up the last `newest` samples (0 = all kept), skipping those before the first reply (start-up).
LoadSummary summarize(const LoadSeries& series, std::size_t newest = 0);
// True when both summaries have windows and their p10-p90 spreads of replies per second overlap: the
// difference between their means is inside this run's noise, not a ranking.
bool within_spread(const LoadSummary& a, const LoadSummary& b);

}  // namespace socklab::viz
