// The reference model of the completion port (docs/design.md §6): each test quotes the documented sentence it checks,
// from Microsoft Learn: "I/O Completion Ports", "CreateIoCompletionPort", "GetQueuedCompletionStatus" and
// "GetQueuedCompletionStatusEx". Every test fails if its rule is broken.
//
// The model is also checked through its trace alone (the visualizer sees nothing else): waits pair up, the
// kernel's choice precedes the wake, queue depth samples add up, and the waiters stack rebuilt from the events
// is released from the top. And after every action, no packet is left queued that a waiter could take: the
// kernel decides at the moment of the action, never later.
#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/kernel_queue/completion_port_model.h"
#include "tests/catch.hpp"

namespace kq = socklab::kernel_queue;
namespace trace = socklab::trace;
using kq::CompletionPortModel;
using kq::ThreadState;
using trace::Kind;

namespace {

CompletionPortModel make_port(unsigned concurrency, unsigned processors = 4) {
    CompletionPortModel::Options options;
    options.processors = processors;
    options.concurrency_value = concurrency;
    return CompletionPortModel(options);
}

// Adds w1..wN and returns their indices.
std::vector<kq::ThreadIndex> add_workers(CompletionPortModel& port, int count) {
    std::vector<kq::ThreadIndex> workers;
    for (int i = 1; i <= count; ++i) workers.push_back(port.add_thread("w" + std::to_string(i)));
    return workers;
}

std::vector<const trace::Event*> events_of_kind(const trace::Trace& recorded, Kind kind) {
    std::vector<const trace::Event*> found;
    for (const trace::Event& event : recorded.events)
        if (event.kind == kind) found.push_back(&event);
    return found;
}

// Checks what the visualizer relies on, from the events alone; returns the first problem found, or "".
std::string trace_problem(const CompletionPortModel& port) {
    const trace::Trace& recorded = port.trace();
    std::map<std::uint16_t, bool> in_wait;          // thread -> inside GetQueuedCompletionStatus
    std::map<std::uint16_t, bool> woken_by_kernel;  // thread -> thread_wake seen, wait_end due
    std::vector<std::uint16_t> stack;               // waiters rebuilt from events; back() = most recent
    std::map<std::uint16_t, std::size_t> wait_begin_index;
    std::int64_t depth = 0;
    bool depth_sample_due = false;  // the queue changed and no queue_depth sample has said so yet
    std::uint64_t previous_time = 0;
    std::uint32_t last_dequeued = 0;

    for (std::size_t i = 0; i < recorded.events.size(); ++i) {
        const trace::Event& event = recorded.events[i];
        const std::string where = "event " + std::to_string(i) + ": ";
        if (i > 0 && event.time_ns <= previous_time) return where + "time does not increase";
        previous_time = event.time_ns;
        if (!recorded.threads.count(event.thread)) return where + "thread without a thread record";
        const auto site = recorded.sites.find(event.site);
        if (site == recorded.sites.end()) return where + "site without a site record";
        if (site->second.file != "common/kernel_queue/completion_port_model.cpp" || site->second.line == 0)
            return where + "site does not point into the model's source";

        switch (event.kind) {
            case Kind::wait_begin:
                if (in_wait[event.thread]) return where + "wait_begin inside a wait";
                if (event.detail != static_cast<std::uint8_t>(trace::WaitOn::completion_port))
                    return where + "wait_begin not on a completion port";
                in_wait[event.thread] = true;
                wait_begin_index[event.thread] = i;
                stack.push_back(event.thread);
                break;
            case Kind::thread_wake:
                if (!in_wait[event.thread]) return where + "thread_wake for a thread not waiting";
                // LIFO, seen from the trace: the thread the kernel chose is the most recent waiter.
                if (stack.empty() || stack.back() != event.thread)
                    return where + "thread_wake not at the top of the stack";
                if (i + 1 >= recorded.events.size() || recorded.events[i + 1].kind != Kind::wait_end ||
                    recorded.events[i + 1].thread != event.thread)
                    return where + "thread_wake not followed by that thread's wait_end";
                woken_by_kernel[event.thread] = true;
                break;
            case Kind::wait_end: {
                if (!in_wait[event.thread]) return where + "wait_end without wait_begin";
                in_wait[event.thread] = false;
                const bool taken_at_once = wait_begin_index[event.thread] + 1 == i;
                if (event.detail == static_cast<std::uint8_t>(trace::Wake::completion)) {
                    if (!woken_by_kernel[event.thread] && !taken_at_once)
                        return where + "a waiter woke with a packet but the kernel never chose it";
                    if (event.arg1 != 0) return where + "wait_end status is not success";
                    if (i + 1 >= recorded.events.size() || recorded.events[i + 1].kind != Kind::packet_dequeued)
                        return where + "wait_end not followed by packet_dequeued";
                }
                if (event.detail == static_cast<std::uint8_t>(trace::Wake::timeout) &&
                    event.arg1 != kq::wait_timeout_error)
                    return where + "a timed-out wait does not report WAIT_TIMEOUT";
                if (event.detail == static_cast<std::uint8_t>(trace::Wake::error) &&
                    event.arg1 != kq::abandoned_wait_error)
                    return where + "a wait ended by closing the port does not report ERROR_ABANDONED_WAIT_0";
                woken_by_kernel[event.thread] = false;
                stack.erase(std::find(stack.begin(), stack.end(), event.thread));
                break;
            }
            case Kind::packet_posted:
                if (depth_sample_due) return where + "the queue changed twice without a queue_depth sample";
                depth_sample_due = true;
                ++depth;
                break;
            case Kind::packet_dequeued:
                if (depth_sample_due) return where + "the queue changed twice without a queue_depth sample";
                depth_sample_due = true;
                --depth;
                if (event.arg1 != last_dequeued + 1) return where + "packets not dequeued in posting order (FIFO)";
                last_dequeued = event.arg1;
                break;
            case Kind::queue_depth:
                if (static_cast<std::int64_t>(event.arg1) != depth)
                    return where + "queue_depth disagrees with packets posted minus dequeued";
                depth_sample_due = false;
                break;
            default:
                break;
        }
    }
    if (depth_sample_due) return "the last change of the queue has no queue_depth sample";
    for (const auto& [thread, waiting] : in_wait) {
        const bool model_says_waiting = port.thread(thread).state == ThreadState::waiting;
        if (waiting != model_says_waiting)
            return "thread " + std::to_string(thread) + ": open wait disagrees with the model";
    }
    if (depth != static_cast<std::int64_t>(port.queued_packets().size())) return "final depth disagrees with the model";
    std::vector<kq::ThreadIndex> model_stack = port.waiters_most_recent_first();
    std::reverse(model_stack.begin(), model_stack.end());
    if (std::vector<kq::ThreadIndex>(stack.begin(), stack.end()) != model_stack)
        return "waiters rebuilt from events disagree with the model's stack";
    return "";
}

// The kernel's moment: after any action, a packet stays queued only if no thread waits or the port is at (or
// over) its concurrency value. A release left for later would show here as a packet and a waiter side by side.
bool packet_left_for_a_waiter(const CompletionPortModel& port) {
    return !port.queued_packets().empty() && !port.waiters_most_recent_first().empty() &&
           port.running_count() < port.concurrency_value();
}

}  // namespace

// ---- the kernel's moment --------------------------------------------------------------------------------------------

// Rule 3, "I/O Completion Ports": "When a completion packet is queued to an I/O completion port, the system first
//   checks how many threads associated with that port are running. If the number of threads running is less than
//   the concurrency value ..., one of the waiting threads (the most recent one) is allowed to process the
//   completion packet."
// The check happens when the packet is queued. The example of the issue: concurrency 2, w1 running, w2 waiting,
// then a post and w1 coming back. Windows has released w2 at the post; w1 finds the queue empty and waits.
TEST_CASE("kernel queue the kernel's moment - a post releases the waiter before anyone comes back", "[kernel_queue]") {
    CompletionPortModel port = make_port(2);
    const auto w = add_workers(port, 2);
    port.post_packet();
    REQUIRE(port.thread_calls_get_queued_completion_status(w[0]) == 1);  // w1 runs with packet 1
    REQUIRE(port.thread_calls_get_queued_completion_status(w[1]) == 0);  // w2 waits: nothing queued

    const kq::PacketId packet = port.post_packet();
    CHECK(port.thread(w[1]).state == ThreadState::running);  // released inside the post
    CHECK(port.thread(w[1]).packets_in_hand == std::vector<kq::PacketId>{packet});
    REQUIRE(port.releases().size() == 1);
    CHECK(port.releases().back().thread == w[1]);

    CHECK(port.thread_finishes_packet(w[0]) == 0);  // too late: the packet is w2's
    CHECK(port.thread(w[0]).state == ThreadState::waiting);
    CHECK(port.waiters_most_recent_first() == std::vector<kq::ThreadIndex>{w[0]});
    CHECK_FALSE(packet_left_for_a_waiter(port));
    CHECK(trace_problem(port).empty());
}

// ---- rule 2: LIFO release ------------------------------------------------------------------------------------------

// Rule 2, "I/O Completion Ports":
//   "Threads that block their execution on an I/O completion port are released in last-in-first-out (LIFO)
//    order"
TEST_CASE("kernel queue rule 2 LIFO - of four waiters the most recent wakes", "[kernel_queue]") {
    CompletionPortModel port = make_port(2);
    const auto w = add_workers(port, 4);
    for (auto thread : w) REQUIRE(port.thread_calls_get_queued_completion_status(thread) == 0);
    REQUIRE(port.waiters_most_recent_first() == std::vector<kq::ThreadIndex>{w[3], w[2], w[1], w[0]});

    const kq::PacketId packet = port.post_packet(100);
    // The kernel decided inside the post (rule 3: "When a completion packet is queued ..."), not later.
    REQUIRE(port.releases().size() == 1);
    const kq::Release& release = port.releases().back();
    CHECK(release.thread == w[3]);
    CHECK(release.packets == std::vector<kq::PacketId>{packet});
    CHECK(port.thread(w[3]).state == ThreadState::running);
    CHECK(port.thread(w[3]).packets_in_hand == std::vector<kq::PacketId>{packet});
    CHECK(port.waiters_most_recent_first() == std::vector<kq::ThreadIndex>{w[2], w[1], w[0]});
    CHECK(release.explanation.find("releases w4") != std::string::npos);
    CHECK(release.explanation.find("LIFO") != std::string::npos);
    CHECK(port.explanations().back().text == release.explanation);
    CHECK(trace_problem(port).empty());
}

// Rule 2: "the system releases the last (most recent) thread associated with that port"
TEST_CASE("kernel queue rule 2 LIFO - a thread waiting again is released next", "[kernel_queue]") {
    CompletionPortModel port = make_port(1);
    const auto w = add_workers(port, 3);
    for (auto thread : w) port.thread_calls_get_queued_completion_status(thread);
    port.post_packet();
    REQUIRE(port.releases().back().thread == w[2]);
    port.thread_finishes_packet(w[2]);  // queue empty: w3 waits again, on top
    CHECK(port.waiters_most_recent_first().front() == w[2]);
    port.post_packet();
    CHECK(port.releases().back().thread == w[2]);  // the same warm thread again; w1 and w2 never run
    CHECK(port.thread(w[0]).state == ThreadState::waiting);
    CHECK(port.thread(w[1]).state == ThreadState::waiting);
    CHECK(trace_problem(port).empty());
}

// ---- rule 1: FIFO queue ---------------------------------------------------------------------------------------------

// Rule 1: "an I/O completion packet is queued in first-in-first-out (FIFO) order to the associated I/O
//   completion port"
TEST_CASE("kernel queue rule 1 FIFO - packets go out in the order posted", "[kernel_queue]") {
    CompletionPortModel port = make_port(4);
    const auto w = add_workers(port, 3);
    const kq::PacketId first = port.post_packet(10);
    const kq::PacketId second = port.post_packet(20);
    const kq::PacketId third = port.post_packet(30);
    REQUIRE(port.queued_packets().size() == 3);
    CHECK(port.queued_packets().front().id == first);
    CHECK(port.queued_packets().back().id == third);

    // Each first call finds packets queued and room under the value: each takes the oldest one at once.
    CHECK(port.thread_calls_get_queued_completion_status(w[0]) == first);
    CHECK(port.thread_calls_get_queued_completion_status(w[1]) == second);
    CHECK(port.thread_calls_get_queued_completion_status(w[2]) == third);
    CHECK(port.queued_packets().empty());

    const auto dequeued = events_of_kind(port.trace(), Kind::packet_dequeued);
    REQUIRE(dequeued.size() == 3);
    CHECK(dequeued[0]->arg1 == first);
    CHECK(dequeued[1]->arg1 == second);
    CHECK(dequeued[2]->arg1 == third);
    CHECK(trace_problem(port).empty());
}

// Rule 1's hedge, "I/O Completion Ports": "Please note that while the packets are queued in FIFO order they may be
//   dequeued in a different order."
// The documentation names no other order, so the model keeps FIFO on every path a packet leaves by - a released
// waiter, a thread taking one at once, a GetQueuedCompletionStatusEx batch - and says so; a live run is measured.
TEST_CASE("kernel queue rule 1 hedge - the model dequeues in the one documented order, FIFO", "[kernel_queue]") {
    CompletionPortModel port = make_port(1);
    const auto w = add_workers(port, 3);
    port.thread_calls_get_queued_completion_status(w[0]);
    port.post_packet();                              // packet 1: the kernel releases w1 with it
    for (int i = 0; i < 4; ++i) port.post_packet();  // packets 2 to 5 queue: 1 running = concurrency 1
    CHECK(port.thread_finishes_packet(w[0]) == 2);   // w1 back at the port: takes packet 2 at once
    port.thread_blocks(w[0]);                        // no one waits: nothing is released
    CHECK(port.thread_calls_get_queued_completion_status_ex(w[1], 2) == std::vector<kq::PacketId>{3, 4});
    port.thread_calls_get_queued_completion_status(w[2]);  // waits: w2 runs, 1 = concurrency 1
    port.thread_blocks(w[1]);                              // room: the kernel releases w3 with packet 5
    CHECK(port.thread(w[2]).packets_in_hand == std::vector<kq::PacketId>{5});

    std::vector<std::uint32_t> order;
    for (const trace::Event* event : events_of_kind(port.trace(), Kind::packet_dequeued)) order.push_back(event->arg1);
    CHECK(order == std::vector<std::uint32_t>{1, 2, 3, 4, 5});
    bool every_post_says_fifo = true;
    for (const kq::Explanation& explanation : port.explanations())
        if (explanation.text.find(" joins ") != std::string::npos)
            every_post_says_fifo = every_post_says_fifo && explanation.text.find("rule 1: FIFO") != std::string::npos;
    CHECK(every_post_says_fifo);
    CHECK(trace_problem(port).empty());
}

// ---- rule 3: the concurrency value ----------------------------------------------------------------------------------

// Rule 3: "If the number of threads running is less than the concurrency value ..., one of the waiting threads
//   (the most recent one) is allowed to process the completion packet."
TEST_CASE("kernel queue rule 3 concurrency - 1 running of 1 keeps a packet queued", "[kernel_queue]") {
    CompletionPortModel port = make_port(1);
    const auto w = add_workers(port, 2);
    port.thread_calls_get_queued_completion_status(w[0]);
    port.thread_calls_get_queued_completion_status(w[1]);
    port.post_packet();
    REQUIRE(port.releases().back().thread == w[1]);
    REQUIRE(port.running_count() == 1);

    const kq::PacketId waiting_packet = port.post_packet();
    CHECK(port.releases().size() == 1);  // no release for packet 2
    CHECK(port.explanations().back().text.find("packet 2 stays queued: 1 running = concurrency 1") !=
          std::string::npos);
    CHECK(port.thread(w[0]).state == ThreadState::waiting);
    CHECK(port.queued_packets().size() == 1);
    CHECK(port.queued_packets().front().id == waiting_packet);
    CHECK(trace_problem(port).empty());
}

// Rule 3: "When the total number of runnable threads associated with the completion port reaches the
//   concurrency value, the system blocks the execution of any subsequent threads associated with that
//   completion port until the number of runnable threads drops below the concurrency value."
TEST_CASE("kernel queue rule 3 concurrency - posts release as many as the value", "[kernel_queue]") {
    CompletionPortModel port = make_port(2);
    const auto w = add_workers(port, 5);
    for (auto thread : w) port.thread_calls_get_queued_completion_status(thread);
    for (int i = 0; i < 5; ++i) port.post_packet();
    const auto& releases = port.releases();
    REQUIRE(releases.size() == 2);
    CHECK(releases[0].thread == w[4]);
    CHECK(releases[1].thread == w[3]);
    CHECK(releases[0].packets == std::vector<kq::PacketId>{1});  // the released waiters get the oldest (FIFO)
    CHECK(releases[1].packets == std::vector<kq::PacketId>{2});
    CHECK(port.running_count() == 2);
    CHECK(port.queued_packets().size() == 3);
    CHECK(port.explanations().back().text.find("packet 3 stays queued: 2 running = concurrency 2") !=
          std::string::npos);
    CHECK(trace_problem(port).empty());
}

// ---- rule 5: coming back to the port --------------------------------------------------------------------------------

// Rule 5: "when the running thread calls GetQueuedCompletionStatus, it will not block execution because, as
//   mentioned earlier, the thread queue is LIFO. Instead, this thread will immediately pick up the next queued
//   completion packet. No thread context switches will occur"
TEST_CASE("kernel queue rule 5 - back at the port a thread takes a packet at once", "[kernel_queue]") {
    CompletionPortModel port = make_port(1);
    const auto w = add_workers(port, 2);
    port.thread_calls_get_queued_completion_status(w[0]);
    port.thread_calls_get_queued_completion_status(w[1]);
    port.post_packet();
    REQUIRE(port.releases().back().thread == w[1]);
    const kq::PacketId queued = port.post_packet();
    REQUIRE(port.queued_packets().size() == 1);

    // w2 comes back: it takes packet 2 at once, without waiting and without the kernel releasing anyone.
    const std::size_t wakes_before = events_of_kind(port.trace(), Kind::thread_wake).size();
    CHECK(port.thread_finishes_packet(w[1]) == queued);
    CHECK(port.thread(w[1]).state == ThreadState::running);
    CHECK(port.thread(w[1]).packets_in_hand == std::vector<kq::PacketId>{queued});
    CHECK(events_of_kind(port.trace(), Kind::thread_wake).size() == wakes_before);
    CHECK(port.releases().size() == 1);
    // "and doesn't count twice": it still is the one running thread; w1 never ran.
    CHECK(port.running_count() == 1);
    CHECK(port.thread(w[0]).state == ThreadState::waiting);
    CHECK(port.queued_packets().empty());

    // In the trace its wait is zero-length: wait_begin, then at once wait_end and packet_dequeued.
    const auto& events = port.trace().events;
    const auto last_begin = std::find_if(events.rbegin(), events.rend(), [&](const trace::Event& event) {
        return event.kind == Kind::wait_begin && event.thread == w[1];
    });
    REQUIRE(last_begin != events.rend());
    const auto next = last_begin.base();  // the event after that wait_begin
    REQUIRE(next != events.end());
    CHECK(next->kind == Kind::wait_end);
    CHECK(next->thread == w[1]);
    CHECK(trace_problem(port).empty());
}

// Rule 5: "When a running thread completes its processing, it typically calls GetQueuedCompletionStatus again,
//   at which point it either returns with the next completion packet or waits if the queue is empty."
TEST_CASE("kernel queue rule 5 - back at an empty port a thread waits on top", "[kernel_queue]") {
    CompletionPortModel port = make_port(2);
    const auto w = add_workers(port, 1);
    port.thread_calls_get_queued_completion_status(w[0]);
    port.post_packet();
    CHECK(port.thread_finishes_packet(w[0]) == 0);
    CHECK(port.thread(w[0]).state == ThreadState::waiting);
    CHECK(port.thread(w[0]).packets_in_hand.empty());
    CHECK(port.running_count() == 0);
    CHECK(port.waiters_most_recent_first() == std::vector<kq::ThreadIndex>{w[0]});
    CHECK(trace_problem(port).empty());
}

// ---- rule 4: blocking for another reason ----------------------------------------------------------------------------

// Rule 4: "The system also allows a thread waiting in GetQueuedCompletionStatus to process a completion packet if
//   another running thread associated with the same I/O completion port enters a wait state for other reasons
//   ... When the thread in the wait state begins running again, there may be a brief period when the number
//   of active threads exceeds the concurrency value."
TEST_CASE("kernel queue rule 4 - a block lets a waiter run at once and the count exceeds", "[kernel_queue]") {
    CompletionPortModel port = make_port(1);
    const auto w = add_workers(port, 2);
    port.thread_calls_get_queued_completion_status(w[0]);
    port.thread_calls_get_queued_completion_status(w[1]);
    port.post_packet();
    port.post_packet();
    REQUIRE(port.releases().size() == 1);  // w2 with packet 1; packet 2 stays: 1 running = concurrency 1
    REQUIRE(port.releases().back().thread == w[1]);

    // The waiter is released as w2 "enters a wait state", inside the block.
    port.thread_blocks(w[1], 50);
    CHECK(port.thread(w[1]).state == ThreadState::blocked);
    REQUIRE(port.releases().size() == 2);
    CHECK(port.releases().back().thread == w[0]);
    CHECK(port.releases().back().packets == std::vector<kq::PacketId>{2});
    CHECK(port.running_count() == 1);

    port.thread_unblocks(w[1]);
    // "there may be a brief period when the number of active threads exceeds the concurrency value"
    CHECK(port.running_count() == 2);
    CHECK(port.running_count() > port.concurrency_value());
    CHECK(port.explanations().back().text.find("> concurrency 1") != std::string::npos);

    const auto blocks = events_of_kind(port.trace(), Kind::block_begin);
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0]->thread == w[1]);
    CHECK(blocks[0]->arg0 == 50);
    CHECK(events_of_kind(port.trace(), Kind::block_end).size() == 1);
    CHECK(trace_problem(port).empty());
}

// Rule 4: "However, the system quickly reduces this number by not allowing any new active threads until the
//   number of active threads falls below the concurrency value."
TEST_CASE("kernel queue rule 4 - over the value no thread gets a packet", "[kernel_queue]") {
    // Concurrency 1, running count pushed to 2 by an unblock, packets queued and a waiter ready.
    CompletionPortModel port = make_port(1);
    const auto w = add_workers(port, 3);
    for (auto thread : w) port.thread_calls_get_queued_completion_status(thread);
    port.post_packet();
    REQUIRE(port.releases().back().thread == w[2]);
    port.thread_blocks(w[2]);
    port.post_packet();
    REQUIRE(port.releases().back().thread == w[1]);
    port.thread_unblocks(w[2]);
    REQUIRE(port.running_count() == 2);
    port.post_packet();
    port.post_packet();

    // No waiter is released while 2 run.
    CHECK(port.releases().size() == 2);
    CHECK(port.explanations().back().text.find("2 running > concurrency 1") != std::string::npos);

    // A thread coming back to the port does not take a packet either: 1 other still runs, which is not < 1.
    CHECK(port.thread_finishes_packet(w[2]) == 0);
    CHECK(port.thread(w[2]).state == ThreadState::waiting);
    CHECK(port.running_count() == 1);
    CHECK(port.releases().size() == 2);

    // Once the count falls below the value, the next thread back takes a packet at once.
    CHECK(port.thread_finishes_packet(w[1]) == 3);
    CHECK(port.running_count() == 1);
    CHECK(trace_problem(port).empty());
}

// ---- rule 6: concurrency 0 ------------------------------------------------------------------------------------------

// Rule 6, "CreateIoCompletionPort", NumberOfConcurrentThreads: "If this parameter is zero, the system allows as
//   many concurrently running threads as there are processors in the system."
TEST_CASE("kernel queue rule 6 - a concurrency value of 0 means the processor count", "[kernel_queue]") {
    for (unsigned processors : {1u, 3u, 8u}) {
        CompletionPortModel port = make_port(0, processors);
        CHECK(port.concurrency_value() == processors);
        CHECK(port.concurrency_value_requested() == 0);
        const auto w = add_workers(port, static_cast<int>(processors) + 2);
        for (auto thread : w) port.thread_calls_get_queued_completion_status(thread);
        for (unsigned i = 0; i < processors + 2; ++i) port.post_packet();
        CHECK(port.releases().size() == processors);
        CHECK(port.running_count() == processors);
        CHECK(port.queued_packets().size() == 2);

        const auto starts = events_of_kind(port.trace(), Kind::server_start);
        REQUIRE(starts.size() == 1);
        CHECK(starts[0]->arg0 == processors);
        CHECK(starts[0]->arg1 == processors);  // the value in force, so no viewer must know what 0 means
        CHECK(port.trace().info.at("concurrency") == std::to_string(processors));
        CHECK(trace_problem(port).empty());
    }
    // A value given explicitly is kept, even above the processor count.
    CHECK(make_port(6, 2).concurrency_value() == 6);
}

// ---- association ----------------------------------------------------------------------------------------------------

// "when a specified thread calls GetQueuedCompletionStatus the first time, it becomes associated with the
//   specified I/O completion port" - and only associated threads are counted.
TEST_CASE("kernel queue association - a thread never at the port is not counted", "[kernel_queue]") {
    CompletionPortModel port = make_port(1);
    const auto acceptor = port.add_thread("acceptor", "acceptor");
    const auto w = add_workers(port, 1);
    CHECK(port.thread(acceptor).state == ThreadState::not_associated);
    port.thread_calls_get_queued_completion_status(w[0]);
    port.post_packet();
    CHECK(port.releases().back().thread == w[0]);  // the acceptor, busy elsewhere, does not use up the value
    CHECK(port.running_count() == 1);
    CHECK_THROWS_AS(port.thread_blocks(acceptor), kq::ModelError);
}

// ---- rule 7: GetQueuedCompletionStatusEx ------------------------------------------------------------------------

// Rule 7, "GetQueuedCompletionStatusEx": ulCount is "The maximum number of entries to remove." and "If a thread is
//   actively waiting on this call, one or more queued requests complete the call for that thread only."
TEST_CASE("kernel queue rule 7 - GetQueuedCompletionStatusEx removes up to ulCount for one thread", "[kernel_queue]") {
    CompletionPortModel port = make_port(1);
    const auto w = add_workers(port, 3);
    for (int i = 0; i < 3; ++i) port.post_packet(100 + i);

    // Three queued, ulCount 2: two for w1 at once, the third stays for someone else.
    CHECK(port.thread_calls_get_queued_completion_status_ex(w[0], 2) == std::vector<kq::PacketId>{1, 2});
    CHECK(port.thread(w[0]).packets_in_hand == std::vector<kq::PacketId>{1, 2});
    CHECK(port.running_count() == 1);  // one thread, however many packets it holds
    CHECK(port.queued_packets().size() == 1);

    // wait_end reports the entries removed (ulNumEntriesRemoved), then one packet_dequeued per packet.
    const auto ends = events_of_kind(port.trace(), Kind::wait_end);
    REQUIRE(ends.size() == 1);
    CHECK(ends[0]->arg0 == 2);
    CHECK(events_of_kind(port.trace(), Kind::packet_dequeued).size() == 2);

    // A waiter in GetQueuedCompletionStatusEx released when w1 blocks takes what is queued, up to its ulCount.
    port.thread_calls_get_queued_completion_status(w[1]);                         // waits: 1 running = concurrency 1
    port.post_packet();                                                           // packet 4 queues behind 3
    REQUIRE(port.thread_calls_get_queued_completion_status_ex(w[2], 8).empty());  // w3 waits on top
    port.thread_blocks(w[0]);
    REQUIRE_FALSE(port.releases().empty());
    CHECK(port.releases().back().thread == w[2]);
    CHECK(port.releases().back().packets == std::vector<kq::PacketId>{3, 4});  // both, for w3 only
    CHECK(port.thread(w[1]).state == ThreadState::waiting);                    // nothing left for w2
    CHECK(port.releases().back().explanation.find("rule 7") != std::string::npos);
    CHECK(trace_problem(port).empty());

    CHECK_THROWS_WITH(port.thread_calls_get_queued_completion_status_ex(port.add_thread("w4"), 0),
                      Catch::Contains("ulCount must be at least 1"));
}

// ---- rule 8: a wait that times out ----------------------------------------------------------------------------------

// Rule 8, "GetQueuedCompletionStatus", dwMilliseconds: "If a completion packet does not appear within the specified
//   time, the function times out, returns FALSE, and sets *lpOverlapped to NULL."
TEST_CASE("kernel queue rule 8 - a timed-out wait leaves the stack without a packet", "[kernel_queue]") {
    CompletionPortModel port = make_port(2);
    const auto w = add_workers(port, 3);
    for (auto thread : w) port.thread_calls_get_queued_completion_status(thread);
    port.thread_wait_times_out(w[1]);  // from the middle of the stack
    CHECK(port.thread(w[1]).state == ThreadState::running);
    CHECK(port.thread(w[1]).packets_in_hand.empty());
    CHECK(port.thread(w[1]).last_error == kq::wait_timeout_error);
    CHECK(port.waiters_most_recent_first() == std::vector<kq::ThreadIndex>{w[2], w[0]});
    CHECK(port.running_count() == 1);
    CHECK(port.explanations().back().text.find("WAIT_TIMEOUT") != std::string::npos);

    const auto ends = events_of_kind(port.trace(), Kind::wait_end);
    REQUIRE(ends.size() == 1);
    CHECK(ends[0]->detail == static_cast<std::uint8_t>(trace::Wake::timeout));
    CHECK(ends[0]->arg1 == kq::wait_timeout_error);

    // The next post still goes to the top of what is left, and a new call forgets the old error.
    port.post_packet();
    CHECK(port.releases().back().thread == w[2]);
    port.thread_calls_get_queued_completion_status(w[1]);
    CHECK(port.thread(w[1]).last_error == 0);
    CHECK_THROWS_WITH(port.thread_wait_times_out(w[2]), Catch::Contains("only a thread waiting on the port"));
    CHECK(trace_problem(port).empty());
}

// ---- rule 9: closing the port ---------------------------------------------------------------------------------------

// Rule 9, "GetQueuedCompletionStatus": "If a call to GetQueuedCompletionStatus fails because the completion port
//   handle associated with it is closed while the call is outstanding, the function returns FALSE, *lpOverlapped
//   will be NULL, and GetLastError will return ERROR_ABANDONED_WAIT_0."
// And "GetQueuedCompletionStatusEx": "If a call to GetQueuedCompletionStatusEx fails because the handle associated
//   with it is closed, the function returns FALSE and GetLastError will return ERROR_ABANDONED_WAIT_0."
TEST_CASE("kernel queue rule 9 - closing the port ends every wait with ERROR_ABANDONED_WAIT_0", "[kernel_queue]") {
    CompletionPortModel port = make_port(1);
    const auto w = add_workers(port, 4);
    port.thread_calls_get_queued_completion_status(w[0]);
    port.post_packet();  // w1 runs
    port.thread_calls_get_queued_completion_status(w[1]);
    port.thread_calls_get_queued_completion_status_ex(w[2], 4);
    port.post_packet();  // stays queued: 1 running = concurrency 1
    port.close_port();

    CHECK(port.port_closed());
    CHECK(port.waiters_most_recent_first().empty());
    for (auto thread : {w[1], w[2]}) {
        CHECK(port.thread(thread).state == ThreadState::running);
        CHECK(port.thread(thread).packets_in_hand.empty());
        CHECK(port.thread(thread).last_error == kq::abandoned_wait_error);
    }
    CHECK(port.thread(w[0]).last_error == 0);  // it was not waiting: its packet is still in hand
    CHECK(port.thread(w[0]).packets_in_hand == std::vector<kq::PacketId>{1});
    CHECK(port.thread(w[3]).state == ThreadState::not_associated);
    CHECK(port.queued_packets().size() == 1);  // never dequeued now
    const auto ends = events_of_kind(port.trace(), Kind::wait_end);
    REQUIRE(ends.size() == 3);
    CHECK(ends[1]->thread == w[2]);  // the top of the stack first
    CHECK(ends[2]->thread == w[1]);
    for (std::size_t i = 1; i < 3; ++i) {
        CHECK(ends[i]->detail == static_cast<std::uint8_t>(trace::Wake::error));
        CHECK(ends[i]->arg1 == kq::abandoned_wait_error);
    }
    CHECK(port.explanations().back().text.find("ERROR_ABANDONED_WAIT_0") != std::string::npos);
    CHECK(trace_problem(port).empty());

    // The handle is invalid now: the port refuses calls and posts. The threads can still end.
    CHECK_THROWS_WITH(port.thread_finishes_packet(w[0]), Catch::Contains("handle is closed"));
    CHECK_THROWS_WITH(port.post_packet(), Catch::Contains("handle is closed"));
    CHECK_THROWS_WITH(port.close_port(), Catch::Contains("handle is closed"));
    for (auto thread : w) port.thread_exits(thread);
    CHECK(port.running_count() == 0);
}

// ---- rule 10: a thread inside the call cannot exit ------------------------------------------------------------------

// Rule 10, "GetQueuedCompletionStatus", dwMilliseconds: "If dwMilliseconds is INFINITE, the function will never time
//   out." A waiting thread runs no code until the call returns - with a packet, a time-out or the port's closing -
//   so it cannot end itself from inside it. ("I/O Completion Ports": a thread stays associated "until one of three
//   things occurs: The thread exits, specifies a different I/O completion port, or closes the I/O completion
//   port.")
TEST_CASE("kernel queue rule 10 - a thread waiting in the call cannot exit", "[kernel_queue]") {
    CompletionPortModel port = make_port(1);
    const auto w = add_workers(port, 3);
    port.thread_calls_get_queued_completion_status(w[0]);
    port.thread_calls_get_queued_completion_status(w[1]);
    port.post_packet();                 // the kernel releases w2 with packet 1
    port.post_packet();                 // packet 2 stays queued: 1 running = concurrency 1
    port.thread_blocks(w[1]);           // w2 blocks: the kernel releases w1 with packet 2
    port.thread_finishes_packet(w[0]);  // w1 is done: nothing queued, it waits again

    CHECK_THROWS_WITH(port.thread_exits(w[0]), Catch::Contains("w1 is waiting inside GetQueuedCompletionStatus") &&
                                                   Catch::Contains("runs no code"));
    CHECK_THROWS_WITH(port.thread_exits(w[1]), Catch::Contains("blocked in another call"));
    CHECK(port.thread(w[0]).state == ThreadState::waiting);  // a refused action changes nothing
    CHECK(port.waiters_most_recent_first() == std::vector<kq::ThreadIndex>{w[0]});

    // A thread that is running can exit. Note, "I/O Completion Ports": the spare threads stay idle only if "the
    // running thread never gets put in a wait state by some other mechanism, terminates, or otherwise closes its
    // associated I/O completion port": a running thread that exits makes room, and a waiter is released at once.
    port.thread_unblocks(w[1]);  // 1 running
    port.post_packet();          // packet 3 stays queued: 1 running = concurrency 1
    port.thread_exits(w[1]);     // 0 running: the kernel releases w1 with packet 3, inside the exit
    CHECK(port.releases().back().thread == w[0]);
    CHECK(port.thread(w[0]).packets_in_hand == std::vector<kq::PacketId>{3});
    port.thread_exits(w[2]);  // never associated: it can always end
    CHECK(trace_problem(port).empty());
}

// ---- what the visualizer reads --------------------------------------------------------------------------------------

// The events a live IOCP server records, with the same arguments (common/trace/event.h).
TEST_CASE("kernel queue trace - records and arguments match a live IOCP server", "[kernel_queue]") {
    CompletionPortModel::Options options;
    options.processors = 2;
    options.concurrency_value = 1;
    options.port_index = 3;
    CompletionPortModel port(options);
    const auto w = add_workers(port, 2);
    port.thread_calls_get_queued_completion_status(w[0]);
    port.thread_calls_get_queued_completion_status(w[1]);
    port.post_packet(512, 7);

    const trace::Trace& recorded = port.trace();
    CHECK(recorded.info.at("model") == "reference");
    CHECK(recorded.info.at("runtime") == "reference model of the documented Windows rules");
    CHECK(recorded.info.at("processors") == "2");
    REQUIRE(recorded.threads.size() == 3);
    CHECK(recorded.threads.at(kq::kernel_thread).role == "kernel");
    CHECK(recorded.threads.at(w[0]).role == "worker");
    CHECK(events_of_kind(recorded, Kind::thread_start).size() == 3);

    const auto begins = events_of_kind(recorded, Kind::wait_begin);
    REQUIRE(begins.size() == 2);
    CHECK(begins[0]->arg0 == 3);  // port index
    const auto posted = events_of_kind(recorded, Kind::packet_posted);
    REQUIRE(posted.size() == 1);
    CHECK(posted[0]->arg0 == 3);
    CHECK(posted[0]->arg1 == 1);  // packet id
    CHECK(posted[0]->connection == 7);
    const auto wakes = events_of_kind(recorded, Kind::thread_wake);
    REQUIRE(wakes.size() == 1);
    CHECK(wakes[0]->thread == w[1]);
    CHECK(wakes[0]->arg0 == 3);
    CHECK(wakes[0]->time_ns / options.nanoseconds_per_action == posted[0]->time_ns / options.nanoseconds_per_action);
    const auto ends = events_of_kind(recorded, Kind::wait_end);
    REQUIRE(ends.size() == 1);
    CHECK(ends[0]->detail == static_cast<std::uint8_t>(trace::Wake::completion));
    CHECK(ends[0]->arg0 == 512);  // bytes
    CHECK(ends[0]->arg1 == 0);
    const auto depths = events_of_kind(recorded, Kind::queue_depth);
    REQUIRE(depths.size() == 2);
    CHECK(depths[0]->arg1 == 1);
    CHECK(depths[1]->arg1 == 0);
    CHECK(trace_problem(port).empty());

    // Every action and release left a sentence; the clock is simulated and the same on every run.
    CHECK(port.explanations().size() >= 5);
    CompletionPortModel again(options);
    const auto w_again = add_workers(again, 2);
    again.thread_calls_get_queued_completion_status(w_again[0]);
    again.thread_calls_get_queued_completion_status(w_again[1]);
    again.post_packet(512, 7);
    REQUIRE(again.trace().events.size() == recorded.events.size());
    for (std::size_t i = 0; i < recorded.events.size(); ++i)
        CHECK(again.trace().events[i].time_ns == recorded.events[i].time_ns);
}

TEST_CASE("kernel queue forbidden actions are refused naming thread and state", "[kernel_queue]") {
    CompletionPortModel port = make_port(1);
    const auto w = add_workers(port, 1);
    port.thread_calls_get_queued_completion_status(w[0]);
    CHECK_THROWS_WITH(port.thread_blocks(w[0]), Catch::Contains("w1 is waiting"));
    CHECK_THROWS_WITH(port.thread_calls_get_queued_completion_status(w[0]), Catch::Contains("already waiting"));
    CHECK_THROWS_WITH(port.thread_unblocks(w[0]), Catch::Contains("not blocked"));
    CHECK_THROWS_WITH(port.thread_finishes_packet(w[0]), Catch::Contains("only a running thread"));
    CHECK_THROWS_WITH(port.add_thread("w1"), Catch::Contains("already a thread named w1"));
    CHECK_THROWS_AS(port.thread_named("w9"), kq::ModelError);
    CHECK_THROWS_AS(port.thread(0), kq::ModelError);  // 0 is the kernel's lane, not a model thread

    // A waiting thread cannot exit (rule 10): it returns from the call first, here by a time-out.
    CHECK_THROWS_WITH(port.thread_exits(w[0]), Catch::Contains("w1 is waiting"));
    port.thread_wait_times_out(w[0]);
    port.thread_exits(w[0]);
    CHECK(port.waiters_most_recent_first().empty());
    CHECK(port.thread(w[0]).state == ThreadState::exited);
    CHECK_THROWS_AS(port.thread_calls_get_queued_completion_status(w[0]), kq::ModelError);
    CHECK_THROWS_WITH(port.thread_exits(w[0]), Catch::Contains("already exited"));
    CHECK(trace_problem(port).empty());
}

// ---- every rule at once, over many random runs ----------------------------------------------------------------------

// Every rule at once, after every action: only an unblock or a time-out can push the running count over the value
// (rule 4); a release happens only under the value (rule 3), inside the action that allowed it (a post, a block,
// an exit), takes the top of the stack (rule 2) and the oldest packets (rule 1), at most ulCount of them (rule 7);
// no packet is ever left queued while a waiter could take it (the kernel's moment); closing ends every wait.
TEST_CASE("kernel queue random runs keep every rule after every action", "[kernel_queue]") {
    std::mt19937 random(20261127);  // fixed seed: the same runs everywhere (mt19937's output is standardised)
    int exits = 0, time_outs = 0, batches_released = 0;  // the runs must reach the new rules, not just pass
    for (int run = 0; run < 200; ++run) {
        const unsigned processors = 1 + random() % 4;
        CompletionPortModel port = make_port(random() % 4, processors);
        const auto w = add_workers(port, 1 + static_cast<int>(random() % 6));
        kq::PacketId expected_next_packet = 1;

        for (int action = 0; action < 60; ++action) {
            const unsigned running_before = port.running_count();
            const auto stack_before = port.waiters_most_recent_first();
            const std::size_t releases_before = port.releases().size();
            const kq::ThreadIndex thread = w[random() % w.size()];
            const ThreadState state = port.thread(thread).state;
            const bool may_call = state == ThreadState::running || state == ThreadState::not_associated;
            bool may_exceed = false;  // an unblock or a time-out adds a running thread whatever the count
            std::vector<kq::PacketId> taken;
            switch (random() % 7) {
                case 0:
                    if (may_call) {
                        const kq::PacketId packet = port.thread_calls_get_queued_completion_status(thread);
                        if (packet != 0) taken.push_back(packet);
                    }
                    break;
                case 1:
                    if (may_call) taken = port.thread_calls_get_queued_completion_status_ex(thread, 1 + random() % 3);
                    break;
                case 2:
                    port.post_packet();
                    break;
                case 3:
                    if (state == ThreadState::running) port.thread_blocks(thread);
                    break;
                case 4:
                    if (state == ThreadState::blocked) {
                        port.thread_unblocks(thread);
                        may_exceed = true;
                    }
                    break;
                case 5:
                    if (state == ThreadState::waiting) {
                        port.thread_wait_times_out(thread);
                        may_exceed = true;
                        ++time_outs;
                    }
                    break;
                case 6:
                    if (state == ThreadState::running && random() % 4 == 0) {  // now and then: the pool must last
                        port.thread_exits(thread);
                        ++exits;
                    }
                    break;
            }
            const auto& releases = port.releases();
            REQUIRE(releases.size() - releases_before <= 1);  // one action makes room for at most one thread
            if (releases.size() > releases_before) {
                REQUIRE(taken.empty());
                REQUIRE(releases.back().thread == stack_before.front());
                REQUIRE(port.running_count() <= port.concurrency_value());
                REQUIRE(port.thread(releases.back().thread).max_entries >= releases.back().packets.size());
                taken = releases.back().packets;
                batches_released += taken.size() > 1;
            }
            for (const kq::PacketId packet : taken) REQUIRE(packet == expected_next_packet++);
            if (!may_exceed) REQUIRE(port.running_count() <= std::max(running_before, port.concurrency_value()));
            REQUIRE_FALSE(packet_left_for_a_waiter(port));
        }
        // Closing the port ends every wait still open, and only those (rule 9).
        const auto waiting = port.waiters_most_recent_first();
        port.close_port();
        for (const kq::ThreadIndex thread : waiting)
            REQUIRE(port.thread(thread).last_error == kq::abandoned_wait_error);
        REQUIRE(port.waiters_most_recent_first().empty());
        REQUIRE(trace_problem(port).empty());
    }
    CHECK(exits > 0);
    CHECK(time_outs > 0);
    CHECK(batches_released > 0);
}
