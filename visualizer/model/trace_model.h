// visualizer/model/trace_model.h — what the visualizer knows about one server, rebuilt from its trace events.
//
// Nothing here draws; the panels in visualizer/ui/ only ask questions of a TraceModel. The model takes events
// in (intake), keeps them in one time-ordered history, and indexes that history so every question a frame
// asks is a binary search over the part on screen, never a walk over everything (docs/design.md §7, §10).
//
// Sections:
//   1. Lane states       what a thread is doing between two of its events
//   2. Ports             a completion port: its waiters, its packets, its queue depth
//   3. Connections       one client connection, and the server-wide counters
//   4. Conformance       measured behaviour against the documented Windows rules
//   5. TraceModel        intake (take / settle / finish) and the questions panels ask
//
// Storage, per event: 32 bytes of history + 4 in its thread's index + 4 if it changes the thread's state
// + 4 if it concerns a port (a wake does both: 44). The benchmark (viz-bench) prints the measured average.
//
// A live server runs as long as the class does, so a live run bounds its history (set_history_limit):
// whole-run figures (counters, conformance, latency, throughput, connections) are tallied at intake and never
// need the old events; the history keeps the newest events in full detail, plus the few older events that
// say what state everything was in where it now begins (see "History bound" in TraceModel).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/trace/event.h"
#include "common/trace/reader.h"
#include "visualizer/model/stored_event.h"

namespace socklab::viz {

inline constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
inline constexpr std::uint32_t kNoEvent = std::numeric_limits<std::uint32_t>::max();

// ---- 1. Lane states -------------------------------------------------------------------------------------

// What a thread is doing, as its own events tell it. "held" means stopped at the step gate: the thread's wait
// has returned, so as far as the kernel knows it is running (docs/design.md §4). "slowed" is the viewer's slow
// motion: a Sleep after the wait, so the kernel counts the thread as blocked, as for "blocked".
enum class LaneState : std::uint8_t { absent, running, waiting, blocked, held, slowed, exited };

const char* to_string(LaneState state);

// The kinds that move a thread from one lane state to another: trace::sets_thread_state (common/trace/event.h).
// The state a thread is in right after an event of a state-changing kind (with its detail: why it blocked).
LaneState state_after(Kind kind, std::uint8_t detail);

// A stretch of one lane in one state. When a frame asks for spans with a pixel size, spans shorter than a
// pixel are merged and `merged` counts how many state changes the stretch hides.
struct LaneSpan {
    std::uint64_t begin_ns = 0;
    std::uint64_t end_ns = 0;
    LaneState state = LaneState::absent;
    std::uint32_t first_event = kNoEvent;  // the event that started the stretch
    std::uint32_t merged = 0;
};

struct ThreadLane {
    std::uint16_t index = 0;
    std::string role;  // from the thread record; "" until it arrives
    std::uint32_t os_thread_id = 0;
    std::vector<std::uint32_t> events;         // every event of this thread, as history indexes, in time order
    std::vector<std::uint32_t> state_changes;  // the subset that changed the lane state

    // Intake bookkeeping: where the thread is now.
    LaneState state = LaneState::absent;
    std::int64_t waiting_on_port = -1;   // the port whose waiters it is among, or -1
    std::int64_t running_for_port = -1;  // the port whose wait it came out of and still counts as running for
    std::int64_t blocked_for_port = -1;  // the same while it is blocked (Sleep in /work)
};

// ---- 2. Ports -------------------------------------------------------------------------------------------

struct PortWaiter {
    std::uint16_t thread = 0;
    std::uint64_t since_ns = 0;
    std::uint32_t wait_event = kNoEvent;
};

struct CompletionPort {
    std::int64_t index = 0;
    // History indexes of the events about this port, one list per question so each is a binary search.
    std::vector<std::uint32_t> depth_samples;  // queue_depth
    std::vector<std::uint32_t> packets;        // packet_posted and packet_dequeued
    std::vector<std::uint32_t> wakes;          // wait_end of one of its waiters, thread_wake
    // Intake bookkeeping.
    std::vector<PortWaiter> waiters;  // oldest first; the back is the top of the stack (most recent)
    std::uint32_t counted_depth = 0;  // packets posted minus dequeued
    std::uint64_t posts_seen = 0;     // 0 when the server cannot see posts (a real kernel queues them unseen)
    std::uint32_t running = 0;        // threads that came out of this port's wait and are running or held
};

// ---- 3. Connections -------------------------------------------------------------------------------------

struct ConnectionRecord {
    std::uint32_t id = 0;
    std::uint64_t open_ns = 0;
    std::uint64_t close_ns = kNever;
    std::int64_t peer_port = 0;
    trace::CloseReason reason = trace::CloseReason::none;
    std::uint32_t lines_in = 0;
    std::uint32_t lines_out = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    bool open_seen = false;  // false when the trace began after the connection opened
};

// Latency of a line: from its line_in to the next line_out on the same connection. A broadcast copy can
// answer early, so the figure is a fair picture under echo and /work loads, not an exact one under /all.
struct LatencyStats {
    std::uint64_t count = 0;
    std::uint64_t total_ns = 0;
    std::uint64_t max_ns = 0;
    std::array<std::uint64_t, 64> log2_histogram{};  // bucket b holds latencies in [2^b, 2^(b+1)) ns

    void add(std::uint64_t ns);
    double mean_ns() const { return count ? double(total_ns) / double(count) : 0.0; }
    // Upper bound of the histogram bucket holding the p-th fraction (0..1) of samples.
    std::uint64_t percentile_ns(double p) const;
};

struct Counters {
    std::uint64_t events = 0;
    std::uint64_t lines_in = 0, lines_out = 0, bytes_in = 0, bytes_out = 0;
    std::uint64_t connections_opened = 0, connections_closed = 0;
    std::uint64_t io_posted = 0, io_completed = 0, io_failed = 0;
    std::uint64_t packets_posted = 0, packets_dequeued = 0;
    std::uint64_t messages = 0, apcs = 0, errors = 0, gate_holds = 0;
    std::uint64_t dropped = 0;      // events the server could not record (its buffers were full)
    std::uint64_t late_events = 0;  // events that arrived too late to be placed in time order (see settle)
    std::array<std::uint64_t, 8> close_reasons{};  // by trace::CloseReason
};

// Lines per second, bucketed by the second of trace time they happened in.
struct ThroughputSecond {
    std::uint32_t lines_in = 0;
    std::uint32_t lines_out = 0;
};

// ---- 4. Conformance -------------------------------------------------------------------------------------

// The documented Windows rules (learn.microsoft.com, "I/O Completion Ports"): waiting threads are released
// LIFO, and a packet is handed to a waiter only while fewer threads run than the concurrency value.
struct ConformanceFigures {
    std::uint64_t wakes = 0;                         // threads released from a port wait by a packet
    std::uint64_t wakes_with_choice = 0;             // ... while two or more threads were waiting: only these can tell
    std::uint64_t lifo_wakes = 0;                    // ... of which took the most recent waiter (position 0)
    std::uint64_t fifo_wakes = 0;                    // ... of which took the oldest waiter
    std::array<std::uint64_t, 16> positions{};       // wakes by position taken; the last bucket holds 15 and deeper
    std::uint32_t concurrency = 0;                   // from server_start or info "concurrency"; 0 = unknown
    std::uint32_t most_running = 0;                  // most threads of one port running (or held) at once
    std::uint64_t wakes_at_or_over_concurrency = 0;  // released while `concurrency` threads already ran

    // Share of wakes with a choice that took the most recent waiter; -1 when no wake had a choice.
    double lifo_share() const { return wakes_with_choice ? double(lifo_wakes) / double(wakes_with_choice) : -1; }
};

// ---- 5. TraceModel --------------------------------------------------------------------------------------

class TraceModel {
public:
    // Intake. Events from a live server arrive grouped per thread, not in global time order (the server's
    // collector drains one thread's buffer after another). take() only queues them; settle() sorts what is
    // queued and moves into the history every event older than the newest by more than the reorder window;
    // finish() moves everything (end of a file, or a test).
    static constexpr std::uint64_t kReorderWindowNs = 50'000'000;
    void take(const trace::Event* events, std::size_t count);
    void settle();
    void finish();
    void take_site(const trace::SiteInfo& site);
    void take_thread(const trace::ThreadInfo& thread);
    void take_info(const std::string& key, const std::string& value);
    void take_dropped(std::uint64_t count);
    // The decoder handler that feeds this model (for a StreamDecoder).
    trace::StreamDecoder::Handler decoder_handler();

    // ---- History bound ----
    // With a limit, the history never holds more than `max_events` events: when it is full, the oldest
    // quarter is discarded in one chunk (one pass over the indexes per quarter, not one per event). The
    // events that set each thread's state, each port's packet count and queue-depth sample, and the packets
    // still queued, as they were just before the cut, are kept as "anchors", given the time of the last
    // discarded event: the history then begins with the state everything was in, and every question about a
    // moment in it gets the same answer as with everything kept. What is lost is how long a thread (or a
    // queued packet) had already been in its state at the cut, and the older events themselves.
    // 0 = keep everything: the default, for replays (a file's size is known before it is opened, and a
    // student scrubbing a recording expects all of it) and for the reference model (small).
    // A live run's default: about 3 minutes at the compare view's rate of ~10,000 events a second per
    // server, and 64 MB of history (+ indexes, see bytes_allocated) however long the class runs.
    static constexpr std::size_t kDefaultLiveHistoryEvents = 2'000'000;
    void set_history_limit(std::size_t max_events);
    std::size_t history_limit() const { return history_limit_; }
    // Events dropped for the limit so far (anchors are kept, so not counted), and how many discards did it.
    std::uint64_t discarded_events() const { return discarded_events_; }
    std::uint64_t discards() const { return discards_; }
    // Where an event that was at `index` before the last discard is now, or kNoEvent if it was dropped: for a
    // selection that must follow its event. Holds for the most recent discard only (see discards()).
    std::uint32_t index_after_last_discard(std::uint32_t index) const;
    // The time of the first event ever taken in: unlike first_ns(), it stays put when history is discarded,
    // so "time since start" labels keep their values.
    std::uint64_t origin_ns() const { return origin_ns_; }

    // Events taken in but not yet placed in the history (settle has not reached them).
    const std::vector<trace::Event>& queued_events() const { return queued_; }

    // The history.
    const std::vector<StoredEvent>& events() const { return events_; }
    std::size_t event_count() const { return events_.size(); }
    std::uint64_t first_ns() const { return events_.empty() ? 0 : events_.front().time_ns; }
    std::uint64_t last_ns() const { return events_.empty() ? 0 : events_.back().time_ns; }
    // How far the last known states extend: last_ns(), or later for a live server that is quiet (a held
    // worker stays held until something happens). Set by the run from the wall clock.
    std::uint64_t horizon_ns() const { return std::max(last_ns(), horizon_ns_); }
    void extend_horizon(std::uint64_t time_ns) { horizon_ns_ = time_ns; }
    // Index of the first event at or after time_ns (event_count() when none).
    std::size_t first_event_at_or_after(std::uint64_t time_ns) const;

    // Metadata.
    const std::map<std::uint16_t, trace::SiteInfo>& sites() const { return sites_; }
    const trace::SiteInfo* site(std::uint16_t id) const;
    const std::map<std::string, std::string>& info() const { return info_; }
    std::string info_value(const std::string& key) const;
    std::string io_model() const { return info_value("model"); }
    std::string runtime() const { return info_value("runtime"); }
    bool runtime_is_wine() const;

    // Threads.
    const std::vector<ThreadLane>& lanes() const { return lanes_; }
    const ThreadLane* lane(std::uint16_t thread) const;
    // The thread's state at time_ns, and the event that put it there (kNoEvent when none).
    LaneState state_at(const ThreadLane& lane, std::uint64_t time_ns, std::uint32_t* since_event = nullptr) const;
    // The lane's stretches that overlap [begin_ns, end_ns), merging stretches shorter than ns_per_pixel.
    // Cost: one binary search, then one more per pixel at most: bounded by the width on screen.
    void spans(const ThreadLane& lane, std::uint64_t begin_ns, std::uint64_t end_ns, double ns_per_pixel,
               std::vector<LaneSpan>& out) const;
    // The lane's events in [begin_ns, end_ns), at most one per pixel (the first in each).
    void events_in(const ThreadLane& lane, std::uint64_t begin_ns, std::uint64_t end_ns, double ns_per_pixel,
                   std::vector<std::uint32_t>& out) const;

    // Completion ports.
    const std::vector<CompletionPort>& ports() const { return ports_; }
    const CompletionPort* port(std::int64_t index) const;
    // The port's waiters at time_ns, oldest first (the back is the top of the stack).
    std::vector<PortWaiter> waiters_at(std::int64_t port, std::uint64_t time_ns) const;
    // Packets on the port at time_ns, counted from posts and dequeues.
    std::uint32_t counted_depth_at(std::int64_t port, std::uint64_t time_ns) const;
    // The last queue_depth sample at or before time_ns, or -1 when the trace has none.
    std::int64_t sampled_depth_at(std::int64_t port, std::uint64_t time_ns) const;
    // The best figure for the queue's depth: counted when the trace records posts (the reference model, a
    // server that posts by hand), else sampled (a live server reads it with NtQueryIoCompletion).
    std::uint32_t depth_at(std::int64_t port, std::uint64_t time_ns) const;
    bool posts_recorded(std::int64_t port) const;
    // The packet_posted events still queued at time_ns, oldest first; when more than `limit` wait, the newest
    // `limit` of them.
    std::vector<std::uint32_t> packets_waiting_at(std::int64_t port, std::uint64_t time_ns,
                                                  std::size_t limit = 256) const;
    // The last `count` wakes from this port at or before time_ns, oldest first; position in `derived`.
    std::vector<std::uint32_t> recent_wakes(std::int64_t port, std::uint64_t time_ns, std::size_t count) const;
    // For a packet_dequeued event: the packet_posted event it took (kNoEvent when not in the trace).
    std::uint32_t post_of(std::uint32_t dequeue_event) const;

    // Connections and counters.
    const std::vector<ConnectionRecord>& connections() const { return connections_; }
    std::size_t connections_open_at(std::uint64_t time_ns) const;
    const Counters& counters() const { return counters_; }
    const LatencyStats& latency() const { return latency_; }
    const std::vector<ThroughputSecond>& throughput() const { return throughput_; }
    std::uint64_t throughput_origin_ns() const { return throughput_origin_ns_; }

    // Conformance.
    const ConformanceFigures& conformance() const { return conformance_; }

    // Bytes held for the history and its indexes: `stored` counts the elements kept, `allocated` the vectors'
    // capacity (growth leaves up to half unused). Per event, the figure the 40-byte target is about.
    std::size_t bytes_stored() const;
    std::size_t bytes_allocated() const;
    double bytes_per_event_stored() const;
    double bytes_per_event_allocated() const;

private:
    void commit(const trace::Event& event);
    void apply_lane_change(ThreadLane& lane, StoredEvent& stored, std::uint32_t index);
    void apply_port_event(StoredEvent& stored, std::uint32_t index);
    void apply_connection_event(const StoredEvent& stored);
    ThreadLane& lane_for(std::uint16_t thread);
    CompletionPort& port_for(std::int64_t index);
    ConnectionRecord& connection_for(std::uint32_t id, std::uint64_t time_ns);
    void record_wake(CompletionPort& port, std::uint16_t thread, StoredEvent& stored, std::uint32_t index,
                     bool counts_for_conformance);
    void discard_oldest();
    std::vector<std::uint32_t> anchors_before(std::uint32_t cut) const;

    std::vector<StoredEvent> events_;
    std::vector<trace::Event> queued_;  // taken in, not yet in time order (see settle)
    std::uint64_t horizon_ns_ = 0;
    std::uint64_t newest_queued_ns_ = 0;
    std::uint64_t origin_ns_ = 0;

    std::size_t history_limit_ = 0;  // 0 = keep everything
    std::uint64_t discarded_events_ = 0;
    std::uint64_t discards_ = 0;
    // The last discard, for index_after_last_discard: where the cut was, and the anchors kept from before it
    // (their old indexes, in order; anchor k is now at index k).
    std::uint32_t last_cut_ = 0;
    std::vector<std::uint32_t> last_anchors_;

    std::map<std::uint16_t, trace::SiteInfo> sites_;
    std::map<std::string, std::string> info_;
    std::vector<ThreadLane> lanes_;      // by thread index
    std::vector<CompletionPort> ports_;  // few; searched linearly
    std::vector<ConnectionRecord> connections_;
    std::unordered_map<std::uint32_t, std::uint32_t> connection_slot_;               // id -> index in connections_
    std::unordered_map<std::uint32_t, std::deque<std::uint64_t>> unanswered_lines_;  // id -> line_in times
    Counters counters_;
    LatencyStats latency_;
    std::vector<ThroughputSecond> throughput_;
    std::uint64_t throughput_origin_ns_ = 0;
    ConformanceFigures conformance_;
};

}  // namespace socklab::viz
