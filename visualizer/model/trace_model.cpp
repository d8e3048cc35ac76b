// visualizer/model/trace_model.cpp — intake: how each event changes what the model knows.
//
// Sections:
//   1. Lane states and small helpers
//   2. Queue, sort and commit (take / settle / finish)
//   3. Threads: lane changes, waiters and wakes, the running count
//   4. Ports: packets and queue depth
//   5. Connections, lines and latency
//   6. Metadata (sites, threads, info, dropped)
//   7. History bound: discarding the oldest events, keeping the state they left
// The questions panels ask are answered in trace_queries.cpp.
#include "visualizer/model/trace_model.h"

#include <algorithm>
#include <bit>
#include <cstdlib>

namespace socklab::viz {

using trace::CloseReason;
using trace::WaitOn;
using trace::Wake;

// ---- 1. Lane states and small helpers -------------------------------------------------------------------

const char* to_string(LaneState state) {
    switch (state) {
        case LaneState::absent:
            return "absent";
        case LaneState::running:
            return "running";
        case LaneState::waiting:
            return "waiting";
        case LaneState::blocked:
            return "blocked";
        case LaneState::held:
            return "held at the gate";
        case LaneState::slowed:
            return "paused by slow motion";
        case LaneState::exited:
            return "exited";
    }
    return "?";
}

LaneState state_after(Kind kind, std::uint8_t detail) {
    switch (kind) {
        case Kind::thread_exit:
            return LaneState::exited;
        case Kind::wait_begin:
            return LaneState::waiting;
        case Kind::gate_hold:
            return LaneState::held;
        case Kind::block_begin:
            return detail == static_cast<std::uint8_t>(trace::BlockReason::slow_motion) ? LaneState::slowed
                                                                                        : LaneState::blocked;
        default:
            return LaneState::running;  // thread_start, wait_end, gate_release, block_end
    }
}

void LatencyStats::add(std::uint64_t ns) {
    ++count;
    total_ns += ns;
    max_ns = std::max(max_ns, ns);
    int bucket = ns == 0 ? 0 : 63 - std::countl_zero(ns);
    ++log2_histogram[static_cast<std::size_t>(bucket)];
}

std::uint64_t LatencyStats::percentile_ns(double p) const {
    if (count == 0) return 0;
    auto wanted = static_cast<std::uint64_t>(p * double(count) + 0.5);
    wanted = std::clamp<std::uint64_t>(wanted, 1, count);
    std::uint64_t seen = 0;
    for (std::size_t bucket = 0; bucket < log2_histogram.size(); ++bucket) {
        seen += log2_histogram[bucket];
        if (seen >= wanted) return bucket >= 63 ? max_ns : std::min(max_ns, (std::uint64_t{2} << bucket) - 1);
    }
    return max_ns;
}

ThreadLane& TraceModel::lane_for(std::uint16_t thread) {
    if (thread >= lanes_.size()) {
        std::size_t old = lanes_.size();
        lanes_.resize(std::size_t{thread} + 1);
        for (std::size_t i = old; i < lanes_.size(); ++i) lanes_[i].index = static_cast<std::uint16_t>(i);
    }
    return lanes_[thread];
}

CompletionPort& TraceModel::port_for(std::int64_t index) {
    for (auto& port : ports_)
        if (port.index == index) return port;
    ports_.emplace_back();
    ports_.back().index = index;
    return ports_.back();
}

// ---- 2. Queue, sort and commit --------------------------------------------------------------------------

void TraceModel::take(const trace::Event* events, std::size_t count) {
    queued_.insert(queued_.end(), events, events + count);
    for (std::size_t i = 0; i < count; ++i) newest_queued_ns_ = std::max(newest_queued_ns_, events[i].time_ns);
}

void TraceModel::settle() {
    if (queued_.empty() || newest_queued_ns_ < kReorderWindowNs) return;
    const std::uint64_t cutoff = newest_queued_ns_ - kReorderWindowNs;
    // Stable, so events of one thread with the same time keep the order their thread wrote them in.
    std::stable_sort(queued_.begin(), queued_.end(),
                     [](const trace::Event& a, const trace::Event& b) { return a.time_ns < b.time_ns; });
    auto end = std::upper_bound(queued_.begin(), queued_.end(), cutoff,
                                [](std::uint64_t time, const trace::Event& e) { return time < e.time_ns; });
    for (auto it = queued_.begin(); it != end; ++it) commit(*it);
    queued_.erase(queued_.begin(), end);
}

void TraceModel::finish() {
    std::stable_sort(queued_.begin(), queued_.end(),
                     [](const trace::Event& a, const trace::Event& b) { return a.time_ns < b.time_ns; });
    for (const auto& event : queued_) commit(event);
    queued_.clear();
}

void TraceModel::commit(const trace::Event& event) {
    StoredEvent stored = to_stored(event);
    // Every index is a binary search on time, so the history must never go back in time. An event that
    // arrives after the reorder window has passed its moment is placed at the latest time instead, and counted.
    if (!events_.empty() && stored.time_ns < events_.back().time_ns) {
        stored.time_ns = events_.back().time_ns;
        ++counters_.late_events;
    }
    if (history_limit_ != 0 && events_.size() >= history_limit_) discard_oldest();
    const auto index = static_cast<std::uint32_t>(events_.size());
    if (counters_.events == 0) origin_ns_ = throughput_origin_ns_ = stored.time_ns;
    ++counters_.events;

    ThreadLane& lane = lane_for(stored.thread);
    lane.events.push_back(index);
    if (trace::sets_thread_state(stored.kind)) apply_lane_change(lane, stored, index);

    switch (stored.kind) {
        case Kind::server_start:
            if (stored.arg1 != 0) conformance_.concurrency = stored.arg1;
            if (!info_.count("processors")) info_["processors"] = std::to_string(stored.arg0);
            break;
        case Kind::thread_wake: {
            // The reference model's kernel names the thread it releases; its own wait_end follows.
            CompletionPort& port = port_for(stored.arg0);
            record_wake(port, stored.thread, stored, index, true);
            port.wakes.push_back(index);
            break;
        }
        case Kind::packet_posted:
        case Kind::packet_dequeued:
        case Kind::queue_depth:
            apply_port_event(stored, index);
            break;
        case Kind::io_posted:
            ++counters_.io_posted;
            break;
        case Kind::io_completed:
            ++counters_.io_completed;
            if (stored.arg1 != 0) ++counters_.io_failed;
            break;
        case Kind::message_dispatched:
            ++counters_.messages;
            break;
        case Kind::apc_run:
            ++counters_.apcs;
            break;
        case Kind::error:
            ++counters_.errors;
            break;
        case Kind::gate_hold:
            ++counters_.gate_holds;
            break;
        case Kind::connection_open:
        case Kind::connection_close:
        case Kind::line_in:
        case Kind::line_out:
            apply_connection_event(stored);
            break;
        default:
            break;
    }
    events_.push_back(stored);
}

// ---- 3. Threads: lane changes, waiters and wakes, the running count --------------------------------------

// Counts a thread as running for a port (it came out of that port's wait, or came back from blocking), and
// remembers the most that ever ran at once: the figure set against the concurrency value.
static void start_running_for(CompletionPort& port, ConformanceFigures& conformance) {
    ++port.running;
    conformance.most_running = std::max(conformance.most_running, port.running);
}

void TraceModel::record_wake(CompletionPort& port, std::uint16_t thread, StoredEvent& stored, std::uint32_t index,
                             bool counts_for_conformance) {
    (void)index;
    auto found = std::find_if(port.waiters.begin(), port.waiters.end(),
                              [thread](const PortWaiter& waiter) { return waiter.thread == thread; });
    if (found == port.waiters.end()) return;  // the trace began while it waited, or thread_wake took it already
    const auto waiting = port.waiters.size();
    const auto position = static_cast<std::size_t>(port.waiters.end() - 1 - found);  // 0 = top of the stack
    port.waiters.erase(found);
    stored.derived = static_cast<std::uint16_t>(std::min<std::size_t>(position, kNoDerived - 1));
    if (!counts_for_conformance) return;

    ++conformance_.wakes;
    ++conformance_.positions[std::min<std::size_t>(position, conformance_.positions.size() - 1)];
    if (waiting >= 2) {
        ++conformance_.wakes_with_choice;
        if (position == 0) ++conformance_.lifo_wakes;
        if (position == waiting - 1) ++conformance_.fifo_wakes;
    }
    if (conformance_.concurrency != 0 && port.running >= conformance_.concurrency)
        ++conformance_.wakes_at_or_over_concurrency;
}

void TraceModel::apply_lane_change(ThreadLane& lane, StoredEvent& stored, std::uint32_t index) {
    lane.state_changes.push_back(index);
    lane.state = state_after(stored.kind, stored.detail);

    // A thread that stops running for its port (waits again, blocks, exits) leaves the port's running count.
    auto stop_running = [this, &lane] {
        if (lane.running_for_port >= 0) {
            CompletionPort& port = port_for(lane.running_for_port);
            if (port.running > 0) --port.running;
        }
        lane.running_for_port = -1;
    };
    auto leave_waiters = [this, &lane] {
        if (lane.waiting_on_port < 0) return;
        auto& waiters = port_for(lane.waiting_on_port).waiters;
        std::erase_if(waiters, [&lane](const PortWaiter& waiter) { return waiter.thread == lane.index; });
        lane.waiting_on_port = -1;
    };

    switch (stored.kind) {
        case Kind::wait_begin:
            stop_running();
            leave_waiters();  // a wait that began without the previous one ending (a dropped event)
            if (waits_on_port(stored.detail)) {
                lane.waiting_on_port = stored.arg0;
                port_for(stored.arg0).waiters.push_back({lane.index, stored.time_ns, index});
            }
            break;
        case Kind::wait_end:
            if (lane.waiting_on_port >= 0) {
                CompletionPort& port = port_for(lane.waiting_on_port);
                const std::size_t waiters_before = port.waiters.size();
                record_wake(port, lane.index, stored, index, wake_with_work(stored.detail));
                if (port.waiters.size() != waiters_before) port.wakes.push_back(index);
                lane.running_for_port = lane.waiting_on_port;
                lane.waiting_on_port = -1;
                start_running_for(port, conformance_);
            }
            break;
        case Kind::block_begin:
            lane.blocked_for_port = lane.running_for_port;
            stop_running();
            break;
        case Kind::block_end:
            if (lane.blocked_for_port >= 0) {
                lane.running_for_port = lane.blocked_for_port;
                start_running_for(port_for(lane.running_for_port), conformance_);
            }
            lane.blocked_for_port = -1;
            break;
        case Kind::thread_exit:
            stop_running();
            leave_waiters();
            break;
        default:
            break;  // thread_start; gate_hold and gate_release: held still counts as running
    }
}

// ---- 4. Ports: packets and queue depth ------------------------------------------------------------------

void TraceModel::apply_port_event(StoredEvent& stored, std::uint32_t index) {
    CompletionPort& port = port_for(stored.arg0);
    switch (stored.kind) {
        case Kind::packet_posted:
            ++counters_.packets_posted;
            ++port.posts_seen;
            ++port.counted_depth;
            port.packets.push_back(index);
            stored.derived = static_cast<std::uint16_t>(std::min<std::uint32_t>(port.counted_depth, kNoDerived - 1));
            break;
        case Kind::packet_dequeued: {
            ++counters_.packets_dequeued;
            // A viewer that joined while this thread was already waiting never saw its wait_begin; the packet it
            // took names the port, so from here on it counts as running for that port like any other.
            ThreadLane& taker = lane_for(stored.thread);
            if (taker.running_for_port < 0 && (taker.state == LaneState::running || taker.state == LaneState::held)) {
                taker.running_for_port = stored.arg0;
                start_running_for(port, conformance_);
            }
            if (port.counted_depth > 0) --port.counted_depth;  // 0 when the packet was posted before the trace began
            port.packets.push_back(index);
            stored.derived = static_cast<std::uint16_t>(std::min<std::uint32_t>(port.counted_depth, kNoDerived - 1));
            break;
        }
        default:
            port.depth_samples.push_back(index);
            break;  // queue_depth
    }
}

// ---- 5. Connections, lines and latency ------------------------------------------------------------------

ConnectionRecord& TraceModel::connection_for(std::uint32_t id, std::uint64_t time_ns) {
    auto [slot, inserted] = connection_slot_.try_emplace(id, static_cast<std::uint32_t>(connections_.size()));
    if (inserted) {
        connections_.emplace_back();
        connections_.back().id = id;
        connections_.back().open_ns = time_ns;
    }
    return connections_[slot->second];
}

void TraceModel::apply_connection_event(const StoredEvent& stored) {
    if (stored.connection == 0) return;
    ConnectionRecord& connection = connection_for(stored.connection, stored.time_ns);
    switch (stored.kind) {
        case Kind::connection_open:
            ++counters_.connections_opened;
            connection.open_ns = stored.time_ns;
            connection.peer_port = stored.arg0;
            connection.open_seen = true;
            break;
        case Kind::connection_close:
            ++counters_.connections_closed;
            connection.close_ns = stored.time_ns;
            connection.reason = static_cast<CloseReason>(stored.detail);
            ++counters_.close_reasons[std::min<std::size_t>(stored.detail, counters_.close_reasons.size() - 1)];
            unanswered_lines_.erase(stored.connection);
            break;
        case Kind::line_in: {
            ++counters_.lines_in;
            counters_.bytes_in += static_cast<std::uint64_t>(std::max<std::int64_t>(stored.arg0, 0));
            ++connection.lines_in;
            connection.bytes_in += static_cast<std::uint64_t>(std::max<std::int64_t>(stored.arg0, 0));
            auto& unanswered = unanswered_lines_[stored.connection];
            if (unanswered.size() < 4096) unanswered.push_back(stored.time_ns);  // bounded against a silent server
            break;
        }
        case Kind::line_out: {
            ++counters_.lines_out;
            counters_.bytes_out += static_cast<std::uint64_t>(std::max<std::int64_t>(stored.arg0, 0));
            ++connection.lines_out;
            connection.bytes_out += static_cast<std::uint64_t>(std::max<std::int64_t>(stored.arg0, 0));
            auto found = unanswered_lines_.find(stored.connection);
            if (found != unanswered_lines_.end() && !found->second.empty()) {
                latency_.add(stored.time_ns - found->second.front());
                found->second.pop_front();
            }
            break;
        }
        default:
            break;
    }
    if (stored.kind == Kind::line_in || stored.kind == Kind::line_out) {
        // One bucket per second of trace time; a corrupt timestamp must not allocate without limit.
        const std::uint64_t second = (stored.time_ns - throughput_origin_ns_) / 1'000'000'000ull;
        if (second < 10'000'000) {
            if (second >= throughput_.size()) throughput_.resize(second + 1);
            if (stored.kind == Kind::line_in) ++throughput_[second].lines_in;
            else ++throughput_[second].lines_out;
        }
    }
}

// ---- 6. Metadata ----------------------------------------------------------------------------------------

void TraceModel::take_site(const trace::SiteInfo& site) { sites_[site.id] = site; }

void TraceModel::take_thread(const trace::ThreadInfo& thread) {
    ThreadLane& lane = lane_for(thread.index);
    lane.role = thread.role;
    lane.os_thread_id = thread.os_thread_id;
}

void TraceModel::take_info(const std::string& key, const std::string& value) {
    info_[key] = value;
    if (key == "concurrency") {
        const long concurrency = std::strtol(value.c_str(), nullptr, 10);
        if (concurrency > 0) conformance_.concurrency = static_cast<std::uint32_t>(concurrency);
    }
}

void TraceModel::take_dropped(std::uint64_t count) { counters_.dropped += count; }

trace::StreamDecoder::Handler TraceModel::decoder_handler() {
    trace::StreamDecoder::Handler handler;
    handler.events = [this](const trace::Event* events, std::size_t count) { take(events, count); };
    handler.site = [this](const trace::SiteInfo& site) { take_site(site); };
    handler.thread = [this](const trace::ThreadInfo& thread) { take_thread(thread); };
    handler.info = [this](const std::string& key, const std::string& value) { take_info(key, value); };
    handler.dropped = [this](std::uint64_t count) { take_dropped(count); };
    return handler;
}

// ---- 7. History bound ------------------------------------------------------------------------------------

void TraceModel::set_history_limit(std::size_t max_events) {
    history_limit_ = max_events;
    // The history never holds more than the limit, so reserving it once means it never grows or moves.
    if (max_events != 0 && events_.size() < max_events) events_.reserve(max_events);
}

// The events before `cut` that the kept history still needs to answer questions about the moment just before
// it: each thread's last state change (its state, and for a waiter the port and its place in the stack),
// each port's last packet event (its `derived` is the packet count) and last depth sample, and the posts
// still queued (the queue panel lists them, and a later dequeue finds its post). In history order.
std::vector<std::uint32_t> TraceModel::anchors_before(std::uint32_t cut) const {
    std::vector<std::uint32_t> anchors;
    auto last_before_cut = [cut](const std::vector<std::uint32_t>& list) {
        auto after = std::lower_bound(list.begin(), list.end(), cut);
        return after == list.begin() ? kNoEvent : *(after - 1);
    };
    for (const auto& lane : lanes_) {
        const std::uint32_t state = last_before_cut(lane.state_changes);
        if (state == kNoEvent) continue;
        anchors.push_back(state);
        // A waiter the reference model's kernel released (thread_wake) before its wait ended has left the
        // stack; waiters_at reads that from the thread_wake, so it stays too.
        for (auto it = std::upper_bound(lane.events.begin(), lane.events.end(), state);
             it != lane.events.end() && *it < cut; ++it)
            if (events_[*it].kind == Kind::thread_wake) anchors.push_back(*it);
    }
    const std::uint64_t last_discarded_ns = events_[cut - 1].time_ns;
    for (const auto& port : ports_) {
        for (const std::uint32_t last : {last_before_cut(port.packets), last_before_cut(port.depth_samples)})
            if (last != kNoEvent) anchors.push_back(last);
        for (const std::uint32_t post : packets_waiting_at(port.index, last_discarded_ns)) anchors.push_back(post);
    }
    std::sort(anchors.begin(), anchors.end());
    anchors.erase(std::unique(anchors.begin(), anchors.end()), anchors.end());
    return anchors;
}

void TraceModel::discard_oldest() {
    // Keep the newest three quarters of the limit, so the next discard is a quarter of the limit away: each
    // event is moved a few times in its life, not once per event taken in.
    const std::size_t keep = history_limit_ - history_limit_ / 4;
    if (events_.size() <= keep) return;
    // Cut where a new moment begins, so "before the cut" is a time as well as an index: the anchors below are
    // then exactly the state at every moment from the last discarded event on.
    const std::uint64_t last_discarded_ns = events_[events_.size() - keep - 1].time_ns;
    const auto cut = static_cast<std::uint32_t>(first_event_at_or_after(last_discarded_ns + 1));
    if (cut >= events_.size()) return;  // one moment holds the whole history: nothing can be cut cleanly

    last_anchors_ = anchors_before(cut);
    last_cut_ = cut;
    // The anchors move to the front (anchor k is at index >= k, so none is overwritten before it is read) and
    // take the time of the last discarded event: the history then begins with the state everything was in.
    for (std::size_t k = 0; k < last_anchors_.size(); ++k) {
        events_[k] = events_[last_anchors_[k]];
        events_[k].time_ns = last_discarded_ns;
    }
    events_.erase(events_.begin() + static_cast<std::ptrdiff_t>(last_anchors_.size()),
                  events_.begin() + static_cast<std::ptrdiff_t>(cut));

    // Every index names history positions: renumber them, dropping the discarded ones. The wakes list drops
    // the anchors too: an anchor that was a wake (a thread's last state change) no longer has its own time,
    // and the recent wakes say when each happened.
    enum class Anchors { keep, drop };
    auto renumber = [this](std::vector<std::uint32_t>& list, Anchors anchors) {
        std::size_t kept = 0;
        for (const std::uint32_t index : list) {
            if (anchors == Anchors::drop && index < last_cut_) continue;
            const std::uint32_t moved = index_after_last_discard(index);
            if (moved != kNoEvent) list[kept++] = moved;
        }
        list.resize(kept);
    };
    for (auto& lane : lanes_) {
        renumber(lane.events, Anchors::keep);
        renumber(lane.state_changes, Anchors::keep);
    }
    for (auto& port : ports_) {
        renumber(port.depth_samples, Anchors::keep);
        renumber(port.packets, Anchors::keep);
        renumber(port.wakes, Anchors::drop);
        // A waiter's wait_begin is its thread's last state change, so an anchor: it always has a new index.
        for (auto& waiter : port.waiters) waiter.wait_event = index_after_last_discard(waiter.wait_event);
    }
    discarded_events_ += cut - last_anchors_.size();
    ++discards_;
}

std::uint32_t TraceModel::index_after_last_discard(std::uint32_t index) const {
    if (index == kNoEvent) return kNoEvent;
    if (index >= last_cut_) return static_cast<std::uint32_t>(index - last_cut_ + last_anchors_.size());
    auto found = std::lower_bound(last_anchors_.begin(), last_anchors_.end(), index);
    if (found == last_anchors_.end() || *found != index) return kNoEvent;
    return static_cast<std::uint32_t>(found - last_anchors_.begin());
}

}  // namespace socklab::viz
