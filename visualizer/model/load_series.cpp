// visualizer/model/load_series.cpp — see load_series.h.
#include "visualizer/model/load_series.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace socklab::viz {

std::int64_t nearest_rank_percentile(std::vector<std::int64_t>& values, double fraction) {
    if (values.empty()) return 0;
    // Rank ceil(fraction * n), 1-based, kept within 1..n (fraction 0 asks for the smallest).
    auto rank = static_cast<std::size_t>(std::ceil(fraction * double(values.size())));
    rank = std::clamp<std::size_t>(rank, 1, values.size());
    // nth_element, not a sort: linear time, and the caller throws the order away anyway.
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank - 1), values.end());
    return values[rank - 1];
}

LoadSeries::LoadSeries(std::int64_t window_ns, std::size_t capacity) : window_ns_(window_ns), capacity_(capacity) {
    if (window_ns <= 0 || capacity == 0)
        throw std::invalid_argument("LoadSeries: window and capacity must be positive");
}

void LoadSeries::start(std::int64_t now_ns) {
    started_ = true;
    window_end_ns_ = now_ns + window_ns_;
    windows_closed_ = 0;
    total_replies_ = 0;
    window_latencies_.clear();
    samples_.clear();
}

void LoadSeries::add_reply(std::int64_t now_ns, std::int64_t latency_ns) {
    if (!started_) start(now_ns);
    advance(now_ns);
    window_latencies_.push_back(latency_ns);
    ++total_replies_;
}

void LoadSeries::advance(std::int64_t now_ns) {
    if (!started_) return;
    // A reply exactly on a window's end belongs to the next window: windows are [start, end).
    while (now_ns >= window_end_ns_) {
        close_window();
        window_end_ns_ += window_ns_;
    }
}

void LoadSeries::close_window() {
    LoadSample sample;
    ++windows_closed_;
    sample.end_seconds = double(windows_closed_) * double(window_ns_) / 1e9;
    sample.replies = static_cast<std::uint32_t>(window_latencies_.size());
    sample.replies_per_second = double(sample.replies) * 1e9 / double(window_ns_);
    if (!window_latencies_.empty()) {
        sample.latency_max_ns = *std::max_element(window_latencies_.begin(), window_latencies_.end());
        sample.latency_p99_ns = nearest_rank_percentile(window_latencies_, 0.99);
        sample.latency_p50_ns = nearest_rank_percentile(window_latencies_, 0.50);
    }
    window_latencies_.clear();
    samples_.push_back(sample);
    if (samples_.size() > capacity_) samples_.pop_front();
}

LoadSummary summarize(const LoadSeries& series, std::size_t newest) {
    LoadSummary summary;
    const auto& samples = series.samples();
    std::size_t begin = newest && newest < samples.size() ? samples.size() - newest : 0;
    while (begin < samples.size() && samples[begin].replies == 0) ++begin;  // before the first reply: start-up
    if (begin == samples.size()) return summary;
    std::vector<std::int64_t> p50s, p99s;
    std::vector<double> rates;
    double replies = 0;
    for (std::size_t i = begin; i < samples.size(); ++i) {
        const LoadSample& sample = samples[i];
        replies += sample.replies_per_second;
        rates.push_back(sample.replies_per_second);
        if (sample.replies == 0) continue;
        p50s.push_back(sample.latency_p50_ns);
        p99s.push_back(sample.latency_p99_ns);
    }
    summary.windows = samples.size() - begin;
    summary.mean_replies_per_second = replies / double(summary.windows);
    summary.last_replies_per_second = samples.back().replies_per_second;
    summary.median_p50_ns = nearest_rank_percentile(p50s, 0.5);
    summary.median_p99_ns = nearest_rank_percentile(p99s, 0.5);
    std::sort(rates.begin(), rates.end());
    const auto rank = [&](double fraction) {  // nearest rank, 1-based ceil(fraction * n)
        const auto at = static_cast<std::size_t>(std::ceil(fraction * double(rates.size()) - 1e-9));
        return rates[std::clamp<std::size_t>(at, 1, rates.size()) - 1];
    };
    summary.low_replies_per_second = rank(0.1);
    summary.high_replies_per_second = rank(0.9);
    return summary;
}

bool within_spread(const LoadSummary& a, const LoadSummary& b) {
    if (a.windows == 0 || b.windows == 0) return false;
    return a.low_replies_per_second <= b.high_replies_per_second &&
           b.low_replies_per_second <= a.high_replies_per_second;
}

}  // namespace socklab::viz
