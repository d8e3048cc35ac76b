// common/kernel_queue/completion_port_model.h — a step-by-step model of the rules Windows documents for an
// I/O completion port (DESIGN.md §6).
//
// Why this exists: Wine 8.0 wakes the threads waiting on a completion port in FIFO order and ignores the
// concurrency value, so a lesson run under Wine cannot show what Windows does. This model follows the rules
// Microsoft documents, deterministically, one decision at a time, and records the same trace events a live
// IOCP server records, so the visualizer draws it with the same panels (thread lanes, waiters stack, queue).
//
// ---- The rules, as Microsoft Learn states them ("I/O Completion Ports"; CreateIoCompletionPort) ----------
//
//  1. Packets queue FIFO.
//       "an I/O completion packet is queued in first-in-first-out (FIFO) order to the associated I/O
//        completion port"
//  2. Waiting threads are released LIFO: the most recent waiter first.
//       "Threads that block their execution on an I/O completion port are released in last-in-first-out
//        (LIFO) order ... the system releases the last (most recent) thread associated with that port,
//        passing it the completion information for the oldest I/O completion."
//  3. A packet goes to a waiter only while fewer threads run than the concurrency value.
//       "If the number of threads running is less than the concurrency value ..., one of the waiting threads
//        (the most recent one) is allowed to process the completion packet."
//  4. A running thread that blocks for another reason (Sleep, a blocking call) stops counting as running, so
//     a waiter may be released; when the blocked thread resumes, the running count can exceed the value.
//       "The system also allows a thread waiting in GetQueuedCompletionStatus to process a completion packet
//        if another running thread associated with the same I/O completion port enters a wait state for
//        other reasons ... there may be a brief period when the number of active threads exceeds the
//        concurrency value. However, the system quickly reduces this number by not allowing any new active
//        threads until the number of active threads falls below the concurrency value."
//  5. A thread that comes back to the port while packets are queued takes the next one at once.
//       "when the running thread calls GetQueuedCompletionStatus, it will not block execution because ... the
//        thread queue is LIFO. Instead, this thread will immediately pick up the next queued completion
//        packet. No thread context switches will occur"
//     It does not count twice: calling GetQueuedCompletionStatus ends its turn as a running thread first.
//  6. A concurrency value of 0 means the number of processors.
//       "If this parameter is zero, the system allows as many concurrently running threads as there are
//        processors in the system."
//
// A thread becomes associated with the port the first time it calls GetQueuedCompletionStatus; before that
// the port does not count it at all (an acceptor thread that never waits on the port is never counted).
//
// ---- How the model moves ---------------------------------------------------------------------------------
//
// Two kinds of things happen, and the model keeps them apart so a class can watch each one:
//   - actions, done by a thread or by the I/O system: a thread calls GetQueuedCompletionStatus, a packet is
//     posted, a thread blocks or unblocks, a thread exits. An action takes effect at once, like a function
//     call returning. (A thread that calls GetQueuedCompletionStatus and may take a packet at once does so
//     inside that call: rule 5.)
//   - kernel decisions: releasing the most recent waiter with the oldest packet. The real kernel decides at
//     once; the model waits for step(), so a teacher can post a packet, stop, ask the class who will wake,
//     and then step. settle() takes every decision there is to take.
// Every action and decision appends a sentence to explanations() saying what happened and which rule made
// it so ("released w4 with packet 1: w4 is the most recent waiter (LIFO) ..."), and step() explains a
// decision not taken just as carefully ("packet 3 stays queued: 2 running = concurrency 2").
//
// ---- What it records -------------------------------------------------------------------------------------
//
// trace() is a socklab::trace::Trace the visualizer and the lesson runner read like a live server's trace:
//   server_start          arg0 = processors, arg1 = concurrency value in force (0 already replaced)
//   thread_start          per thread; trace.threads holds its role. Thread 0 is the "kernel" lane: it posts
//                         packets (the I/O system completing an I/O) and samples the queue depth.
//   wait_begin            a thread calls GetQueuedCompletionStatus: detail WaitOn::completion_port, arg0 = port
//   thread_wake           the kernel chose this waiter (arg0 = port); always right before its wait_end
//   wait_end              detail Wake::completion, arg0 = bytes, arg1 = 0 (success)
//                         (Wake::stop when a waiting thread exits instead)
//   packet_posted         arg0 = port, arg1 = packet id;  packet_dequeued: arg0 = port, arg1 = packet id
//   queue_depth           arg0 = port, arg1 = packets queued, after every change of the queue
//   block_begin/block_end arg0 of block_begin = milliseconds the thread blocks for (0 = not said)
//   thread_exit
// Time is simulated: every action and decision advances the clock by Options::nanoseconds_per_action, and
// the events inside one action are 1 ns apart, so the order is total and every run gives the same trace.
// Each event's site points at the line of completion_port_model.cpp that emitted it, so the source panel
// shows the rule being applied. The lines that apply each rule carry these anchors, for lessons to quote:
//   reference-create-port, reference-concurrency-zero (rule 6), reference-add-thread,
//   reference-returns-to-port (rule 5), reference-fifo-queue and reference-fifo-dequeue (rule 1),
//   reference-block and reference-unblock (rule 4), reference-exit, reference-concurrency-check (rule 3),
//   reference-lifo-release (rule 2).
//
// The scenario text form that lessons use to drive this model is in scenario.h.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/trace/event.h"
#include "common/trace/reader.h"

namespace socklab::kernel_queue {

// A thread index as the trace spells it. 0 is the kernel lane; the model's threads are numbered from 1.
using ThreadIndex = std::uint16_t;
// Packets are numbered from 1 in the order they are posted; 0 means "no packet".
using PacketId = std::uint32_t;

inline constexpr ThreadIndex kernel_thread = 0;

enum class ThreadState {
    not_associated,  // has never called GetQueuedCompletionStatus: the port does not count it
    waiting,         // inside GetQueuedCompletionStatus, on the waiters stack
    running,         // associated with the port and runnable: counted against the concurrency value
    blocked,         // associated, but blocked for another reason (Sleep, a blocking call): not counted
    exited,          // gone; no longer associated with the port
};

// "not-associated", "waiting", "running", "blocked", "exited" (the spelling scenario.h accepts).
std::string_view to_string(ThreadState state);

struct Packet {
    PacketId id = 0;
    std::uint32_t bytes = 0;       // what GetQueuedCompletionStatus reports as bytes transferred
    std::uint32_t connection = 0;  // stands for the completion key: which connection the I/O was on
};

struct ModelThread {
    ThreadIndex index = 0;
    std::string name;  // "w1": how scenarios and explanations call it
    std::string role;  // "worker": what trace.threads records
    ThreadState state = ThreadState::not_associated;
    PacketId packet_in_hand = 0;  // the packet it took and has not yet finished (0 = none)
};

// One sentence for the class, stamped with the simulated time of the action or decision it explains.
struct Explanation {
    std::uint64_t time_ns = 0;
    std::string text;
};

// What one step() did. released == false means the kernel had nothing it could do; explanation says why.
struct Decision {
    bool released = false;
    ThreadIndex thread = 0;  // the waiter released (when released)
    PacketId packet = 0;     // the packet it was given (when released)
    std::string explanation;
};

// An action that the rules do not allow in the current state (blocking a thread that is waiting, naming a
// thread that does not exist, ...). The message names the action, the thread and its state.
class ModelError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class CompletionPortModel {
public:
    struct Options {
        unsigned processors = 2;         // the machine's processor count (what concurrency 0 means)
        unsigned concurrency_value = 0;  // NumberOfConcurrentThreads given to CreateIoCompletionPort
        std::uint16_t port_index = 0;    // the port's index in the trace (arg0 of port events)
        std::uint64_t nanoseconds_per_action = 1'000'000;  // simulated time between actions (1 ms)
        std::uint32_t default_packet_bytes = 64;
    };

    CompletionPortModel();  // two processors, concurrency value 0
    explicit CompletionPortModel(Options options);

    // ---- actions -----------------------------------------------------------------------------------------
    // Adds a thread, not yet associated with the port. The name must be unique and without spaces.
    ThreadIndex add_thread(std::string name, std::string role = "worker");
    // The thread calls GetQueuedCompletionStatus: the first call associates it with the port; a running
    // thread calling it again has finished its packet. It takes the oldest packet at once if one is queued
    // and fewer threads than the concurrency value run without it (rule 5), else it waits on top of the
    // waiters stack (rule 2). Returns the packet taken at once, or 0 when it waits.
    PacketId thread_calls_get_queued_completion_status(ThreadIndex thread);
    // The same call, for a thread that must be running: reads better in a lesson ("w1 is done with its
    // packet and goes back to the port").
    PacketId thread_finishes_packet(ThreadIndex thread);
    // An I/O completes (or a thread calls PostQueuedCompletionStatus): a packet joins the back of the queue.
    // Releasing a waiter for it is a kernel decision: call step().
    PacketId post_packet(std::uint32_t bytes, std::uint32_t connection = 0);
    PacketId post_packet() { return post_packet(options_.default_packet_bytes); }
    // A running thread blocks for another reason (rule 4): it stops counting as running.
    void thread_blocks(ThreadIndex thread, std::uint32_t milliseconds = 0);
    // Its blocking call returns: it counts as running again, even if that puts the count over the value.
    void thread_unblocks(ThreadIndex thread);
    // The thread ends. A waiting thread leaves the stack (its wait ends with Wake::stop).
    void thread_exits(ThreadIndex thread);

    // ---- kernel decisions --------------------------------------------------------------------------------
    // True when step() would release a waiter now.
    bool decision_pending() const;
    // Applies the next kernel decision: release the most recent waiter with the oldest packet, when the rules
    // allow it. Otherwise changes nothing (and records no event), but explains why.
    Decision step();
    // Steps until no decision is pending; returns the decisions taken (empty when there were none). When
    // packets are left over, the last explanation says why they stay queued.
    std::vector<Decision> settle();

    // ---- queries -----------------------------------------------------------------------------------------
    unsigned processors() const { return options_.processors; }
    unsigned concurrency_value_requested() const { return options_.concurrency_value; }
    // The value in force: the requested one, or the processor count when 0 was requested (rule 6).
    unsigned concurrency_value() const;
    unsigned running_count() const;
    // The waiters stack, the one released next first: waiters_most_recent_first()[0] is the top.
    std::vector<ThreadIndex> waiters_most_recent_first() const;
    // The queue, the packet dequeued next first.
    const std::deque<Packet>& queued_packets() const { return queue_; }
    const std::vector<ModelThread>& threads() const { return threads_; }  // in index order, from 1
    const ModelThread& thread(ThreadIndex index) const;
    // The thread with that name; throws ModelError naming the unknown name.
    ThreadIndex thread_named(std::string_view name) const;
    const Decision& last_decision() const { return last_decision_; }
    const std::vector<Explanation>& explanations() const { return explanations_; }
    // Everything recorded so far, ready for the visualizer (events, threads, sites, info).
    const trace::Trace& trace() const { return trace_; }
    std::uint64_t now_ns() const { return clock_ns_; }

private:
    ModelThread& mutable_thread(ThreadIndex index, std::string_view action);
    void begin_action();
    void emit(trace::Kind kind, ThreadIndex thread, std::uint8_t detail, std::int64_t arg0, std::uint32_t arg1,
              std::uint32_t connection, int source_line);
    std::uint16_t site_for_line(int source_line, trace::Kind kind);
    void explain(std::string text);
    void hand_packet_to(ModelThread& thread, int source_line);
    std::string describe_waiters() const;
    std::string describe_queue() const;
    std::string why_no_release() const;

    Options options_;
    std::vector<ModelThread> threads_;  // threads_[i] has index i + 1
    std::vector<ThreadIndex> waiters_;  // bottom of the stack first; back() is the most recent waiter
    std::deque<Packet> queue_;          // front() is the oldest packet
    PacketId next_packet_id_ = 1;
    std::uint64_t clock_ns_ = 0;
    std::uint64_t events_in_action_ = 0;
    std::map<int, std::uint16_t> site_by_line_;
    Decision last_decision_;
    std::vector<Explanation> explanations_;
    trace::Trace trace_;
};

}  // namespace socklab::kernel_queue
