// common/kernel_queue/completion_port_model.h — an action-by-action model of the rules Windows documents for an
// I/O completion port (docs/design.md §6).
//
// Why this exists: Wine 8.0 wakes the threads waiting on a completion port in FIFO order and ignores the
// concurrency value, so a lesson run under Wine cannot show what Windows does. This model follows the rules
// Microsoft documents, deterministically, one action at a time, and records the same trace events a live
// IOCP server records, so the visualizer draws it with the same panels (thread lanes, waiters stack, queue).
//
// ---- The rules, as Microsoft Learn states them ("I/O Completion Ports"; CreateIoCompletionPort;
//      GetQueuedCompletionStatus; GetQueuedCompletionStatusEx) ------------------------------------------------
//
//  1. Packets queue FIFO.
//       "an I/O completion packet is queued in first-in-first-out (FIFO) order to the associated I/O
//        completion port"
//     The same page hedges: "Please note that while the packets are queued in FIFO order they may be dequeued
//     in a different order." It names no other order, so the model dequeues FIFO, the one order documented: a
//     lesson cannot predict an order the documentation leaves open. A live run is measured, never assumed.
//  2. Waiting threads are released LIFO: the most recent waiter first.
//       "Threads that block their execution on an I/O completion port are released in last-in-first-out
//        (LIFO) order ... the system releases the last (most recent) thread associated with that port,
//        passing it the completion information for the oldest I/O completion."
//  3. A packet goes to a waiter only while fewer threads run than the concurrency value, and the kernel checks
//     at the moment the packet is queued.
//       "When a completion packet is queued to an I/O completion port, the system first checks how many
//        threads associated with that port are running. If the number of threads running is less than the
//        concurrency value ..., one of the waiting threads (the most recent one) is allowed to process the
//        completion packet."
//  4. A running thread that blocks for another reason (Sleep, a blocking call) stops counting as running, so
//     a waiter is released at that moment; when the blocked thread resumes, the count can exceed the value.
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
//  7. GetQueuedCompletionStatusEx removes up to ulCount packets, all for the one thread it releases.
//       ulCount: "The maximum number of entries to remove." ... "If a thread is actively waiting on this
//        call, one or more queued requests complete the call for that thread only."
//  8. A wait can time out: the thread leaves the stack without a packet.
//       "If a completion packet does not appear within the specified time, the function times out, returns
//        FALSE, and sets *lpOverlapped to NULL." GetLastError then says WAIT_TIMEOUT: the current page no longer
//     says so, earlier versions of it did ("If the function did not dequeue a completion packet because the wait
//     timed out, GetLastError returns WAIT_TIMEOUT.").
//  9. Closing the port's handle ends every wait on it.
//       "If a call to GetQueuedCompletionStatus fails because the completion port handle associated with it
//        is closed while the call is outstanding, the function returns FALSE, *lpOverlapped will be NULL, and
//        GetLastError will return ERROR_ABANDONED_WAIT_0."
// 10. A thread inside the call cannot exit: it runs no code until the call returns, and only a packet, a
//     time-out or the port's closing return it.
//       "If dwMilliseconds is INFINITE, the function will never time out."
//     So the model refuses to let a waiting thread (or one blocked for another reason) exit.
//
// A thread becomes associated with the port the first time it calls GetQueuedCompletionStatus; before that
// the port does not count it at all (an acceptor thread that never waits on the port is never counted).
//
// ---- How the model moves: every decision at the kernel's moment -----------------------------------------------
//
// Every change is an action, done by a thread or by the I/O system: a thread calls GetQueuedCompletionStatus
// (or the Ex form), a packet is posted, a thread blocks, unblocks, times out or exits, the port is closed. The
// kernel's decision - which waiter is released, with which packets - is taken inside the action that makes it
// possible, at the same simulated instant, because that is when Windows takes it (rule 3: "When a completion
// packet is queued ... the system first checks"; rule 4: when a running thread "enters a wait state"). Nothing
// is left pending for later, so no later action can take a packet the kernel has already handed to a waiter:
// with concurrency 2, w1 running and w2 waiting, a post releases w2 at once, and w1 coming back finds the queue
// empty. (An earlier version waited for a separate step() to decide, and there w1 could take the packet - which
// Windows never allows.) The other way to be exact, refusing every action while a decision is pending until a
// step() takes it, would still show the kernel waiting for the class, and would need a step after each packet
// of a burst. A class pauses before an action instead, not between an action and its consequence: the
// scenario player applies one line at a time.
//
// The kernel decides in three kinds of action only: a post (a new packet, rule 3), a running thread blocking
// or exiting (room under the value, rules 4 and 3), and a thread calling the port (rule 5: it takes a packet
// itself, or waits on top of the stack). Unblocking and timing out only add a running thread, so they release
// no one; closing the port ends every wait without a packet (rule 9).
// After every action no packet stays queued while a waiter could take it; tests check that after every action.
//
// Every action appends a sentence to explanations() saying what happened and which rule made it so, including
// what the kernel decided ("the kernel releases w4 at once with packet 1: w4 is the most recent waiter (rule 2:
// LIFO) ...") or why it released no one ("packet 3 stays queued: 2 running = concurrency 2 (rule 3)").
// releases() lists every release the kernel made, in order.
//
// ---- What it records -------------------------------------------------------------------------------------
//
// trace() is a socklab::trace::Trace the visualizer and the lesson runner read like a live server's trace:
//   server_start          arg0 = processors, arg1 = concurrency value in force (0 already replaced)
//   thread_start          per thread; trace.threads holds its role. Thread 0 is the "kernel" lane: it posts
//                         packets (the I/O system completing an I/O) and samples the queue depth.
//   wait_begin            a thread calls GetQueuedCompletionStatus(Ex): detail WaitOn::completion_port,
//                         arg0 = port
//   thread_wake           the kernel chose this waiter (arg0 = port); always right before its wait_end
//   wait_end              detail Wake::completion, arg1 = 0 (success), arg0 = bytes of the packet
//                         (GetQueuedCompletionStatus) or entries removed (GetQueuedCompletionStatusEx), then
//                         one packet_dequeued and queue_depth per packet taken;
//                         Wake::timeout, arg1 = 258 (WAIT_TIMEOUT) when the wait timed out (rule 8);
//                         Wake::error, arg1 = 735 (ERROR_ABANDONED_WAIT_0) when the port was closed (rule 9)
//   packet_posted         arg0 = port, arg1 = packet id;  packet_dequeued: arg0 = port, arg1 = packet id
//   queue_depth           arg0 = port, arg1 = packets queued, after every change of the queue
//   block_begin/block_end arg0 of block_begin = milliseconds the thread blocks for (0 = not said)
//   thread_exit
// Time is simulated: every action advances the clock by Options::nanoseconds_per_action, and the events inside
// one action (the kernel's decision included) are 1 ns apart, so the order is total and every run gives the
// same trace. Each event's site points at the line of completion_port_model.cpp that emitted it, so the source
// panel shows the rule being applied. The lines that apply each rule carry these anchors, for lessons to quote:
//   reference-create-port, reference-concurrency-zero (rule 6), reference-add-thread,
//   reference-returns-to-port (rule 5), reference-fifo-queue and reference-fifo-dequeue (rule 1),
//   reference-block and reference-unblock (rule 4), reference-exit (rule 10), reference-concurrency-check
//   (rule 3), reference-lifo-release (rule 2), reference-batch (rule 7), reference-timeout (rule 8),
//   reference-close-port (rule 9).
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
    waiting,         // inside GetQueuedCompletionStatus(Ex), on the waiters stack
    running,         // associated with the port and runnable: counted against the concurrency value
    blocked,         // associated, but blocked for another reason (Sleep, a blocking call): not counted
    exited,          // gone; no longer associated with the port
};

// "not-associated", "waiting", "running", "blocked", "exited" (the spelling scenario.h accepts).
std::string_view to_string(ThreadState state);

// What GetLastError says after a wait that returned FALSE without a packet (winerror.h values).
inline constexpr std::uint32_t wait_timeout_error = 258;    // WAIT_TIMEOUT (rule 8)
inline constexpr std::uint32_t abandoned_wait_error = 735;  // ERROR_ABANDONED_WAIT_0 (rule 9)

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
    // The packets it took and has not yet finished, oldest first: one from GetQueuedCompletionStatus, up to
    // ulCount from GetQueuedCompletionStatusEx (rule 7). Empty when it holds none.
    std::vector<PacketId> packets_in_hand;
    // The call it waits in (or last made): GetQueuedCompletionStatusEx when in_ex_call, with ulCount =
    // max_entries; GetQueuedCompletionStatus, which takes one packet, otherwise.
    bool in_ex_call = false;
    unsigned max_entries = 1;
    // How its last wait ended without a packet: wait_timeout_error, abandoned_wait_error, or 0.
    std::uint32_t last_error = 0;
};

// One sentence for the class, stamped with the simulated time of the action it explains.
struct Explanation {
    std::uint64_t time_ns = 0;
    std::string text;
};

// The kernel released a waiter: which one, with which packets (several for GetQueuedCompletionStatusEx), and
// the sentence that says why. Taken inside the action that made it possible (see "How the model moves").
struct Release {
    ThreadIndex thread = 0;
    std::vector<PacketId> packets;
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
        unsigned processors = 2;                           // the machine's processor count (what concurrency 0 means)
        unsigned concurrency_value = 0;                    // NumberOfConcurrentThreads given to CreateIoCompletionPort
        std::uint16_t port_index = 0;                      // the port's index in the trace (arg0 of port events)
        std::uint64_t nanoseconds_per_action = 1'000'000;  // simulated time between actions (1 ms)
        std::uint32_t default_packet_bytes = 64;
    };

    CompletionPortModel();  // two processors, concurrency value 0
    explicit CompletionPortModel(Options options);

    // ---- actions: each one takes effect at once, the kernel's decision included -------------------------
    // Adds a thread, not yet associated with the port. The name must be unique and without spaces.
    ThreadIndex add_thread(std::string name, std::string role = "worker");
    // The thread calls GetQueuedCompletionStatus: the first call associates it with the port; a running
    // thread calling it again has finished its packets. It takes the oldest packet at once if one is queued
    // and fewer threads than the concurrency value run without it (rule 5), else it waits on top of the
    // waiters stack (rule 2). Returns the packet taken at once, or 0 when it waits.
    PacketId thread_calls_get_queued_completion_status(ThreadIndex thread);
    // The same with GetQueuedCompletionStatusEx and ulCount = max_entries (at least 1): it takes up to that
    // many queued packets at once (rule 7). Returns the packets taken at once, empty when it waits.
    std::vector<PacketId> thread_calls_get_queued_completion_status_ex(ThreadIndex thread, unsigned max_entries);
    // The same calls, for a thread that must be running: reads better in a lesson ("w1 is done with its
    // packet and goes back to the port").
    PacketId thread_finishes_packet(ThreadIndex thread);
    std::vector<PacketId> thread_finishes_packets_ex(ThreadIndex thread, unsigned max_entries);
    // An I/O completes (or a thread calls PostQueuedCompletionStatus): a packet joins the back of the queue,
    // and the kernel releases the most recent waiter with the oldest packet at once if fewer threads than the
    // concurrency value run (rule 3).
    PacketId post_packet(std::uint32_t bytes, std::uint32_t connection = 0);
    PacketId post_packet() { return post_packet(options_.default_packet_bytes); }
    // A running thread blocks for another reason (rule 4): it stops counting as running, and the kernel
    // releases a waiter in its place at once if a packet is queued.
    void thread_blocks(ThreadIndex thread, std::uint32_t milliseconds = 0);
    // Its blocking call returns: it counts as running again, even if that puts the count over the value.
    void thread_unblocks(ThreadIndex thread);
    // A waiting thread's dwMilliseconds elapse (rule 8): it leaves the stack and runs again, without a packet.
    void thread_wait_times_out(ThreadIndex thread);
    // The thread ends. Only a running or never-associated thread can: one inside a call runs no code
    // (rule 10). A running thread that exits makes room under the value, so a waiter may be released at once.
    void thread_exits(ThreadIndex thread);
    // CloseHandle on the port (rule 9): every waiter returns FALSE with ERROR_ABANDONED_WAIT_0 and runs again.
    // Afterwards the handle is invalid: calling or posting to the port is refused. Packets still queued stay
    // where they are: no thread can dequeue them any more.
    void close_port();

    // ---- queries -----------------------------------------------------------------------------------------
    unsigned processors() const { return options_.processors; }
    unsigned concurrency_value_requested() const { return options_.concurrency_value; }
    // The value in force: the requested one, or the processor count when 0 was requested (rule 6).
    unsigned concurrency_value() const;
    unsigned running_count() const;
    bool port_closed() const { return port_closed_; }
    // The waiters stack, the one released next first: waiters_most_recent_first()[0] is the top.
    std::vector<ThreadIndex> waiters_most_recent_first() const;
    // The queue, the packet dequeued next first.
    const std::deque<Packet>& queued_packets() const { return queue_; }
    const std::vector<ModelThread>& threads() const { return threads_; }  // in index order, from 1
    const ModelThread& thread(ThreadIndex index) const;
    // The thread with that name; throws ModelError naming the unknown name.
    ThreadIndex thread_named(std::string_view name) const;
    // Every waiter the kernel released so far, in order (not the threads that took a packet at once).
    const std::vector<Release>& releases() const { return releases_; }
    const std::vector<Explanation>& explanations() const { return explanations_; }
    // Everything recorded so far, ready for the visualizer (events, threads, sites, info).
    const trace::Trace& trace() const { return trace_; }
    std::uint64_t now_ns() const { return clock_ns_; }

private:
    ModelThread& mutable_thread(ThreadIndex index, std::string_view action);
    std::vector<PacketId> call_port(ThreadIndex index, unsigned max_entries, bool ex_call);
    void refuse_if_port_closed(std::string_view action) const;
    void begin_action();
    void emit(trace::Kind kind, ThreadIndex thread, std::uint8_t detail, std::int64_t arg0, std::uint32_t arg1,
              std::uint32_t connection, int source_line);
    std::uint16_t site_for_line(int source_line, trace::Kind kind);
    void explain(std::string text);
    std::vector<PacketId> hand_packets_to(ModelThread& thread, int source_line);
    void release_waiters_now();
    std::string describe_waiters() const;
    std::string describe_queue() const;
    std::string why_no_release() const;

    Options options_;
    std::vector<ModelThread> threads_;  // threads_[i] has index i + 1
    std::vector<ThreadIndex> waiters_;  // bottom of the stack first; back() is the most recent waiter
    std::deque<Packet> queue_;          // front() is the oldest packet
    bool port_closed_ = false;
    PacketId next_packet_id_ = 1;
    std::uint64_t clock_ns_ = 0;
    std::uint64_t events_in_action_ = 0;
    std::map<int, std::uint16_t> site_by_line_;
    std::vector<Release> releases_;
    std::vector<Explanation> explanations_;
    trace::Trace trace_;
};

}  // namespace socklab::kernel_queue
