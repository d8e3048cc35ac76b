// common/kernel_queue/completion_port_model.cpp — the documented completion-port rules, one action at a time.
//
// The rules and the events are described in completion_port_model.h. This file is short on purpose: each rule
// is applied in exactly one place, marked with a LESSON anchor so lessons can quote it, and each trace event
// names the line that emitted it, so the visualizer's source panel lands on the rule being applied.
//
// Sections: setup · explaining · threads call the port · packets · blocking · leaving · the kernel's decision ·
// queries
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
        case trace::Kind::server_start:
            return "server_start";
        case trace::Kind::thread_start:
            return "thread_start";
        case trace::Kind::thread_exit:
            return "thread_exit";
        case trace::Kind::wait_begin:
            return "wait_begin";
        case trace::Kind::wait_end:
            return "wait_end";
        case trace::Kind::packet_posted:
            return "packet_posted";
        case trace::Kind::packet_dequeued:
            return "packet_dequeued";
        case trace::Kind::queue_depth:
            return "queue_depth";
        case trace::Kind::block_begin:
            return "block_begin";
        case trace::Kind::block_end:
            return "block_end";
        case trace::Kind::thread_wake:
            return "thread_wake";
        default:
            return "event";
    }
}

std::string plural(unsigned count, const char* one, const char* many) {
    return std::to_string(count) + " " + (count == 1 ? one : many);
}

// "packet 3" or "packets 3, 4".
std::string describe_packets(const std::vector<PacketId>& ids) {
    std::string text;
    for (PacketId id : ids) text += (text.empty() ? "" : ", ") + std::to_string(id);
    return (ids.size() == 1 ? "packet " : "packets ") + text;
}

}  // namespace

std::string_view to_string(ThreadState state) {
    switch (state) {
        case ThreadState::not_associated:
            return "not-associated";
        case ThreadState::waiting:
            return "waiting";
        case ThreadState::running:
            return "running";
        case ThreadState::blocked:
            return "blocked";
        case ThreadState::exited:
            return "exited";
    }
    return "unknown";
}

// ---- setup ---------------------------------------------------------------------------------------------------

CompletionPortModel::CompletionPortModel() : CompletionPortModel(Options{}) {}

CompletionPortModel::CompletionPortModel(Options options) : options_(options) {
    // LESSON: reference-create-port
    if (options_.processors == 0) throw ModelError("CompletionPortModel: a machine has at least one processor");
    if (options_.nanoseconds_per_action < 1000)
        throw ModelError(
            "CompletionPortModel: nanoseconds_per_action must leave room for the events of one action "
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
    ModelThread thread;
    thread.index = index;
    thread.name = name;
    thread.role = role;
    threads_.push_back(std::move(thread));
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
    std::vector<PacketId> ids;
    for (const Packet& packet : queue_) ids.push_back(packet.id);
    return describe_packets(ids);
}

ModelThread& CompletionPortModel::mutable_thread(ThreadIndex index, std::string_view action) {
    if (index == kernel_thread || index > threads_.size())
        throw ModelError(std::string(action) + ": there is no thread with index " + std::to_string(index));
    return threads_[index - 1];
}

void CompletionPortModel::refuse_if_port_closed(std::string_view action) const {
    if (port_closed_)
        throw ModelError(std::string(action) +
                         ": the port's handle is closed; the call fails with ERROR_INVALID_HANDLE (rule 9)");
}

// The thread takes the oldest packets and runs with them. Shared by rule 5 (taking packets at once) and the
// kernel releasing a waiter, so both report packets the same way a live server does.
std::vector<PacketId> CompletionPortModel::hand_packets_to(ModelThread& thread, int source_line) {
    // LESSON: reference-batch
    // Rule 7: GetQueuedCompletionStatusEx takes up to ulCount queued packets, all for this one thread;
    // GetQueuedCompletionStatus takes one.
    const std::size_t count = std::min<std::size_t>(thread.max_entries, queue_.size());
    const Packet& first = queue_.front();
    thread.state = ThreadState::running;
    thread.last_error = 0;
    thread.packets_in_hand.clear();
    emit(trace::Kind::wait_end, thread.index, static_cast<std::uint8_t>(trace::Wake::completion),
         thread.in_ex_call ? static_cast<std::int64_t>(count) : first.bytes, 0, first.connection, source_line);
    for (std::size_t taken = 0; taken < count; ++taken) {
        // LESSON: reference-fifo-dequeue
        // Rule 1: whoever gets a packet gets the oldest one (FIFO, the one order documented; see rule 1's hedge).
        const Packet packet = queue_.front();
        queue_.pop_front();
        thread.packets_in_hand.push_back(packet.id);
        emit(trace::Kind::packet_dequeued, thread.index, 0, options_.port_index, packet.id, packet.connection,
             __LINE__);
        emit(trace::Kind::queue_depth, kernel_thread, 0, options_.port_index, static_cast<std::uint32_t>(queue_.size()),
             0, __LINE__);
    }
    return thread.packets_in_hand;
}

// ---- threads call the port -----------------------------------------------------------------------------------

std::vector<PacketId> CompletionPortModel::call_port(ThreadIndex index, unsigned max_entries, bool ex_call) {
    const std::string api = ex_call ? "GetQueuedCompletionStatusEx" : "GetQueuedCompletionStatus";
    ModelThread& thread = mutable_thread(index, api);
    switch (thread.state) {
        case ThreadState::waiting:
            throw ModelError(api + ": " + thread.name + " is already waiting on the port");
        case ThreadState::blocked:
            throw ModelError(api + ": " + thread.name +
                             " is blocked for another reason; it must unblock before it can call anything");
        case ThreadState::exited:
            throw ModelError(api + ": " + thread.name + " has exited");
        case ThreadState::not_associated:
        case ThreadState::running:
            break;
    }
    refuse_if_port_closed(api);
    if (max_entries == 0) throw ModelError(api + ": ulCount must be at least 1");
    begin_action();

    std::string who = thread.name;
    if (thread.state == ThreadState::not_associated)
        who += " calls " + api + " for the first time (now associated with the port)";
    else if (!thread.packets_in_hand.empty())
        who += " is done with " + describe_packets(thread.packets_in_hand) + " and calls " + api + " again";
    else who += " calls " + api + " again";
    if (ex_call) who += " for up to " + std::to_string(max_entries) + " packets";

    // LESSON: reference-returns-to-port
    // Calling the port ends the thread's turn as a running thread: it is not counted while the kernel looks at the
    // queue on its behalf, so a thread coming back never counts twice.
    thread.state = ThreadState::waiting;
    thread.packets_in_hand.clear();
    thread.last_error = 0;
    thread.max_entries = max_entries;
    thread.in_ex_call = ex_call;
    emit(trace::Kind::wait_begin, index, static_cast<std::uint8_t>(trace::WaitOn::completion_port), options_.port_index,
         0, 0, __LINE__);
    const unsigned running_without_it = running_count();

    // Rule 5: a packet is queued and the port has room for one more running thread: take it without blocking.
    // (Rule 4's limit still applies: if a resumed thread pushed the count to the value, this thread waits.)
    if (!queue_.empty() && running_without_it < concurrency_value()) {
        const std::vector<PacketId> taken = hand_packets_to(thread, __LINE__);
        explain(who + ": " + describe_packets(taken) + (taken.size() == 1 ? " is" : " are") + " queued and " +
                plural(running_without_it, "other thread runs", "other threads run") + " < concurrency " +
                std::to_string(concurrency_value()) + ", so it takes " + (taken.size() == 1 ? "it" : "them") +
                " at once without blocking (rule 5: no context switch" +
                (taken.size() > 1 ? "; rule 7: several packets for one thread)" : ")"));
        return taken;
    }

    // Otherwise it waits, on top of the stack: it will be the first released (rule 2).
    waiters_.push_back(index);
    const std::string limit = "concurrency " + std::to_string(concurrency_value());
    std::string why;
    if (queue_.empty()) why = "no packet is queued";
    else if (running_without_it == concurrency_value())
        why = "packet " + std::to_string(queue_.front().id) + " is queued but " +
              plural(running_without_it, "other thread runs", "other threads run") + " = " + limit + " (rule 3)";
    else
        why = "packet " + std::to_string(queue_.front().id) + " is queued but " +
              plural(running_without_it, "other thread runs", "other threads run") + " > " + limit +
              " (rule 4: no new running thread until fewer run)";
    explain(who + ": " + why + ", so it waits on top of the stack (rule 2); stack from the top: " + describe_waiters());
    return {};
}

PacketId CompletionPortModel::thread_calls_get_queued_completion_status(ThreadIndex index) {
    const std::vector<PacketId> taken = call_port(index, 1, false);
    return taken.empty() ? 0 : taken.front();
}

std::vector<PacketId> CompletionPortModel::thread_calls_get_queued_completion_status_ex(ThreadIndex index,
                                                                                        unsigned max_entries) {
    return call_port(index, max_entries, true);
}

namespace {

void require_running_to_finish(const ModelThread& thread) {
    if (thread.state != ThreadState::running)
        throw ModelError("done: " + thread.name + " is " + std::string(to_string(thread.state)) +
                         "; only a running thread can finish a packet and go back to the port");
}

}  // namespace

PacketId CompletionPortModel::thread_finishes_packet(ThreadIndex index) {
    require_running_to_finish(mutable_thread(index, "done"));
    return thread_calls_get_queued_completion_status(index);
}

std::vector<PacketId> CompletionPortModel::thread_finishes_packets_ex(ThreadIndex index, unsigned max_entries) {
    require_running_to_finish(mutable_thread(index, "done"));
    return thread_calls_get_queued_completion_status_ex(index, max_entries);
}

// Rule 8: the wait's dwMilliseconds elapsed with no packet for this thread.
void CompletionPortModel::thread_wait_times_out(ThreadIndex index) {
    ModelThread& thread = mutable_thread(index, "timeout");
    if (thread.state != ThreadState::waiting)
        throw ModelError("timeout: " + thread.name + " is " + std::string(to_string(thread.state)) +
                         "; only a thread waiting on the port can time out");
    begin_action();
    // LESSON: reference-timeout
    // Rule 8: the call returns FALSE with no packet (GetLastError: WAIT_TIMEOUT). The thread leaves the stack and
    // runs its own code again, so it counts as running: the port cannot hold back a thread that is past it.
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), index));
    thread.state = ThreadState::running;
    thread.last_error = wait_timeout_error;
    emit(trace::Kind::wait_end, index, static_cast<std::uint8_t>(trace::Wake::timeout), 0, wait_timeout_error, 0,
         __LINE__);
    // A waiter exists only while no packet could be released (the kernel releases at once), so no packet is
    // lost here: the queue is empty, or the port is at its concurrency value.
    const unsigned running = running_count();
    explain(thread.name +
            "'s wait times out: " + (thread.in_ex_call ? "GetQueuedCompletionStatusEx" : "GetQueuedCompletionStatus") +
            " returns FALSE without a packet, GetLastError WAIT_TIMEOUT (rule 8); it leaves the stack and runs, now " +
            std::to_string(running) + " running" +
            (running > concurrency_value() ? " > concurrency " + std::to_string(concurrency_value()) : std::string()));
}

// ---- packets -------------------------------------------------------------------------------------------------

PacketId CompletionPortModel::post_packet(std::uint32_t bytes, std::uint32_t connection) {
    refuse_if_port_closed("post");
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
            " (rule 1: FIFO)");
    // Rule 3: "When a completion packet is queued ..., the system first checks how many threads ... are running":
    // the kernel decides now, inside the post, not at some later moment.
    release_waiters_now();
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
    // Rule 4: a thread blocked outside the port is not runnable, so the port stops counting it, and a waiter may
    // take its place at once ("if another running thread ... enters a wait state for other reasons").
    thread.state = ThreadState::blocked;
    emit(trace::Kind::block_begin, index, 0, milliseconds, 0, 0, __LINE__);
    explain(thread.name + " blocks for another reason" +
            (milliseconds != 0 ? " (Sleep " + std::to_string(milliseconds) + " ms)" : std::string()) +
            ": it no longer counts as running, now " + std::to_string(running_count()) + " running (rule 4)");
    release_waiters_now();
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

// ---- leaving: a thread exits, the port is closed -------------------------------------------------------------------

void CompletionPortModel::thread_exits(ThreadIndex index) {
    ModelThread& thread = mutable_thread(index, "exit");
    // LESSON: reference-exit
    // Rule 10: only a thread that runs its own code can end itself. A thread inside GetQueuedCompletionStatus (or
    // blocked in another call) must first return from it: with a packet, a time-out, or the port's closing.
    switch (thread.state) {
        case ThreadState::exited:
            throw ModelError("exit: " + thread.name + " has already exited");
        case ThreadState::waiting:
            throw ModelError("exit: " + thread.name +
                             " is waiting inside GetQueuedCompletionStatus and runs no code until the call returns "
                             "(rule 10); it returns with a packet (post), when its wait times out (timeout " +
                             thread.name + ") or when the port is closed (close)");
        case ThreadState::blocked:
            throw ModelError("exit: " + thread.name +
                             " is blocked in another call and runs no code until it returns (rule 10); unblock " +
                             thread.name + " first");
        case ThreadState::not_associated:
        case ThreadState::running:
            break;
    }
    begin_action();
    const bool was_running = thread.state == ThreadState::running;
    thread.state = ThreadState::exited;
    thread.packets_in_hand.clear();
    emit(trace::Kind::thread_exit, index, 0, 0, 0, 0, __LINE__);
    explain(thread.name + " exits and is no longer associated with the port" +
            (was_running ? ", now " + std::to_string(running_count()) + " running" : std::string()));
    // A running thread that ends makes room under the value, like one that blocks: the kernel may release a
    // waiter now ("the running thread never gets put in a wait state by some other mechanism, terminates, ...").
    if (was_running) release_waiters_now();
}

void CompletionPortModel::close_port() {
    refuse_if_port_closed("close");
    begin_action();
    const std::string were_waiting = describe_waiters();
    // LESSON: reference-close-port
    // Rule 9: CloseHandle on the port ends every wait on it, the top of the stack first: each call returns FALSE
    // with no packet, GetLastError ERROR_ABANDONED_WAIT_0, and its thread runs again.
    while (!waiters_.empty()) {
        ModelThread& thread = mutable_thread(waiters_.back(), "close");
        waiters_.pop_back();
        thread.state = ThreadState::running;
        thread.last_error = abandoned_wait_error;
        emit(trace::Kind::wait_end, thread.index, static_cast<std::uint8_t>(trace::Wake::error), 0,
             abandoned_wait_error, 0, __LINE__);
    }
    port_closed_ = true;
    std::string text = "the port's handle is closed (rule 9): ";
    text += were_waiting == "none" ? std::string("no thread was waiting on it")
                                   : "the waits of " + were_waiting +
                                         " return FALSE with ERROR_ABANDONED_WAIT_0, and those threads run again";
    if (!queue_.empty()) text += "; " + describe_queue() + " will never be dequeued";
    explain(text + "; calling or posting to the port now fails");
}

// ---- the kernel's decision ------------------------------------------------------------------------------------

// Called by the actions that can make a release possible (a post; a running thread blocking or exiting), inside
// the action, so the decision happens at the kernel's moment. Explains each release, and why any packet left
// stays queued.
void CompletionPortModel::release_waiters_now() {
    // LESSON: reference-concurrency-check
    // Rule 3: a packet goes to a waiter only while fewer threads run than the concurrency value.
    while (!queue_.empty() && !waiters_.empty() && running_count() < concurrency_value()) {
        const unsigned running_before = running_count();
        // LESSON: reference-lifo-release
        // Rule 2: the most recent waiter (the top of the stack) is released, with the oldest packet (rule 1).
        const ThreadIndex chosen = waiters_.back();
        waiters_.pop_back();
        const std::string still_waiting = waiters_.empty() ? std::string("no other waiter") : describe_waiters();
        ModelThread& thread = mutable_thread(chosen, "release");
        emit(trace::Kind::thread_wake, chosen, 0, options_.port_index, 0, queue_.front().connection, __LINE__);
        const std::vector<PacketId> packets = hand_packets_to(thread, __LINE__);

        Release release{
            chosen, packets,
            "the kernel releases " + thread.name + " at once with " + describe_packets(packets) + ": " + thread.name +
                " is the most recent waiter, on top of " + still_waiting + " (rule 2: LIFO); " +
                describe_packets(packets) + (packets.size() == 1 ? " is the oldest queued" : " are the oldest queued") +
                " (rule 1: FIFO)" +
                (packets.size() > 1 ? ", all for this one GetQueuedCompletionStatusEx (rule 7)" : "") + "; " +
                std::to_string(running_before) + " running < concurrency " + std::to_string(concurrency_value()) +
                " (rule 3), now " + std::to_string(running_before + 1) + " running"};
        explain(release.explanation);
        releases_.push_back(std::move(release));
    }
    if (!queue_.empty()) explain(why_no_release());
}

std::string CompletionPortModel::why_no_release() const {
    const std::string packet = "packet " + std::to_string(queue_.front().id) + " stays queued: ";
    if (waiters_.empty())
        return packet + "no thread waits on the port (the next thread to call GetQueuedCompletionStatus takes it)";
    const unsigned running = running_count();
    const std::string limit = "concurrency " + std::to_string(concurrency_value());
    if (running == concurrency_value())
        return packet + std::to_string(running) + " running = " + limit +
               " (rule 3); it waits for a running thread to come back to the port, block or exit";
    return packet + std::to_string(running) + " running > " + limit +
           " (rule 4: a blocked thread resumed; no new thread runs until fewer than " +
           std::to_string(concurrency_value()) + " run)";
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
