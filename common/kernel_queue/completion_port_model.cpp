// common/kernel_queue/completion_port_model.cpp — the documented completion-port rules, one decision at a time.
//
// The rules and the events are described in completion_port_model.h. This file is short on purpose: each rule
// is applied in exactly one place, marked with a LESSON anchor so lessons can quote it, and each trace event
// names the line that emitted it, so the visualizer's source panel lands on the rule being applied.
//
// Sections: setup · explaining · threads call the port · packets · blocking · kernel decisions · queries
#include "common/kernel_queue/completion_port_model.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace socklab::kernel_queue {

namespace {

// Sites name the file relative to the project root, as every trace site does, whatever the compiler says.
constexpr const char* this_file = "common/kernel_queue/completion_port_model.cpp";

// A site's label is the kind written at the site (trace/reader.h). Spelled here rather than through
// trace::to_string so that this library needs nothing but the schema.
const char* kind_label(trace::Kind kind) {
    switch (kind) {
    case trace::Kind::server_start: return "server_start";
    case trace::Kind::thread_start: return "thread_start";
    case trace::Kind::thread_exit: return "thread_exit";
    case trace::Kind::wait_begin: return "wait_begin";
    case trace::Kind::wait_end: return "wait_end";
    case trace::Kind::packet_posted: return "packet_posted";
    case trace::Kind::packet_dequeued: return "packet_dequeued";
    case trace::Kind::queue_depth: return "queue_depth";
    case trace::Kind::block_begin: return "block_begin";
    case trace::Kind::block_end: return "block_end";
    case trace::Kind::thread_wake: return "thread_wake";
    default: return "event";
    }
}

std::string plural(unsigned count, const char* one, const char* many) {
    return std::to_string(count) + " " + (count == 1 ? one : many);
}

}  // namespace

std::string_view to_string(ThreadState state) {
    switch (state) {
    case ThreadState::not_associated: return "not-associated";
    case ThreadState::waiting: return "waiting";
    case ThreadState::running: return "running";
    case ThreadState::blocked: return "blocked";
    case ThreadState::exited: return "exited";
    }
    return "unknown";
}

// ---- setup ---------------------------------------------------------------------------------------------------

CompletionPortModel::CompletionPortModel() : CompletionPortModel(Options{}) {}

CompletionPortModel::CompletionPortModel(Options options) : options_(options) {
    // LESSON: reference-create-port
    if (options_.processors == 0) throw ModelError("CompletionPortModel: a machine has at least one processor");
    if (options_.nanoseconds_per_action < 1000)
        throw ModelError("CompletionPortModel: nanoseconds_per_action must leave room for the events of one action "
                         "(at least 1000)");

    trace_.info["model"] = "reference";
    trace_.info["runtime"] = "reference model of the documented Windows rules";
    trace_.info["processors"] = std::to_string(options_.processors);
    trace_.info["concurrency"] = std::to_string(concurrency_value());
    trace_.info["concurrency_requested"] = std::to_string(options_.concurrency_value);

    // Thread 0 is the kernel's lane: the I/O system posts packets from it and it samples the queue depth.
    trace_.threads[kernel_thread] = trace::ThreadInfo{kernel_thread, 0, "kernel"};
    emit(trace::Kind::server_start, kernel_thread, 0, options_.processors, concurrency_value(), 0, __LINE__);
    emit(trace::Kind::thread_start, kernel_thread, 0, 0, 0, 0, __LINE__);

    // Rule 6: CreateIoCompletionPort(..., NumberOfConcurrentThreads = 0) means "as many as there are processors".
    if (options_.concurrency_value == 0)
        explain("the port is created with concurrency value 0, which means the number of processors: " +
                std::to_string(options_.processors) + " (rule 6)");
    else
        explain("the port is created with concurrency value " + std::to_string(options_.concurrency_value) + " on " +
                plural(options_.processors, "processor", "processors"));
}

unsigned CompletionPortModel::concurrency_value() const {
    // LESSON: reference-concurrency-zero
    return options_.concurrency_value == 0 ? options_.processors : options_.concurrency_value;
}

ThreadIndex CompletionPortModel::add_thread(std::string name, std::string role) {
    if (name.empty()) throw ModelError("add_thread: a thread needs a name");
    if (std::any_of(name.begin(), name.end(), [](unsigned char c) { return std::isspace(c) != 0; }))
        throw ModelError("add_thread: the name '" + name + "' has a space; scenarios could not name it");
    if (std::any_of(threads_.begin(), threads_.end(), [&](const ModelThread& t) { return t.name == name; }))
        throw ModelError("add_thread: there is already a thread named " + name);
    if (threads_.size() >= 0xFFFE) throw ModelError("add_thread: too many threads");
    if (role.empty()) role = "worker";

    // LESSON: reference-add-thread
    // A new thread is not associated with the port until its first GetQueuedCompletionStatus.
    const auto index = static_cast<ThreadIndex>(threads_.size() + 1);
    threads_.push_back(ModelThread{index, name, role, ThreadState::not_associated, 0});
    trace_.threads[index] = trace::ThreadInfo{index, 0, role};
    emit(trace::Kind::thread_start, index, 0, 0, 0, 0, __LINE__);
    return index;
}

// ---- explaining and recording -----------------------------------------------------------------------------------

// Each action and decision happens at its own simulated instant, so a timeline spaces them evenly.
void CompletionPortModel::begin_action() {
    clock_ns_ += options_.nanoseconds_per_action;
    events_in_action_ = 0;
}

void CompletionPortModel::emit(trace::Kind kind, ThreadIndex thread, std::uint8_t detail, std::int64_t arg0,
                               std::uint32_t arg1, std::uint32_t connection, int source_line) {
    trace::Event event{};
    // 1 ns apart inside an action: the order of events is the order they happened, even after a sort by time.
    event.time_ns = clock_ns_ + events_in_action_++;
    event.arg0 = arg0;
    event.arg1 = arg1;
    event.connection = connection;
    event.thread = thread;
    event.site = site_for_line(source_line, kind);
    event.kind = kind;
    event.detail = detail;
    trace_.events.push_back(event);
}

std::uint16_t CompletionPortModel::site_for_line(int source_line, trace::Kind kind) {
    auto found = site_by_line_.find(source_line);
    if (found != site_by_line_.end()) return found->second;
    const auto id = static_cast<std::uint16_t>(site_by_line_.size() + 1);  // 0 stays "no site"
    site_by_line_[source_line] = id;
    trace_.sites[id] = trace::SiteInfo{id, static_cast<std::uint32_t>(source_line), this_file, kind_label(kind)};
    return id;
}

void CompletionPortModel::explain(std::string text) {
    explanations_.push_back(Explanation{clock_ns_, std::move(text)});
}

// "w3, w2, w1": the waiters stack from the top (the next released) down, or "none".
std::string CompletionPortModel::describe_waiters() const {
    if (waiters_.empty()) return "none";
    std::string text;
    for (auto it = waiters_.rbegin(); it != waiters_.rend(); ++it) {
        if (!text.empty()) text += ", ";
        text += thread(*it).name;
    }
    return text;
}

// "packets 1, 2": the queue from the oldest (the next dequeued), or "no packet".
std::string CompletionPortModel::describe_queue() const {
    if (queue_.empty()) return "no packet";
    std::string text;
    for (const Packet& packet : queue_) {
        if (!text.empty()) text += ", ";
        text += std::to_string(packet.id);
    }
    return (queue_.size() == 1 ? "packet " : "packets ") + text;
}

ModelThread& CompletionPortModel::mutable_thread(ThreadIndex index, std::string_view action) {
    if (index == kernel_thread || index > threads_.size())
        throw ModelError(std::string(action) + ": there is no thread with index " + std::to_string(index));
    return threads_[index - 1];
}

// The thread takes the oldest packet and runs with it. Shared by rule 5 (taking a packet at once) and the
// kernel releasing a waiter, so both report a packet the same way a live server does.
void CompletionPortModel::hand_packet_to(ModelThread& thread, int source_line) {
    // LESSON: reference-fifo-dequeue
    // Rule 1: whoever gets a packet gets the oldest one.
    const Packet packet = queue_.front();
    queue_.pop_front();
    thread.state = ThreadState::running;
    thread.packet_in_hand = packet.id;
    emit(trace::Kind::wait_end, thread.index, static_cast<std::uint8_t>(trace::Wake::completion), packet.bytes, 0,
         packet.connection, source_line);
    emit(trace::Kind::packet_dequeued, thread.index, 0, options_.port_index, packet.id, packet.connection, __LINE__);
    emit(trace::Kind::queue_depth, kernel_thread, 0, options_.port_index, static_cast<std::uint32_t>(queue_.size()), 0,
         __LINE__);
}

// ---- threads call the port -----------------------------------------------------------------------------------

PacketId CompletionPortModel::thread_calls_get_queued_completion_status(ThreadIndex index) {
    ModelThread& thread = mutable_thread(index, "GetQueuedCompletionStatus");
    switch (thread.state) {
    case ThreadState::waiting:
        throw ModelError("GetQueuedCompletionStatus: " + thread.name + " is already waiting on the port");
    case ThreadState::blocked:
        throw ModelError("GetQueuedCompletionStatus: " + thread.name +
                         " is blocked for another reason; it must unblock before it can call anything");
    case ThreadState::exited: throw ModelError("GetQueuedCompletionStatus: " + thread.name + " has exited");
    case ThreadState::not_associated:
    case ThreadState::running: break;
    }
    begin_action();

    std::string who = thread.name;
    if (thread.state == ThreadState::not_associated)
        who += " calls GetQueuedCompletionStatus for the first time (now associated with the port)";
    else if (thread.packet_in_hand != 0)
        who += " is done with packet " + std::to_string(thread.packet_in_hand) +
               " and calls GetQueuedCompletionStatus again";
    else
        who += " calls GetQueuedCompletionStatus again";

    // LESSON: reference-returns-to-port
    // Calling the port ends the thread's turn as a running thread: it is not counted while the kernel looks at the
    // queue on its behalf, so a thread coming back never counts twice.
    thread.state = ThreadState::waiting;
    thread.packet_in_hand = 0;
    emit(trace::Kind::wait_begin, index, static_cast<std::uint8_t>(trace::WaitOn::completion_port), options_.port_index,
         0, 0, __LINE__);
    const unsigned running_without_it = running_count();

    // Rule 5: a packet is queued and the port has room for one more running thread: take it without blocking.
    // (Rule 4's limit still applies: if a resumed thread pushed the count to the value, this thread waits.)
    if (!queue_.empty() && running_without_it < concurrency_value()) {
        const PacketId taken = queue_.front().id;
        hand_packet_to(thread, __LINE__);
        explain(who + ": packet " + std::to_string(taken) + " is queued and " +
                plural(running_without_it, "other thread runs", "other threads run") + " < concurrency " +
                std::to_string(concurrency_value()) + ", so it takes packet " + std::to_string(taken) +
                " at once without blocking (rule 5: no context switch)");
        return taken;
    }

    // Otherwise it waits, on top of the stack: it will be the first released (rule 2).
    waiters_.push_back(index);
    const std::string limit = "concurrency " + std::to_string(concurrency_value());
    std::string why;
    if (queue_.empty())
        why = "no packet is queued";
    else if (running_without_it == concurrency_value())
        why = "packet " + std::to_string(queue_.front().id) + " is queued but " +
              plural(running_without_it, "other thread runs", "other threads run") + " = " + limit + " (rule 3)";
    else
        why = "packet " + std::to_string(queue_.front().id) + " is queued but " +
              plural(running_without_it, "other thread runs", "other threads run") + " > " + limit +
              " (rule 4: no new running thread until fewer run)";
    explain(who + ": " + why + ", so it waits on top of the stack (rule 2); stack from the top: " +
            describe_waiters());
    return 0;
}

PacketId CompletionPortModel::thread_finishes_packet(ThreadIndex index) {
    const ModelThread& thread = mutable_thread(index, "done");
    if (thread.state != ThreadState::running)
        throw ModelError("done: " + thread.name + " is " + std::string(to_string(thread.state)) +
                         "; only a running thread can finish a packet and go back to the port");
    return thread_calls_get_queued_completion_status(index);
}

// ---- packets -------------------------------------------------------------------------------------------------

PacketId CompletionPortModel::post_packet(std::uint32_t bytes, std::uint32_t connection) {
    begin_action();
    // LESSON: reference-fifo-queue
    // Rule 1: a new packet joins the back of the queue, behind every packet posted before it.
    const Packet packet{next_packet_id_++, bytes, connection};
    const std::string where = queue_.empty() ? std::string("joins an empty queue")
                                             : "joins the back of the queue, behind " + describe_queue();
    queue_.push_back(packet);
    emit(trace::Kind::packet_posted, kernel_thread, 0, options_.port_index, packet.id, connection, __LINE__);
    emit(trace::Kind::queue_depth, kernel_thread, 0, options_.port_index, static_cast<std::uint32_t>(queue_.size()), 0,
         __LINE__);
    explain("packet " + std::to_string(packet.id) + " (" + std::to_string(bytes) + " bytes) " + where +
            " (rule 1: FIFO)" + (decision_pending() ? "; the kernel can release a waiter for it (step)" : ""));
    return packet.id;
}

// ---- blocking for another reason ---------------------------------------------------------------------------------

void CompletionPortModel::thread_blocks(ThreadIndex index, std::uint32_t milliseconds) {
    ModelThread& thread = mutable_thread(index, "block");
    if (thread.state != ThreadState::running)
        throw ModelError("block: " + thread.name + " is " + std::string(to_string(thread.state)) +
                         "; only a running thread can block for another reason");
    begin_action();
    // LESSON: reference-block
    // Rule 4: a thread blocked outside the port is not runnable, so the port stops counting it.
    thread.state = ThreadState::blocked;
    emit(trace::Kind::block_begin, index, 0, milliseconds, 0, 0, __LINE__);
    explain(thread.name + " blocks for another reason" +
            (milliseconds != 0 ? " (Sleep " + std::to_string(milliseconds) + " ms)" : std::string()) +
            ": it no longer counts as running, now " + std::to_string(running_count()) + " running (rule 4)" +
            (decision_pending() ? "; a waiter can be released in its place (step)" : ""));
}

void CompletionPortModel::thread_unblocks(ThreadIndex index) {
    ModelThread& thread = mutable_thread(index, "unblock");
    if (thread.state != ThreadState::blocked)
        throw ModelError("unblock: " + thread.name + " is " + std::string(to_string(thread.state)) + ", not blocked");
    begin_action();
    // LESSON: reference-unblock
    // Rule 4: the thread resumes whatever the count is; the port cannot stop a thread that is already past it.
    thread.state = ThreadState::running;
    emit(trace::Kind::block_end, index, 0, 0, 0, 0, __LINE__);
    const unsigned running = running_count();
    std::string text = thread.name + "'s blocking call returns: it counts as running again, now " +
                       std::to_string(running) + " running";
    if (running > concurrency_value())
        text += " > concurrency " + std::to_string(concurrency_value()) +
                " (rule 4: a brief excess; no waiter is released until fewer than " +
                std::to_string(concurrency_value()) + " run)";
    explain(text);
}

void CompletionPortModel::thread_exits(ThreadIndex index) {
    ModelThread& thread = mutable_thread(index, "exit");
    if (thread.state == ThreadState::exited) throw ModelError("exit: " + thread.name + " has already exited");
    begin_action();
    // LESSON: reference-exit
    const bool was_waiting = thread.state == ThreadState::waiting;
    if (was_waiting) {
        // A waiter that ends leaves the stack; its wait ends without a packet.
        waiters_.erase(std::find(waiters_.begin(), waiters_.end(), index));
        emit(trace::Kind::wait_end, index, static_cast<std::uint8_t>(trace::Wake::stop), 0, 0, 0, __LINE__);
    }
    const bool was_running = thread.state == ThreadState::running;
    thread.state = ThreadState::exited;
    thread.packet_in_hand = 0;
    emit(trace::Kind::thread_exit, index, 0, 0, 0, 0, __LINE__);
    explain(thread.name + " exits and is no longer associated with the port" +
            (was_waiting ? "; it leaves the waiters stack" : std::string()) +
            (was_running ? ", now " + std::to_string(running_count()) + " running" : std::string()) +
            (decision_pending() ? "; a waiter can be released (step)" : ""));
}

// ---- kernel decisions ------------------------------------------------------------------------------------------

bool CompletionPortModel::decision_pending() const {
    // LESSON: reference-concurrency-check
    // Rule 3: a packet goes to a waiter only while fewer threads run than the concurrency value.
    return !queue_.empty() && !waiters_.empty() && running_count() < concurrency_value();
}

std::string CompletionPortModel::why_no_release() const {
    if (queue_.empty())
        return waiters_.empty() ? "nothing to decide: no packet is queued and no thread waits"
                                : "nothing to decide: no packet is queued; waiting, from the top: " +
                                      describe_waiters();
    const std::string packet = "packet " + std::to_string(queue_.front().id) + " stays queued: ";
    if (waiters_.empty())
        return packet + "no thread waits on the port (the next thread to call GetQueuedCompletionStatus takes it)";
    const unsigned running = running_count();
    const std::string limit = "concurrency " + std::to_string(concurrency_value());
    if (running == concurrency_value())
        return packet + std::to_string(running) + " running = " + limit +
               " (rule 3); it waits for a running thread to come back to the port or block";
    return packet + std::to_string(running) + " running > " + limit +
           " (rule 4: a blocked thread resumed; no new thread runs until fewer than " +
           std::to_string(concurrency_value()) + " run)";
}

Decision CompletionPortModel::step() {
    if (!decision_pending()) {
        last_decision_ = Decision{false, 0, 0, why_no_release()};
        explain(last_decision_.explanation);
        return last_decision_;
    }
    begin_action();
    const unsigned running_before = running_count();

    // LESSON: reference-lifo-release
    // Rule 2: the most recent waiter (the top of the stack) is released, with the oldest packet (rule 1).
    const ThreadIndex chosen = waiters_.back();
    waiters_.pop_back();
    const std::string still_waiting = waiters_.empty() ? std::string("no other waiter") : describe_waiters();
    const Packet packet = queue_.front();
    ModelThread& thread = mutable_thread(chosen, "step");
    emit(trace::Kind::thread_wake, chosen, 0, options_.port_index, 0, packet.connection, __LINE__);
    hand_packet_to(thread, __LINE__);

    last_decision_ = Decision{
        true, chosen, packet.id,
        "released " + thread.name + " with packet " + std::to_string(packet.id) + " (" + std::to_string(packet.bytes) +
            " bytes): " + thread.name + " is the most recent waiter, on top of " +
            still_waiting + " (rule 2: LIFO); packet " +
            std::to_string(packet.id) + " is the oldest queued (rule 1: FIFO); " +
            std::to_string(running_before) + " running < concurrency " + std::to_string(concurrency_value()) +
            " (rule 3), now " + std::to_string(running_before + 1) + " running"};
    explain(last_decision_.explanation);
    return last_decision_;
}

std::vector<Decision> CompletionPortModel::settle() {
    std::vector<Decision> taken;
    while (decision_pending()) taken.push_back(step());
    if (taken.empty())
        step();  // records and explains why there was nothing to do
    else if (!queue_.empty())
        explain(why_no_release());  // why the packets left over stay queued
    return taken;
}

// ---- queries ---------------------------------------------------------------------------------------------------

unsigned CompletionPortModel::running_count() const {
    // Counted from the states rather than kept in a variable, so it can never drift from them.
    return static_cast<unsigned>(std::count_if(threads_.begin(), threads_.end(), [](const ModelThread& thread) {
        return thread.state == ThreadState::running;
    }));
}

std::vector<ThreadIndex> CompletionPortModel::waiters_most_recent_first() const {
    return std::vector<ThreadIndex>(waiters_.rbegin(), waiters_.rend());
}

const ModelThread& CompletionPortModel::thread(ThreadIndex index) const {
    if (index == kernel_thread || index > threads_.size())
        throw ModelError("there is no thread with index " + std::to_string(index));
    return threads_[index - 1];
}

ThreadIndex CompletionPortModel::thread_named(std::string_view name) const {
    for (const ModelThread& thread : threads_)
        if (thread.name == name) return thread.index;
    throw ModelError("there is no thread named " + std::string(name));
}

}  // namespace socklab::kernel_queue
