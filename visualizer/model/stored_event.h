// visualizer/model/stored_event.h — how the visualizer keeps one trace event in its history.
//
// A StoredEvent is the wire Event (common/trace/event.h) with its two reserved bytes put to work: the model
// writes there a fact it worked out while taking the event in, so the history needs no second array for it.
// Keeping the history at 32 bytes an event is what lets one million events fit in 40 bytes each, indexes
// included (docs/design.md §10).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "common/trace/event.h"

namespace socklab::viz {

using trace::Kind;

// Marks "nothing worked out for this event" in StoredEvent::derived.
inline constexpr std::uint16_t kNoDerived = 0xFFFF;

struct StoredEvent {
    std::uint64_t time_ns;
    std::int64_t arg0;
    std::uint32_t arg1;
    std::uint32_t connection;
    std::uint16_t thread;
    std::uint16_t site;
    Kind kind;
    std::uint8_t detail;
    // What the model worked out when it took this event in:
    //   a wake (wait_end of a port's waiter — see waits_on_port — or thread_wake): the stack position the woken
    //     thread held among the port's waiters, 0 = top = the most recent waiter (LIFO);
    //   packet_posted / packet_dequeued: packets on the port afterwards, counted as posted minus dequeued;
    //   anything else: kNoDerived.
    std::uint16_t derived;
};

static_assert(sizeof(StoredEvent) == 32, "the history must stay at 32 bytes an event");
static_assert(sizeof(StoredEvent) == sizeof(trace::Event), "a stored event mirrors the wire event");
static_assert(std::is_trivially_copyable_v<StoredEvent>);

// The waits a viewer stacks as a port's waiters (arg0 = the port's index): GetQueuedCompletionStatus on a completion
// port, and epoll_wait, where a pool of workers waits on one epoll instance in the same way (models/09_epoll.cpp).
inline bool waits_on_port(std::uint8_t wait_on) {
    const auto on = static_cast<trace::WaitOn>(wait_on);
    return on == trace::WaitOn::completion_port || on == trace::WaitOn::epoll;
}

// The ends of such a wait that handed the waiter work — a packet (of a finished or a failed I/O), or a ready event
// from epoll — and so count as wakes in the conformance figures (a timeout, the stop or an error do not).
inline bool wake_with_work(std::uint8_t wake) {
    const auto why = static_cast<trace::Wake>(wake);
    return why == trace::Wake::completion || why == trace::Wake::failed_completion || why == trace::Wake::ready;
}

inline StoredEvent to_stored(const trace::Event& event) {
    StoredEvent stored{event.time_ns, event.arg0, event.arg1,   event.connection, event.thread,
                       event.site,    event.kind, event.detail, kNoDerived};
    return stored;
}

inline trace::Event to_wire(const StoredEvent& stored) {
    trace::Event event{};
    event.time_ns = stored.time_ns;
    event.arg0 = stored.arg0;
    event.arg1 = stored.arg1;
    event.connection = stored.connection;
    event.thread = stored.thread;
    event.site = stored.site;
    event.kind = stored.kind;
    event.detail = stored.detail;
    event.reserved = 0;
    return event;
}

}  // namespace socklab::viz
