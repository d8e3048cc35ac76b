// tests/visualizer/history_bound_test.cpp — a live run's history stays within its bound however long
// the run, and nothing a panel shows changes for it.
//
// The same synthetic stream goes, batch by batch as a live server would send it, into a model with a small
// history limit and into one that keeps everything. The stream is many times the limit. Along the way the
// bounded model must stay within its limit, and agree with the full one on every whole-run figure and on
// every question about a moment it still holds.
#include <cstring>

#include "tests/catch.hpp"
#include "visualizer/model/traced_run.h"
#include "visualizer/model/synthetic_trace.h"

using namespace socklab::viz;

namespace {

constexpr std::size_t kLimit = 20'000;

// An IOCP-like run with backlogs, gate holds and /work blocks: every kind of state the panels show.
socklab::trace::Trace long_stream() {
    SyntheticOptions options;
    options.workers = 6;
    options.concurrency = 2;
    options.connections = 8;
    options.lines = 30'000;
    options.lifo = false;  // what Wine does: wakes with a choice are not all position 0
    options.gate_every = 7;
    options.work_every = 5;
    return make_synthetic_trace(options);
}

void take_metadata(TraceModel& model, const socklab::trace::Trace& trace) {
    for (const auto& [key, value] : trace.info) model.take_info(key, value);
    for (const auto& [id, site] : trace.sites) model.take_site(site);
    for (const auto& [index, thread] : trace.threads) model.take_thread(thread);
}

bool same_event(const StoredEvent& a, const StoredEvent& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void check_whole_run_figures(const TraceModel& bounded, const TraceModel& full) {
    const Counters& b = bounded.counters();
    const Counters& f = full.counters();
    CHECK(b.events == f.events);
    CHECK(b.lines_in == f.lines_in);
    CHECK(b.lines_out == f.lines_out);
    CHECK(b.bytes_in == f.bytes_in);
    CHECK(b.bytes_out == f.bytes_out);
    CHECK(b.connections_opened == f.connections_opened);
    CHECK(b.connections_closed == f.connections_closed);
    CHECK(b.io_posted == f.io_posted);
    CHECK(b.io_completed == f.io_completed);
    CHECK(b.packets_posted == f.packets_posted);
    CHECK(b.packets_dequeued == f.packets_dequeued);
    CHECK(b.gate_holds == f.gate_holds);
    CHECK(b.late_events == f.late_events);
    CHECK(b.close_reasons == f.close_reasons);

    const ConformanceFigures& bc = bounded.conformance();
    const ConformanceFigures& fc = full.conformance();
    CHECK(bc.wakes == fc.wakes);
    CHECK(bc.wakes_with_choice == fc.wakes_with_choice);
    CHECK(bc.lifo_wakes == fc.lifo_wakes);
    CHECK(bc.fifo_wakes == fc.fifo_wakes);
    CHECK(bc.positions == fc.positions);
    CHECK(bc.most_running == fc.most_running);
    CHECK(bc.wakes_at_or_over_concurrency == fc.wakes_at_or_over_concurrency);

    CHECK(bounded.latency().count == full.latency().count);
    CHECK(bounded.latency().total_ns == full.latency().total_ns);
    CHECK(bounded.latency().log2_histogram == full.latency().log2_histogram);
    REQUIRE(bounded.throughput().size() == full.throughput().size());
    for (std::size_t s = 0; s < full.throughput().size(); ++s) {
        CHECK(bounded.throughput()[s].lines_in == full.throughput()[s].lines_in);
        CHECK(bounded.throughput()[s].lines_out == full.throughput()[s].lines_out);
    }
    REQUIRE(bounded.connections().size() == full.connections().size());
    for (std::size_t c = 0; c < full.connections().size(); ++c) {
        CHECK(bounded.connections()[c].lines_in == full.connections()[c].lines_in);
        CHECK(bounded.connections()[c].close_ns == full.connections()[c].close_ns);
    }
    CHECK(bounded.origin_ns() == full.origin_ns());
}

// Every question a panel asks about moment t, asked of both models: lane states and the event that set them,
// the waiters stack, the queue's depth and its packets, the last wakes.
void check_moment(const TraceModel& bounded, const TraceModel& full, std::uint64_t t) {
    INFO("at " << t << " ns; the bounded history begins at " << bounded.first_ns());
    REQUIRE(bounded.lanes().size() == full.lanes().size());
    for (std::size_t i = 0; i < full.lanes().size(); ++i) {
        std::uint32_t since_bounded = kNoEvent, since_full = kNoEvent;
        CHECK(bounded.state_at(bounded.lanes()[i], t, &since_bounded) ==
              full.state_at(full.lanes()[i], t, &since_full));
        REQUIRE((since_bounded == kNoEvent) == (since_full == kNoEvent));
        if (since_full != kNoEvent) CHECK(bounded.events()[since_bounded].kind == full.events()[since_full].kind);
    }
    for (const auto& port : full.ports()) {
        auto threads = [](const std::vector<PortWaiter>& waiters) {
            std::vector<int> out;
            for (const auto& waiter : waiters) out.push_back(waiter.thread);
            return out;
        };
        CHECK(threads(bounded.waiters_at(port.index, t)) == threads(full.waiters_at(port.index, t)));
        CHECK(bounded.counted_depth_at(port.index, t) == full.counted_depth_at(port.index, t));
        CHECK(bounded.sampled_depth_at(port.index, t) == full.sampled_depth_at(port.index, t));
        CHECK(bounded.depth_at(port.index, t) == full.depth_at(port.index, t));
        auto io_ids = [](const TraceModel& model, const std::vector<std::uint32_t>& posts) {
            std::vector<std::uint32_t> out;
            for (const std::uint32_t index : posts) out.push_back(model.events()[index].arg1);
            return out;
        };
        CHECK(io_ids(bounded, bounded.packets_waiting_at(port.index, t)) ==
              io_ids(full, full.packets_waiting_at(port.index, t)));
        // The wakes still in the bounded history are the newest of the full model's, event for event.
        const auto wakes_bounded = bounded.recent_wakes(port.index, t, 10);
        const auto wakes_full = full.recent_wakes(port.index, t, 10);
        REQUIRE(wakes_bounded.size() <= wakes_full.size());
        const std::size_t skip = wakes_full.size() - wakes_bounded.size();
        for (std::size_t k = 0; k < wakes_bounded.size(); ++k)
            CHECK(same_event(bounded.events()[wakes_bounded[k]], full.events()[wakes_full[skip + k]]));
    }
}

// After the anchors, the bounded history is the full one's newest events, unchanged.
void check_kept_events(const TraceModel& bounded, const TraceModel& full) {
    const std::size_t bounded_from = bounded.first_event_at_or_after(bounded.first_ns() + 1);
    const std::size_t full_from = full.first_event_at_or_after(bounded.first_ns() + 1);
    REQUIRE(bounded.event_count() - bounded_from == full.event_count() - full_from);
    std::size_t differing = 0;
    for (std::size_t k = 0; bounded_from + k < bounded.event_count(); ++k)
        differing += !same_event(bounded.events()[bounded_from + k], full.events()[full_from + k]);
    CHECK(differing == 0);
}

void check_agree(const TraceModel& bounded, const TraceModel& full) {
    // The bound: never more events than the limit, and the bytes held no more than the limit's worth
    // (32 bytes of history, up to 3 index entries of 4 bytes an event, twice over for vector growth).
    CHECK(bounded.event_count() <= kLimit);
    CHECK(bounded.bytes_allocated() <= kLimit * (32 + 2 * 3 * 4));
    check_whole_run_figures(bounded, full);
    check_kept_events(bounded, full);
    const std::uint64_t first = bounded.first_ns(), last = bounded.last_ns();
    for (int step = 0; step <= 8; ++step) check_moment(bounded, full, first + (last - first) * step / 8);
    // The timeline over the whole kept history, 1600 pixels wide: the same stretches in both.
    std::vector<LaneSpan> spans_bounded, spans_full;
    for (std::size_t i = 0; i < full.lanes().size(); ++i) {
        bounded.spans(bounded.lanes()[i], first, last + 1, double(last + 1 - first) / 1600, spans_bounded);
        full.spans(full.lanes()[i], first, last + 1, double(last + 1 - first) / 1600, spans_full);
        REQUIRE(spans_bounded.size() == spans_full.size());
        for (std::size_t k = 0; k < spans_full.size(); ++k) {
            CHECK(spans_bounded[k].begin_ns == spans_full[k].begin_ns);
            CHECK(spans_bounded[k].end_ns == spans_full[k].end_ns);
            CHECK(spans_bounded[k].state == spans_full[k].state);
            CHECK(spans_bounded[k].merged == spans_full[k].merged);
        }
    }
}

}  // namespace

TEST_CASE("a live history far longer than its limit stays within it and answers as if all were kept",
          "[viz][history]") {
    const auto trace = long_stream();
    REQUIRE(trace.events.size() > 10 * kLimit);  // "far longer": ten times the limit and more

    TraceModel bounded, full;
    bounded.set_history_limit(kLimit);
    take_metadata(bounded, trace);
    take_metadata(full, trace);
    // As a live server sends it: in batches, each settled behind the reorder window.
    const std::size_t batch = 4096;
    std::size_t checked = 0;
    for (std::size_t at = 0; at < trace.events.size(); at += batch) {
        const std::size_t count = std::min(batch, trace.events.size() - at);
        bounded.take(trace.events.data() + at, count);
        full.take(trace.events.data() + at, count);
        bounded.settle();
        full.settle();
        if ((at / batch) % 16 == 15) {
            check_agree(bounded, full);
            ++checked;
        }
    }
    bounded.finish();
    full.finish();
    check_agree(bounded, full);

    CHECK(checked >= 4);
    CHECK(bounded.discards() >= 10);
    CHECK(bounded.discarded_events() + bounded.event_count() >= full.event_count());
    // What the limit saves, on this run: the full model holds every event.
    CHECK(full.bytes_allocated() > 10 * bounded.bytes_allocated());
}

TEST_CASE("a selected event keeps its place through a discard, or is reported gone", "[viz][history]") {
    const auto trace = long_stream();
    TraceModel model;
    model.set_history_limit(kLimit);
    take_metadata(model, trace);
    // Fill the history to its limit exactly: the next event discards the oldest quarter.
    std::size_t fed = 0;
    while (model.event_count() < kLimit) model.take(&trace.events[fed++], 1), model.finish();
    const std::uint32_t newest = kLimit - 1, oldest = 0;
    const StoredEvent newest_event = model.events()[newest];
    model.take(&trace.events[fed], 1);
    model.finish();
    REQUIRE(model.discards() == 1);
    const std::uint32_t moved = model.index_after_last_discard(newest);
    REQUIRE(moved != kNoEvent);
    CHECK(same_event(model.events()[moved], newest_event));
    CHECK(model.index_after_last_discard(oldest) == kNoEvent);  // the server_start: long gone
    CHECK(model.event_count() < kLimit * 4 / 5);                // a quarter dropped, give or take the anchors
}

TEST_CASE("live sessions bound their history; replays keep every event", "[viz][history]") {
    auto live = TracedRun::attach("127.0.0.1", 1, 0);  // nothing listens on port 1: the bound is set anyway
    CHECK(live->trace_model().history_limit() == TraceModel::kDefaultLiveHistoryEvents);
    auto replay = TracedRun::from_trace("in memory", long_stream());
    CHECK(replay->trace_model().history_limit() == 0);
    CHECK(replay->trace_model().discarded_events() == 0);
}
