// visualizer/model/trace_queries.cpp — the questions panels ask of a TraceModel, each answered from the
// indexes by binary search, so a frame costs what is on screen, not what is in the history.
//
// Sections:
//   1. The history and metadata
//   2. Threads: states and spans
//   3. Ports: waiters, depth, packets, wakes
//   4. Connections and storage figures
#include <algorithm>
#include <unordered_set>

#include "visualizer/model/trace_model.h"

namespace socklab::viz {

// ---- 1. The history and metadata ------------------------------------------------------------------------

namespace {

// Binary searches over a list of history indexes, ordered by the events' times.
struct IndexByTime {
    const std::vector<StoredEvent>& events;
    // First position whose event is at or after time_ns.
    std::size_t lower(const std::vector<std::uint32_t>& list, std::uint64_t time_ns) const {
        auto it = std::lower_bound(list.begin(), list.end(), time_ns,
                                   [this](std::uint32_t index, std::uint64_t t) { return events[index].time_ns < t; });
        return static_cast<std::size_t>(it - list.begin());
    }
    // First position whose event is after time_ns.
    std::size_t upper(const std::vector<std::uint32_t>& list, std::uint64_t time_ns) const {
        auto it = std::upper_bound(list.begin(), list.end(), time_ns,
                                   [this](std::uint64_t t, std::uint32_t index) { return t < events[index].time_ns; });
        return static_cast<std::size_t>(it - list.begin());
    }
    // The same searches, knowing the answer is at or after `from` and probably close to it (the next pixel):
    // gallop forwards 1, 2, 4, ... entries, then search the last step. Far cheaper than a whole binary search
    // when a frame walks a lane pixel by pixel.
    std::size_t lower_from(const std::vector<std::uint32_t>& list, std::size_t from, std::uint64_t time_ns) const {
        return gallop(list, from, [&](std::uint32_t index) { return events[index].time_ns < time_ns; });
    }
    std::size_t upper_from(const std::vector<std::uint32_t>& list, std::size_t from, std::uint64_t time_ns) const {
        return gallop(list, from, [&](std::uint32_t index) { return events[index].time_ns <= time_ns; });
    }

private:
    // First position at or after `from` where before(entry) is false; before() must be true-then-false.
    template <typename Before>
    static std::size_t gallop(const std::vector<std::uint32_t>& list, std::size_t from, Before before) {
        std::size_t low = from, step = 1;
        while (low < list.size() && before(list[low])) {
            const std::size_t next = low + step;
            if (next >= list.size() || !before(list[next])) {
                auto it = std::partition_point(list.begin() + static_cast<std::ptrdiff_t>(low + 1),
                                               list.begin() + static_cast<std::ptrdiff_t>(std::min(next, list.size())),
                                               before);
                return static_cast<std::size_t>(it - list.begin());
            }
            low = next;
            step *= 2;
        }
        return low;
    }
};

}  // namespace

std::size_t TraceModel::first_event_at_or_after(std::uint64_t time_ns) const {
    auto it = std::lower_bound(events_.begin(), events_.end(), time_ns,
                               [](const StoredEvent& e, std::uint64_t t) { return e.time_ns < t; });
    return static_cast<std::size_t>(it - events_.begin());
}

const trace::SiteInfo* TraceModel::site(std::uint16_t id) const {
    auto found = sites_.find(id);
    return found == sites_.end() ? nullptr : &found->second;
}

std::string TraceModel::info_value(const std::string& key) const {
    auto found = info_.find(key);
    return found == info_.end() ? std::string() : found->second;
}

bool TraceModel::runtime_is_wine() const {
    return runtime().find("Wine") != std::string::npos || runtime().find("wine") != std::string::npos;
}

// ---- 2. Threads: states and spans -----------------------------------------------------------------------

const ThreadLane* TraceModel::lane(std::uint16_t thread) const {
    return thread < lanes_.size() ? &lanes_[thread] : nullptr;
}

LaneState TraceModel::state_at(const ThreadLane& lane, std::uint64_t time_ns, std::uint32_t* since_event) const {
    const IndexByTime search{events_};
    const std::size_t after = search.upper(lane.state_changes, time_ns);
    if (since_event) *since_event = after == 0 ? kNoEvent : lane.state_changes[after - 1];
    if (after == 0) return LaneState::absent;
    const StoredEvent& change = events_[lane.state_changes[after - 1]];
    return state_after(change.kind, change.detail);
}

void TraceModel::spans(const ThreadLane& lane, std::uint64_t begin_ns, std::uint64_t end_ns, double ns_per_pixel,
                       std::vector<LaneSpan>& out) const {
    out.clear();
    const auto& changes = lane.state_changes;
    if (changes.empty() || begin_ns >= end_ns) return;
    const IndexByTime search{events_};
    const std::uint64_t pixel = ns_per_pixel < 1.0 ? 1 : static_cast<std::uint64_t>(ns_per_pixel);
    const std::uint64_t lane_end = horizon_ns();  // the last stretch lasts until the newest moment known

    std::size_t i = search.upper(changes, begin_ns);
    std::uint64_t cursor = begin_ns;
    if (i == 0) cursor = events_[changes[0]].time_ns;  // nothing known before the thread's first change
    else --i;

    while (i < changes.size() && cursor < end_ns) {
        const bool last = i + 1 >= changes.size();
        const std::uint64_t stop = last ? std::max(lane_end, cursor) : events_[changes[i + 1]].time_ns;
        if (!last && stop <= cursor) {  // a stretch already covered by a merged pixel
            ++i;
            continue;
        }
        if (last || stop - cursor >= pixel) {
            out.push_back({cursor, std::min(stop, end_ns),
                           state_after(events_[changes[i]].kind, events_[changes[i]].detail), changes[i], 0});
            if (last) break;
            cursor = stop;
            ++i;
        } else {
            // Shorter than a pixel: jump over every change inside this pixel with one search, and colour the
            // pixel by the state the lane ends it in.
            const std::uint64_t pixel_end = cursor + pixel;
            const std::size_t j = search.upper_from(changes, i + 1, pixel_end) - 1;  // >= i + 1: stop < pixel_end
            out.push_back({cursor, std::min(pixel_end, end_ns),
                           state_after(events_[changes[j]].kind, events_[changes[j]].detail), changes[i],
                           static_cast<std::uint32_t>(j - i)});
            cursor = pixel_end;
            i = j;
        }
    }
}

void TraceModel::events_in(const ThreadLane& lane, std::uint64_t begin_ns, std::uint64_t end_ns, double ns_per_pixel,
                           std::vector<std::uint32_t>& out) const {
    out.clear();
    const IndexByTime search{events_};
    const auto& list = lane.events;
    const std::uint64_t pixel = ns_per_pixel < 1.0 ? 1 : static_cast<std::uint64_t>(ns_per_pixel);
    std::size_t i = search.lower(list, begin_ns);
    while (i < list.size()) {
        const std::uint64_t time = events_[list[i]].time_ns;
        if (time >= end_ns) break;
        out.push_back(list[i]);
        // The next event one pixel on: a step when events are sparse, a search when they are dense.
        if (i + 1 < list.size() && events_[list[i + 1]].time_ns >= time + pixel) ++i;
        else i = search.lower_from(list, i + 1, time + pixel);
    }
}

// ---- 3. Ports: waiters, depth, packets, wakes -----------------------------------------------------------

const CompletionPort* TraceModel::port(std::int64_t index) const {
    for (const auto& candidate : ports_)
        if (candidate.index == index) return &candidate;
    return nullptr;
}

std::vector<PortWaiter> TraceModel::waiters_at(std::int64_t port_index, std::uint64_t time_ns) const {
    // Worked out from the lanes rather than stored: a thread is among the waiters at time t when its state at
    // t came from a wait_begin on this port and the reference model's kernel has not named it since.
    std::vector<PortWaiter> waiters;
    for (const auto& lane : lanes_) {
        std::uint32_t since = kNoEvent;
        if (state_at(lane, time_ns, &since) != LaneState::waiting || since == kNoEvent) continue;
        const StoredEvent& wait = events_[since];
        if (!waits_on_port(wait.detail) || wait.arg0 != port_index) continue;
        bool released = false;
        const IndexByTime search{events_};
        for (std::size_t k = search.upper(lane.events, wait.time_ns); k < lane.events.size(); ++k) {
            const StoredEvent& later = events_[lane.events[k]];
            if (later.time_ns > time_ns || trace::sets_thread_state(later.kind)) break;
            if (later.kind == Kind::thread_wake && lane.events[k] > since) released = true;
        }
        if (!released) waiters.push_back({lane.index, wait.time_ns, since});
    }
    std::sort(waiters.begin(), waiters.end(), [](const PortWaiter& a, const PortWaiter& b) {
        return a.wait_event < b.wait_event;  // history order is time order, ties kept as recorded
    });
    return waiters;
}

std::uint32_t TraceModel::counted_depth_at(std::int64_t port_index, std::uint64_t time_ns) const {
    const CompletionPort* found = port(port_index);
    if (!found) return 0;
    const std::size_t after = IndexByTime{events_}.upper(found->packets, time_ns);
    return after == 0 ? 0 : events_[found->packets[after - 1]].derived;
}

std::int64_t TraceModel::sampled_depth_at(std::int64_t port_index, std::uint64_t time_ns) const {
    const CompletionPort* found = port(port_index);
    if (!found) return -1;
    const std::size_t after = IndexByTime{events_}.upper(found->depth_samples, time_ns);
    return after == 0 ? -1 : static_cast<std::int64_t>(events_[found->depth_samples[after - 1]].arg1);
}

bool TraceModel::posts_recorded(std::int64_t port_index) const {
    const CompletionPort* found = port(port_index);
    return found && found->posts_seen > 0;
}

std::uint32_t TraceModel::depth_at(std::int64_t port_index, std::uint64_t time_ns) const {
    if (posts_recorded(port_index)) return counted_depth_at(port_index, time_ns);
    const std::int64_t sampled = sampled_depth_at(port_index, time_ns);
    return sampled < 0 ? 0 : static_cast<std::uint32_t>(sampled);
}

std::vector<std::uint32_t> TraceModel::packets_waiting_at(std::int64_t port_index, std::uint64_t time_ns,
                                                          std::size_t limit) const {
    std::vector<std::uint32_t> waiting;
    const CompletionPort* found = port(port_index);
    if (!found) return waiting;
    const auto& packets = found->packets;
    std::size_t k = IndexByTime{events_}.upper(packets, time_ns);
    const std::size_t queued = k == 0 ? 0 : events_[packets[k - 1]].derived;
    const std::size_t wanted = std::min(queued, limit);
    // Walk back from time_ns: a post is still queued unless a later dequeue (already passed on the way back)
    // names its I/O id. The queue is FIFO, so the newest `queued` posts are the ones waiting; a hand-posted
    // packet (I/O id 0) cannot be told apart and counts as waiting. Bounded: a long backlog lists its newest.
    std::unordered_multiset<std::uint32_t> dequeued_ids;
    for (std::size_t steps = 0; k > 0 && waiting.size() < wanted && steps < 100'000; ++steps) {
        const std::uint32_t index = packets[--k];
        const StoredEvent& event = events_[index];
        if (event.kind == Kind::packet_dequeued) {
            if (event.arg1 != 0) dequeued_ids.insert(event.arg1);
            continue;
        }
        auto taken = dequeued_ids.find(event.arg1);
        if (event.arg1 != 0 && taken != dequeued_ids.end()) {
            dequeued_ids.erase(taken);
            continue;
        }
        waiting.push_back(index);
    }
    std::reverse(waiting.begin(), waiting.end());
    return waiting;
}

std::vector<std::uint32_t> TraceModel::recent_wakes(std::int64_t port_index, std::uint64_t time_ns,
                                                    std::size_t count) const {
    const CompletionPort* found = port(port_index);
    if (!found) return {};
    const std::size_t end = IndexByTime{events_}.upper(found->wakes, time_ns);
    const std::size_t begin = end > count ? end - count : 0;
    return {found->wakes.begin() + static_cast<std::ptrdiff_t>(begin),
            found->wakes.begin() + static_cast<std::ptrdiff_t>(end)};
}

std::uint32_t TraceModel::post_of(std::uint32_t dequeue_event) const {
    if (dequeue_event >= events_.size()) return kNoEvent;
    const StoredEvent& dequeue = events_[dequeue_event];
    const CompletionPort* found = port(dequeue.arg0);
    if (dequeue.kind != Kind::packet_dequeued || !found || dequeue.arg1 == 0) return kNoEvent;
    const auto& packets = found->packets;
    auto at = std::lower_bound(packets.begin(), packets.end(), dequeue_event);
    for (std::size_t steps = 0; at != packets.begin() && steps < 100'000; ++steps) {
        --at;
        const StoredEvent& candidate = events_[*at];
        if (candidate.arg1 != dequeue.arg1) continue;
        return candidate.kind == Kind::packet_posted ? *at : kNoEvent;  // an earlier dequeue took that post
    }
    return kNoEvent;
}

// ---- 4. Connections and storage figures -----------------------------------------------------------------

std::size_t TraceModel::connections_open_at(std::uint64_t time_ns) const {
    std::size_t open = 0;
    for (const auto& connection : connections_)
        if (connection.open_ns <= time_ns && time_ns < connection.close_ns) ++open;
    return open;
}

std::size_t TraceModel::bytes_stored() const {
    std::size_t bytes = events_.size() * sizeof(StoredEvent);
    for (const auto& lane : lanes_) bytes += (lane.events.size() + lane.state_changes.size()) * sizeof(std::uint32_t);
    for (const auto& port : ports_)
        bytes += (port.depth_samples.size() + port.packets.size() + port.wakes.size()) * sizeof(std::uint32_t);
    return bytes;
}

std::size_t TraceModel::bytes_allocated() const {
    std::size_t bytes = events_.capacity() * sizeof(StoredEvent);
    for (const auto& lane : lanes_)
        bytes += (lane.events.capacity() + lane.state_changes.capacity()) * sizeof(std::uint32_t);
    for (const auto& port : ports_)
        bytes +=
            (port.depth_samples.capacity() + port.packets.capacity() + port.wakes.capacity()) * sizeof(std::uint32_t);
    return bytes;
}

double TraceModel::bytes_per_event_stored() const {
    return events_.empty() ? 0 : double(bytes_stored()) / double(events_.size());
}

double TraceModel::bytes_per_event_allocated() const {
    return events_.empty() ? 0 : double(bytes_allocated()) / double(events_.size());
}

}  // namespace socklab::viz
