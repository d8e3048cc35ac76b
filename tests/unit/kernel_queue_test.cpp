// The reference model of the completion port (DESIGN.md §6): each test quotes the rule it checks, from
// Microsoft Learn, "I/O Completion Ports" and "CreateIoCompletionPort". Every test fails if its rule is broken.
//
// The model is also checked through its trace alone (the visualizer sees nothing else): waits pair up, the
// kernel's choice precedes the wake, queue depth samples add up, and the waiters stack rebuilt from the events
// is released from the top.
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
    std::map<std::uint16_t, bool> in_wait;             // thread -> inside GetQueuedCompletionStatus
    std::map<std::uint16_t, bool> woken_by_kernel;     // thread -> thread_wake seen, wait_end due
    std::vector<std::uint16_t> stack;                  // waiters rebuilt from events; back() = most recent
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
            if (stack.empty() || stack.back() != event.thread) return where + "thread_wake not at the top of the stack";
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
        default: break;
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

}  // namespace

// ---- rule 2: LIFO release ------------------------------------------------------------------------------------------

// Rule 2, Microsoft Learn "I/O Completion Ports":
//   "Threads that block their execution on an I/O completion port are released in last-in-first-out (LIFO)
//    order"
TEST_CASE("kernel queue rule 2 LIFO - of four waiters the most recent wakes", "[kernel_queue]") {
    CompletionPortModel port = make_port(2);
    const auto w = add_workers(port, 4);
    for (auto thread : w) REQUIRE(port.thread_calls_get_queued_completion_status(thread) == 0);
    REQUIRE(port.waiters_most_recent_first() == std::vector<kq::ThreadIndex>{w[3], w[2], w[1], w[0]});

    const kq::PacketId packet = port.post_packet(100);
    CHECK(port.thread(w[3]).state == ThreadState::waiting);  // posting is not the kernel's decision
    const kq::Decision decision = port.step();

    REQUIRE(decision.released);
    CHECK(decision.thread == w[3]);
    CHECK(decision.packet == packet);
    CHECK(port.thread(w[3]).state == ThreadState::running);
    CHECK(port.thread(w[3]).packet_in_hand == packet);
    CHECK(port.waiters_most_recent_first() == std::vector<kq::ThreadIndex>{w[2], w[1], w[0]});
    CHECK(decision.explanation.find("released w4") != std::string::npos);
    CHECK(decision.explanation.find("LIFO") != std::string::npos);
    CHECK(trace_problem(port).empty());
}

// Rule 2: "the system releases the last (most recent) thread associated with that port"
TEST_CASE("kernel queue rule 2 LIFO - a thread waiting again is released next", "[kernel_queue]") {
    CompletionPortModel port = make_port(1);
    const auto w = add_workers(port, 3);
    for (auto thread : w) port.thread_calls_get_queued_completion_status(thread);
    port.post_packet();
    REQUIRE(port.step().thread == w[2]);
    port.thread_finishes_packet(w[2]);  // queue empty: w3 waits again, on top
    CHECK(port.waiters_most_recent_first().front() == w[2]);
    port.post_packet();
    CHECK(port.step().thread == w[2]);  // the same warm thread again; w1 and w2 never run
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

// ---- rule 3: the concurrency value ----------------------------------------------------------------------------------

// Rule 3: "If the number of threads running is less than the concurrency value ..., one of the waiting threads
//   (the most recent one) is allowed to process the completion packet."
TEST_CASE("kernel queue rule 3 concurrency - 1 running of 1 keeps a packet queued", "[kernel_queue]") {
    CompletionPortModel port = make_port(1);
    const auto w = add_workers(port, 2);
    port.thread_calls_get_queued_completion_status(w[0]);
    port.thread_calls_get_queued_completion_status(w[1]);
    port.post_packet();
    REQUIRE(port.step().thread == w[1]);
    REQUIRE(port.running_count() == 1);

    const kq::PacketId waiting_packet = port.post_packet();
    CHECK_FALSE(port.decision_pending());
    const kq::Decision refused = port.step();
    CHECK_FALSE(refused.released);
    CHECK(refused.explanation.find("packet 2 stays queued: 1 running = concurrency 1") != std::string::npos);
    CHECK(port.thread(w[0]).state == ThreadState::waiting);
    CHECK(port.queued_packets().size() == 1);
    CHECK(port.queued_packets().front().id == waiting_packet);
    CHECK(trace_problem(port).empty());
}

// Rule 3: "When the total number of runnable threads associated with the completion port reaches the
//   concurrency value, the system blocks the execution of any subsequent threads associated with that
//   completion port until the number of runnable threads drops below the concurrency value."
TEST_CASE("kernel queue rule 3 concurrency - settle releases as many as the value", "[kernel_queue]") {
    CompletionPortModel port = make_port(2);
    const auto w = add_workers(port, 5);
    for (auto thread : w) port.thread_calls_get_queued_completion_status(thread);
    for (int i = 0; i < 5; ++i) port.post_packet();
    const auto decisions = port.settle();
    REQUIRE(decisions.size() == 2);
    CHECK(decisions[0].thread == w[4]);
    CHECK(decisions[1].thread == w[3]);
    CHECK(decisions[0].packet == 1);  // the released waiters get the oldest packets (FIFO)
    CHECK(decisions[1].packet == 2);
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
    REQUIRE(port.step().thread == w[1]);
    const kq::PacketId queued = port.post_packet();
    REQUIRE(port.queued_packets().size() == 1);

    // w2 comes back: it takes packet 2 at once, without waiting and without the kernel releasing anyone.
    const std::size_t wakes_before = events_of_kind(port.trace(), Kind::thread_wake).size();
    CHECK(port.thread_finishes_packet(w[1]) == queued);
    CHECK(port.thread(w[1]).state == ThreadState::running);
    CHECK(port.thread(w[1]).packet_in_hand == queued);
    CHECK(events_of_kind(port.trace(), Kind::thread_wake).size() == wakes_before);
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
    port.step();
    CHECK(port.thread_finishes_packet(w[0]) == 0);
    CHECK(port.thread(w[0]).state == ThreadState::waiting);
    CHECK(port.thread(w[0]).packet_in_hand == 0);
    CHECK(port.running_count() == 0);
    CHECK(port.waiters_most_recent_first() == std::vector<kq::ThreadIndex>{w[0]});
    CHECK(trace_problem(port).empty());
}

// ---- rule 4: blocking for another reason ----------------------------------------------------------------------------

// Rule 4: "The system also allows a thread waiting in GetQueuedCompletionStatus to process a completion packet if
//   another running thread associated with the same I/O completion port enters a wait state for other reasons
//   ... When the thread in the wait state begins running again, there may be a brief period when the number
//   of active threads exceeds the concurrency value."
TEST_CASE("kernel queue rule 4 - a block lets a waiter run and the count exceeds", "[kernel_queue]") {
    CompletionPortModel port = make_port(1);
    const auto w = add_workers(port, 2);
    port.thread_calls_get_queued_completion_status(w[0]);
    port.thread_calls_get_queued_completion_status(w[1]);
    port.post_packet();
    port.post_packet();
    REQUIRE(port.step().thread == w[1]);
    REQUIRE_FALSE(port.step().released);  // 1 running = concurrency 1

    port.thread_blocks(w[1], 50);
    CHECK(port.thread(w[1]).state == ThreadState::blocked);
    CHECK(port.running_count() == 0);
    REQUIRE(port.decision_pending());
    const kq::Decision decision = port.step();
    CHECK(decision.released);
    CHECK(decision.thread == w[0]);
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
    REQUIRE(port.step().thread == w[2]);
    port.thread_blocks(w[2]);
    port.post_packet();
    REQUIRE(port.step().thread == w[1]);
    port.thread_unblocks(w[2]);
    REQUIRE(port.running_count() == 2);
    port.post_packet();
    port.post_packet();

    // No waiter is released while 2 run.
    const kq::Decision refused = port.step();
    CHECK_FALSE(refused.released);
    CHECK(refused.explanation.find("2 running > concurrency 1") != std::string::npos);

    // A thread coming back to the port does not take a packet either: 1 other still runs, which is not < 1.
    CHECK(port.thread_finishes_packet(w[2]) == 0);
    CHECK(port.thread(w[2]).state == ThreadState::waiting);
    CHECK(port.running_count() == 1);
    CHECK_FALSE(port.step().released);

    // Once the count falls below the value, the next thread back takes a packet at once.
    CHECK(port.thread_finishes_packet(w[1]) == 3);
    CHECK(port.running_count() == 1);
    CHECK(trace_problem(port).empty());
}

// ---- rule 6: concurrency 0 ------------------------------------------------------------------------------------------

// Rule 6, Microsoft Learn "CreateIoCompletionPort", NumberOfConcurrentThreads: "If this parameter is zero, the
//   system allows as many concurrently running threads as there are processors in the system."
TEST_CASE("kernel queue rule 6 - a concurrency value of 0 means the processor count", "[kernel_queue]") {
    for (unsigned processors : {1u, 3u, 8u}) {
        CompletionPortModel port = make_port(0, processors);
        CHECK(port.concurrency_value() == processors);
        CHECK(port.concurrency_value_requested() == 0);
        const auto w = add_workers(port, static_cast<int>(processors) + 2);
        for (auto thread : w) port.thread_calls_get_queued_completion_status(thread);
        for (unsigned i = 0; i < processors + 2; ++i) port.post_packet();
        CHECK(port.settle().size() == processors);
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
    CHECK(port.step().thread == w[0]);  // the acceptor, busy elsewhere, does not use up the concurrency value
    CHECK(port.running_count() == 1);
    CHECK_THROWS_AS(port.thread_blocks(acceptor), kq::ModelError);
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
    port.step();

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

    // Every action and decision left a sentence; the clock is simulated and the same on every run.
    CHECK(port.explanations().size() >= 5);
    CompletionPortModel again(options);
    const auto w_again = add_workers(again, 2);
    again.thread_calls_get_queued_completion_status(w_again[0]);
    again.thread_calls_get_queued_completion_status(w_again[1]);
    again.post_packet(512, 7);
    again.step();
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

    port.thread_exits(w[0]);
    CHECK(port.waiters_most_recent_first().empty());
    CHECK(port.thread(w[0]).state == ThreadState::exited);
    CHECK_THROWS_AS(port.thread_calls_get_queued_completion_status(w[0]), kq::ModelError);
    CHECK(trace_problem(port).empty());
}

// ---- every rule at once, over many random runs ----------------------------------------------------------------------

// Every rule at once: only an unblock can push the running count over the value (rule 4); a release happens
// only under the value (rule 3), takes the top of the stack (rule 2) and the oldest packet (rule 1); after
// settle no packet stays queued while a waiter could take it.
TEST_CASE("kernel queue random runs keep every rule", "[kernel_queue]") {
    std::mt19937 random(20261127);  // fixed seed: the same runs everywhere (mt19937's output is standardised)
    for (int run = 0; run < 200; ++run) {
        const unsigned processors = 1 + random() % 4;
        CompletionPortModel port = make_port(random() % 4, processors);
        const auto w = add_workers(port, 1 + static_cast<int>(random() % 6));
        kq::PacketId expected_next_packet = 1;

        for (int action = 0; action < 60; ++action) {
            const unsigned running_before = port.running_count();
            const auto stack_before = port.waiters_most_recent_first();
            const kq::ThreadIndex thread = w[random() % w.size()];
            const ThreadState state = port.thread(thread).state;
            bool was_unblock = false;
            kq::PacketId taken = 0;
            switch (random() % 5) {
            case 0:
                if (state == ThreadState::running || state == ThreadState::not_associated)
                    taken = port.thread_calls_get_queued_completion_status(thread);
                break;
            case 1: port.post_packet(); break;
            case 2:
                if (state == ThreadState::running) port.thread_blocks(thread);
                break;
            case 3:
                if (state == ThreadState::blocked) {
                    port.thread_unblocks(thread);
                    was_unblock = true;
                }
                break;
            case 4: {
                const kq::Decision decision = port.step();
                if (decision.released) {
                    REQUIRE(running_before < port.concurrency_value());
                    REQUIRE(decision.thread == stack_before.front());
                    taken = decision.packet;
                }
                break;
            }
            }
            if (taken != 0) REQUIRE(taken == expected_next_packet++);
            if (!was_unblock) REQUIRE(port.running_count() <= std::max(running_before, port.concurrency_value()));
        }
        port.settle();
        REQUIRE_FALSE(port.decision_pending());
        REQUIRE_FALSE((!port.queued_packets().empty() && !port.waiters_most_recent_first().empty() &&
                       port.running_count() < port.concurrency_value()));
        REQUIRE(trace_problem(port).empty());
    }
}
