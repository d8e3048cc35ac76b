// common/kernel_queue/scenario.h — a small text form that drives the completion-port model, for lessons.
//
// A lesson describes what happens to the port in plain lines (in a Markdown code block, say), and the same
// text runs in the visualizer (one line at a time, Next / Previous) and in the terminal (every line, with the
// `expect` lines as the step's checks). One line is one command; words are separated by spaces; `#` starts a
// comment that runs to the end of the line; blank lines are ignored.
//
// ---- Setting up (before any other line) -------------------------------------------------------------------
//   processors N            the machine's processor count (default 2)
//   concurrency N           NumberOfConcurrentThreads given to CreateIoCompletionPort (default 0 = processors)
// ---- Threads ----------------------------------------------------------------------------------------------------
//   threads N               adds N workers named w1, w2, ... (continuing after any added before)
//   thread NAME [ROLE]      adds one thread with that name (role "worker" unless given)
// ---- Actions: what threads and the I/O system do; each takes effect at once, the kernel's decision included --
//   wait NAME... [count=N]  each thread calls GetQueuedCompletionStatus, in the order given (so `wait w1 w2 w3`
//                           leaves w3 on top of the stack). A thread coming back while a packet is queued and
//                           the port has room takes it at once. With count=N they call
//                           GetQueuedCompletionStatusEx with ulCount N: up to N packets for one thread.
//   done NAME... [count=N]  each running thread finishes its packets and calls the port again (the same way)
//   post [COUNT] [bytes=N] [connection=N]
//                           COUNT packets (default 1) join the back of the queue: I/O completions or
//                           PostQueuedCompletionStatus. Packets are numbered 1, 2, 3, ... in posting order. The
//                           kernel releases the most recent waiter for each at once, if the concurrency value
//                           allows.
//   block NAME [MS]         a running thread blocks for another reason (Sleep MS milliseconds in a handler); a
//                           waiter is released in its place at once if a packet is queued
//   unblock NAME            its blocking call returns; it counts as running again
//   timeout NAME...         each waiting thread's wait times out: FALSE, WAIT_TIMEOUT, no packet; it runs again
//   exit NAME               the thread ends. Refused for a thread inside a call (waiting, or blocked): it runs
//                           no code until the call returns
//   close                   CloseHandle on the port: every waiter returns FALSE with ERROR_ABANDONED_WAIT_0;
//                           afterwards wait, done and post are refused
// There is no `step`: the kernel never leaves a decision for later (completion_port_model.h explains why). To
// let a class guess who wakes, pause before the action line; the visualizer plays one line at a time.
// ---- Checks: recorded as failures, never stop the scenario ------------------------------------------------------
//   expect running N                    threads counted as running
//   expect concurrency N                the concurrency value in force (0 already replaced by processors)
//   expect queued N                     packets in the queue
//   expect queue ID... | expect queue empty         the queue, oldest packet first
//   expect waiters NAME... | expect waiters none    the waiters stack, most recent (next released) first
//   expect state NAME STATE             not-associated | waiting | running | blocked | exited
//   expect holding NAME ID... | expect holding NAME none   the packets NAME took and has not finished
//   expect released NAME... | expect released none  whom the kernel released during the most recent action
//                                       line, in order (a thread that took a packet at once is not released)
//   expect error NAME WAIT_TIMEOUT|ERROR_ABANDONED_WAIT_0|none   what GetLastError says after NAME's last wait
//
// An example, the LIFO lesson:
//
//   concurrency 2
//   threads 4
//   wait w1 w2 w3 w4        # w4 waited last: it is on top of the stack
//   post                    # packet 1: "the kernel releases w4 at once with packet 1: w4 is the most recent ..."
//   expect released w4
//   expect waiters w3 w2 w1
//
// A line that is malformed, or an action the rules do not allow (blocking a waiting thread), stops the run:
// the result says which line and why, and keeps everything that happened before it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/kernel_queue/completion_port_model.h"

namespace socklab::kernel_queue {

struct ScenarioLine {
    int number = 0;    // from 1, as an editor counts
    std::string text;  // the line as written, comment included
};

// What one line did: the sentences the model added while applying it (empty for `expect` and setup lines),
// and for an `expect` line whether it was met, so a lesson panel can show each check as met or not.
struct ScenarioLineOutcome {
    ScenarioLine line;
    std::vector<std::string> explanations;
    bool is_expectation = false;
    bool expectation_met = false;  // meaningful when is_expectation
};

struct ExpectationFailure {
    ScenarioLine line;
    std::string message;  // "expected waiters w3 w2 w1, found w2 w1"
};

struct ScenarioRun {
    CompletionPortModel model;  // as the last applied line left it; its trace() is what the visualizer shows
    std::vector<ScenarioLineOutcome> lines;  // every applied line that is not blank or only a comment
    std::vector<ExpectationFailure> failed_expectations;
    std::string error;  // "line 7: block w2: w2 is waiting; only a running thread can block ..." or ""

    bool stopped_by_error() const { return !error.empty(); }
    // Every line applied and every expectation met.
    bool passed() const { return error.empty() && failed_expectations.empty(); }
};

// Plays a scenario one line at a time: for the visualizer's Next, or a terminal that pauses between lines.
class ScenarioPlayer {
public:
    explicit ScenarioPlayer(std::string_view text);

    // True when every line has been applied, or a line stopped the run.
    bool finished() const;
    // The next line that does something (blank and comment-only lines are skipped), or nullptr when finished.
    const ScenarioLine* next_line() const;
    // Applies the next line that does something. Returns false when there was none or the line stopped the run.
    bool play_next_line();
    void play_to_end();

    const ScenarioRun& run() const { return run_; }

private:
    void skip_lines_without_commands();
    void apply(const ScenarioLine& line, const std::vector<std::string>& words);
    void apply_setup(const std::vector<std::string>& words);
    void apply_expectation(const ScenarioLine& line, const std::vector<std::string>& words);
    void start_model_if_needed();

    std::vector<ScenarioLine> lines_;
    std::size_t next_ = 0;
    bool model_started_ = false;
    std::vector<std::string> released_by_last_action_;  // names, in release order; what `expect released` checks
    unsigned next_worker_number_ = 1;
    CompletionPortModel::Options options_;
    ScenarioRun run_;
};

// Plays the whole text. The usual call for a lesson check: run_scenario(text).passed().
ScenarioRun run_scenario(std::string_view text);

// The words of a line, its comment removed: "wait w1 w2  # why" -> {"wait", "w1", "w2"}.
std::vector<std::string> scenario_words(std::string_view line);

}  // namespace socklab::kernel_queue
