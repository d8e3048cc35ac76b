// visualizer/model/lesson_run.cpp — see lesson_run.h: actions, checks and the two kinds of run.
#include "visualizer/model/lesson_run.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <fstream>
#include <thread>

#include "common/catalog/models.h"
#include "common/kernel_queue/scenario.h"
#include "common/net/socket.h"
#include "common/trace/reader.h"
#include "visualizer/model/runtime_note.h"

namespace socklab::lessons {

namespace {

constexpr int kReplyTimeoutMs = 5000;

std::string rest_of(const Command& command, std::size_t from_word) {
    std::string text;
    for (std::size_t i = from_word; i < command.words.size(); ++i) text += (text.empty() ? "" : " ") + command.words[i];
    return text;
}

bool is_number(const std::string& word) {
    if (word.empty()) return false;
    try {
        std::size_t used = 0;
        std::stod(word, &used);
        return used == word.size();
    } catch (...) {
        return false;
    }
}

bool is_operator(const std::string& word) {
    return word == ">=" || word == "<=" || word == "==" || word == ">" || word == "<";
}

bool compare(double value, const std::string& op, double target) {
    if (op == ">=") return value >= target;
    if (op == "<=") return value <= target;
    if (op == ">") return value > target;
    if (op == "<") return value < target;
    return value == target;
}

bool kind_named(const std::string& name, trace::Kind& kind) {
    for (int k = 1; k < static_cast<int>(trace::Kind::kind_count); ++k)
        if (trace::to_string(static_cast<trace::Kind>(k)) == name) {
            kind = static_cast<trace::Kind>(k);
            return true;
        }
    return false;
}

std::string format_figure(double value) {
    char text[32];
    std::snprintf(text, sizeof text, value == static_cast<long long>(value) ? "%.0f" : "%.2f", value);
    return text;
}

// ---- the documented Windows rules, held against a Windows trace ------------------------------------------
// Microsoft's "I/O Completion Ports" page: threads blocked on a port are released in LIFO order, and a waiter is
// released only while fewer threads run for the port than its concurrency value. A running worker that blocks
// in any other wait (Sleep in /work, a synchronous call) stops counting, so the port may release another waiter;
// when the blocked one comes back, more than the value run for a while.

// The LIFO share a Windows trace must reach. Not 1: a thread's wait_begin is recorded just before it enters
// GetQueuedCompletionStatus, so two workers arriving at the port together can be recorded in the other order
// than the kernel stacked them, and that wake then looks non-LIFO although the kernel kept the rule.
constexpr double kWindowsLifoShare = 0.9;

// The most workers of one port that ran at once, set against what the rules allow at that moment.
struct RunningAgainstValue {
    std::uint32_t most_running = 0;
    // Where running minus allowed was largest (the peak itself when nothing ever exceeded it):
    std::uint32_t running = 0;  // workers running then
    std::uint32_t allowed = 0;  // the concurrency value + blocked_then
    std::uint32_t blocked = 0;  // workers blocked outside the port when the last waiter before it was released
    bool exceeded() const { return running > allowed; }
};

// Replays the trace's threads against its ports. Right after the port releases a waiter, at most `concurrency`
// run; from then until the next release only a worker that was blocked at that release can raise the count (one
// that blocks later and comes back only restores it). So the rules allow `concurrency` + the workers blocked
// outside the port at the last release. "Blocked at the release" is counted generously, because the trace times
// a return from Sleep after the kernel saw it: a worker whose block ended after the released thread began its
// wait counts as still blocked then. The step gate's hold counts as a wait other than the port too: the held
// thread waits on a condition variable.
class RunningCounter {
public:
    explicit RunningCounter(std::uint32_t concurrency) : concurrency_(concurrency) {}

    // How one event changes who runs for which port.
    void take(const viz::StoredEvent& event) {
        Worker& worker = workers_[event.thread];
        switch (event.kind) {
            case trace::Kind::wait_begin:
                if (viz::waits_on_port(event.detail)) {
                    stop_running(worker);
                    worker.waiting_on = event.arg0;
                    worker.wait_began_ns = event.time_ns;
                } else {
                    block(worker);
                }
                break;
            case trace::Kind::wait_end:
                if (worker.waiting_on >= 0) released(worker, static_cast<trace::Wake>(event.detail));
                else unblock(worker, event.time_ns);  // the end of a wait other than the port
                break;
            case trace::Kind::block_begin:
            case trace::Kind::gate_hold:
                block(worker);
                break;
            case trace::Kind::block_end:
            case trace::Kind::gate_release:
                unblock(worker, event.time_ns);
                break;
            case trace::Kind::thread_exit:
                stop_running(worker);
                worker.waiting_on = worker.blocked_for = -1;
                break;
            default:
                break;
        }
    }

    const RunningAgainstValue& figures() const { return figures_; }

private:
    struct Worker {
        std::int64_t waiting_on = -1;  // the port whose wait it is in
        std::int64_t running_for = -1;
        std::int64_t blocked_for = -1;  // running for this port before it blocked elsewhere
        std::uint64_t wait_began_ns = 0;
        std::int64_t last_block_port = -1;
        std::uint64_t last_block_end_ns = 0;
    };
    struct Port {
        std::uint32_t running = 0;
        std::uint32_t blocked_at_release = 0;
    };

    // The port released this worker from its wait: a packet (or a failed I/O's) makes it run; the workers
    // blocked outside the port at that moment are what the rules let run beyond the value until the next release.
    void released(Worker& worker, trace::Wake wake) {
        const std::int64_t port_index = worker.waiting_on;
        worker.waiting_on = -1;
        if (!viz::wake_with_work(static_cast<std::uint8_t>(wake))) return;
        std::uint32_t blocked = 0;
        for (const auto& [thread, other] : workers_)
            if (other.blocked_for == port_index ||
                (other.last_block_port == port_index && other.last_block_end_ns >= worker.wait_began_ns))
                ++blocked;
        ports_[port_index].blocked_at_release = blocked;
        worker.running_for = port_index;
        start_running(port_index);
    }

    void start_running(std::int64_t port_index) {
        Port& port = ports_[port_index];
        ++port.running;
        figures_.most_running = std::max(figures_.most_running, port.running);
        const std::uint32_t allowed = concurrency_ + port.blocked_at_release;
        // The moment with the least room under the rule; of equal ones, the one where the most ran.
        const auto excess = static_cast<std::int64_t>(port.running) - allowed;
        const auto worst = static_cast<std::int64_t>(figures_.running) - figures_.allowed;
        if (!any_measured_ || excess > worst || (excess == worst && port.running > figures_.running))
            figures_.running = port.running, figures_.allowed = allowed, figures_.blocked = port.blocked_at_release;
        any_measured_ = true;
    }

    void stop_running(Worker& worker) {
        if (worker.running_for >= 0 && ports_[worker.running_for].running > 0) --ports_[worker.running_for].running;
        worker.running_for = -1;
    }

    void block(Worker& worker) {
        if (worker.running_for < 0) return;
        worker.blocked_for = worker.running_for;
        stop_running(worker);
    }

    void unblock(Worker& worker, std::uint64_t time_ns) {
        if (worker.blocked_for < 0) return;
        worker.last_block_port = worker.blocked_for;
        worker.last_block_end_ns = time_ns;
        worker.running_for = worker.blocked_for;
        worker.blocked_for = -1;
        start_running(worker.running_for);
    }

    std::uint32_t concurrency_;
    std::map<std::uint16_t, Worker> workers_;
    std::map<std::int64_t, Port> ports_;
    RunningAgainstValue figures_;
    bool any_measured_ = false;
};

RunningAgainstValue running_against_value(const viz::TraceModel& model, std::uint32_t concurrency) {
    RunningCounter counter(concurrency);
    for (const viz::StoredEvent& event : model.events()) counter.take(event);
    return counter.figures();
}

}  // namespace

// ---- syntax ----------------------------------------------------------------------------------------------------

std::string action_syntax(const Command& action) {
    const auto& w = action.words;
    const std::string& verb = w[0];
    auto whole = [&](std::size_t i) { return i < w.size() && is_number(w[i]) && w[i].find('.') == std::string::npos; };
    if (verb == "connect" || verb == "burst" || verb == "pause")
        return w.size() == 2 && whole(1) ? "" : verb + " wants one whole number: " + verb + " 4";
    if (verb == "send" || verb == "send-split" || verb == "send-joined" || verb == "all")
        return w.size() >= 2 ? "" : verb + " wants the text to send";
    if (verb == "work") return w.size() == 3 && whole(1) && whole(2) ? "" : "work wants CPU_MS BLOCK_MS: work 0 200";
    if (verb == "quit" || verb == "disconnect") return w.size() == 1 ? "" : verb + " takes nothing after it";
    return "unknown command '" + verb +
           "' (show, run, expect, or a client action: connect, send, send-split, "
           "send-joined, work, all, burst, quit, pause, disconnect)";
}

std::string check_syntax(const Command& check) {
    const auto& w = check.words;
    const std::string what = w.size() > 1 ? w[1] : "";
    trace::Kind kind;
    if (what == "echo" || what == "closed") return w.size() == 2 ? "" : "expect " + what + " takes nothing after it";
    if (what == "reply" || what == "broadcast") return w.size() >= 3 ? "" : "expect " + what + " wants the text";
    if (what == "elapsed" || what == "lifo-share" || what == "most-running")
        return w.size() == 4 && is_operator(w[2]) && is_number(w[3])
                   ? ""
                   : "expect " + what + " wants OP NUMBER: expect " + what + " >= 1";
    if (what == "trace") {
        if (w.size() == 3 && kind_named(w[2], kind)) return "";
        if (w.size() == 5 && kind_named(w[2], kind) && w[3] == "then" && kind_named(w[4], kind)) return "";
        return "expect trace wants KIND [then KIND] with kinds of common/trace/event.h: expect trace wait_end then "
               "line_in";
    }
    if (what == "count")
        return w.size() == 5 && kind_named(w[2], kind) && is_operator(w[3]) && is_number(w[4])
                   ? ""
                   : "expect count wants KIND OP N: expect count packet_dequeued >= 4";
    if (what == "threads")
        return (w.size() == 4 && is_operator(w[2]) && is_number(w[3])) ||
                       (w.size() == 5 && is_operator(w[3]) && is_number(w[4]))
                   ? ""
                   : "expect threads wants [ROLE] OP N: expect threads worker >= 4";
    if (what == "measured")
        return w.size() == 3 && (w[2] == "lifo-share" || w[2] == "most-running")
                   ? ""
                   : "expect measured wants lifo-share or most-running";
    if (what == "runtime") return w.size() == 3 && w[2] == "named" ? "" : "expect runtime named";
    return "unknown check '" + check.text +
           "' (echo, reply, broadcast, closed, elapsed, trace, count, threads, "
           "lifo-share, most-running, measured, runtime named)";
}

bool check_needs_live(const Command& check) {
    const std::string what = check.words.size() > 1 ? check.words[1] : "";
    return what == "echo" || what == "reply" || what == "broadcast" || what == "closed" || what == "elapsed" ||
           what == "measured" || what == "runtime";
}

bool StepResult::passed() const {
    if (!error.empty()) return false;
    for (const CheckResult& check : checks)
        if (!check.met) return false;
    return true;
}

// ---- traces ------------------------------------------------------------------------------------------------

void load_trace(const trace::Trace& recorded, viz::TraceModel& model) {
    for (const auto& [key, value] : recorded.info) model.take_info(key, value);
    for (const auto& [id, site] : recorded.sites) model.take_site(site);
    for (const auto& [index, thread] : recorded.threads) model.take_thread(thread);
    model.take(recorded.events.data(), recorded.events.size());
    if (recorded.dropped) model.take_dropped(recorded.dropped);
    model.finish();
}

bool load_trace_file(const std::string& path, viz::TraceModel& model, std::string& error) {
    trace::Trace recorded;
    if (!trace::read_trace_file(path, recorded, error)) return false;
    load_trace(recorded, model);
    return true;
}

// ---- checks ------------------------------------------------------------------------------------------------

namespace {

// What one check is decided against: the clients' outcomes and the server's trace.
struct CheckInput {
    const Command& check;
    const std::vector<ActionOutcome>& outcomes;
    const ActionOutcome* above;  // the action written just above the check (for reply, broadcast, closed, elapsed)
    const viz::TraceModel& model;
    const viz::ConformanceFigures& figures;
    std::string runtime;  // as the trace names it, or "an unnamed runtime"
    // Only a trace that says it ran on Windows is held to the Windows rules; any other runtime is measured and
    // named (docs/design.md §1: never assumed).
    bool on_windows;
};

// expect echo: every line sent that is not a command came back exactly.
void decide_echo(const CheckInput& in, CheckResult& result) {
    std::size_t lines = 0, wrong = 0;
    for (const ActionOutcome& outcome : in.outcomes)
        for (const auto& exchange : outcome.exchanges) {
            if (exchange.sent.empty() || exchange.sent[0] == '/') continue;
            ++lines;
            if (exchange.reply != exchange.sent) {
                if (wrong++ == 0)
                    result.detail = "c" + std::to_string(exchange.client) + " sent '" + exchange.sent + "', got " +
                                    (exchange.reply.empty() ? "nothing" : "'" + exchange.reply + "'");
            }
        }
    result.met = lines > 0 && wrong == 0;
    if (result.met) result.detail = std::to_string(lines) + " lines echoed exactly";
    else if (lines == 0) result.detail = "no line was sent";
}

// expect reply TEXT / expect broadcast TEXT: every reply to the action above starts with TEXT, or every other
// client received "<id>: TEXT".
void decide_reply_or_broadcast(const CheckInput& in, CheckResult& result) {
    const std::string& what = in.check.words[1];
    const std::string text = rest_of(in.check, 2);
    std::size_t count = 0, wrong = 0;
    for (const auto& exchange : in.above ? in.above->exchanges : std::vector<ActionOutcome::Exchange>{}) {
        const bool broadcast_line = exchange.sent.empty();
        if ((what == "broadcast") != broadcast_line) continue;
        ++count;
        const bool ok = what == "reply" ? exchange.reply.rfind(text, 0) == 0
                                        : exchange.reply.size() > text.size() &&
                                              exchange.reply.compare(exchange.reply.size() - text.size() - 2,
                                                                     std::string::npos, ": " + text) == 0;
        if (!ok && wrong++ == 0)
            result.detail = "c" + std::to_string(exchange.client) + " got " +
                            (exchange.reply.empty() ? "nothing" : "'" + exchange.reply + "'");
    }
    result.met = count > 0 && wrong == 0;
    if (result.met)
        result.detail = std::to_string(count) + (what == "reply" ? " replies" : " clients") + " as expected";
    else if (count == 0) result.detail = "no " + what + " to the action above";
}

// expect closed: the server closed every client of the action above.
void decide_closed(const CheckInput& in, CheckResult& result) {
    const ActionOutcome* above = in.above;
    result.met = above && above->clients_closed > 0 && above->problem.empty();
    result.detail = above ? std::to_string(above->clients_closed) + " clients saw the close" +
                                (above->problem.empty() ? "" : "; " + above->problem)
                          : "no action above";
}

// expect elapsed OP MS: how long the action above took.
void decide_elapsed(const CheckInput& in, CheckResult& result) {
    const auto& w = in.check.words;
    const ActionOutcome* above = in.above;
    const double target = std::stod(w[3]);
    result.met = above && above->problem.empty() && compare(above->elapsed_ms, w[2], target);
    result.detail = above ? "took " + format_figure(above->elapsed_ms) + " ms" +
                                (above->problem.empty() ? "" : "; " + above->problem)
                          : "no action above";
}

// expect trace KIND [then KIND]: the trace has an event of KIND (followed, on the same thread, by the second).
void decide_trace(const CheckInput& in, CheckResult& result) {
    const auto& w = in.check.words;
    trace::Kind first, second = trace::Kind::kind_count;
    kind_named(w[2], first);
    if (w.size() == 5) kind_named(w[4], second);
    std::size_t firsts = 0;
    std::vector<bool> seen_first_on_thread(65536, false);
    for (const viz::StoredEvent& event : in.model.events()) {
        if (event.kind == first) {
            ++firsts;
            seen_first_on_thread[event.thread] = true;
        } else if (second != trace::Kind::kind_count && event.kind == second && seen_first_on_thread[event.thread]) {
            result.met = true;
            result.detail = "on " + std::to_string(event.thread) + ": " + w[2] + " then " + w[4];
            break;
        }
    }
    if (second == trace::Kind::kind_count) result.met = firsts > 0;
    if (result.detail.empty())
        result.detail = std::to_string(firsts) + " " + w[2] + " events" +
                        (second != trace::Kind::kind_count && !result.met ? ", none followed by " + w[4] : "");
}

// expect count KIND OP N: how many events of KIND the trace has.
void decide_count(const CheckInput& in, CheckResult& result) {
    const auto& w = in.check.words;
    trace::Kind kind;
    kind_named(w[2], kind);
    std::size_t count = 0;
    for (const viz::StoredEvent& event : in.model.events()) count += event.kind == kind;
    result.met = compare(double(count), w[3], std::stod(w[4]));
    result.detail = std::to_string(count) + " " + w[2] + " events";
}

// expect threads [ROLE] OP N: how many threads (of that role) the trace has; when not met, every role's count.
void decide_threads(const CheckInput& in, CheckResult& result) {
    const auto& w = in.check.words;
    const bool by_role = w.size() == 5;
    std::size_t count = 0;
    std::map<std::string, unsigned> roles;
    for (const viz::ThreadLane& lane : in.model.lanes()) {
        std::string role = lane.role.empty() ? "unnamed" : lane.role;
        std::replace(role.begin(), role.end(), ' ', '-');  // "select loop" is written select-loop
        ++roles[role];
        if (!by_role || role == w[2]) ++count;
    }
    result.met = compare(double(count), w[by_role ? 3 : 2], std::stod(w[by_role ? 4 : 3]));
    result.detail = std::to_string(count) + (by_role ? " " + w[2] : std::string()) + " threads";
    if (!result.met) {
        result.detail += " (the trace has";
        for (const auto& [role, number] : roles) result.detail += " " + std::to_string(number) + " " + role;
        result.detail += ")";
    }
}

// expect lifo-share OP X: the share of wakes with a choice that took the most recent waiter, under any runtime.
void decide_lifo_share(const CheckInput& in, CheckResult& result) {
    const auto& w = in.check.words;
    const viz::ConformanceFigures& figures = in.figures;
    const double share = figures.lifo_share();
    result.met = share >= 0 && compare(share, w[2], std::stod(w[3]));
    result.detail = share < 0 ? "no wake had a choice of waiter"
                              : "LIFO share " + format_figure(share) + " (" + std::to_string(figures.lifo_wakes) +
                                    " of " + std::to_string(figures.wakes_with_choice) + " wakes) under " + in.runtime;
}

// expect most-running OP N: the most workers that ran at once, under any runtime.
void decide_most_running(const CheckInput& in, CheckResult& result) {
    const auto& w = in.check.words;
    result.met = compare(in.figures.most_running, w[2], std::stod(w[3]));
    result.detail = "at most " + std::to_string(in.figures.most_running) + " running, concurrency value " +
                    std::to_string(in.figures.concurrency) + ", under " + in.runtime;
}

// expect measured lifo-share: measured and named under any runtime; held to the documented rule only where the
// trace says Windows.
void decide_measured_lifo_share(const CheckInput& in, CheckResult& result) {
    const viz::ConformanceFigures& figures = in.figures;
    const double share = figures.lifo_share();
    result.met = share >= 0 && !in.model.runtime().empty();
    const std::string measured = "measured under " + in.runtime + ": " + std::to_string(figures.lifo_wakes) + " of " +
                                 std::to_string(figures.wakes_with_choice) +
                                 " wakes with a choice took the most recent waiter (LIFO share " +
                                 format_figure(share) + ")";
    if (share < 0) {
        result.detail = "no wake had a choice of waiter: nothing to measure";
    } else if (in.on_windows) {
        result.met = share >= kWindowsLifoShare;
        result.detail = measured + "; Windows documents LIFO, so at least " + format_figure(kWindowsLifoShare) +
                        (result.met ? ": it holds" : ": NOT MET on Windows");
    } else {
        result.detail =
            measured + "; Windows documents LIFO" + (share < kWindowsLifoShare ? ": this runtime differs" : "");
    }
}

// expect measured most-running: the most workers running at once, set against what the rules allow at that
// moment (running_against_value); held to them only where the trace says Windows.
void decide_measured_most_running(const CheckInput& in, CheckResult& result) {
    const viz::ConformanceFigures& figures = in.figures;
    result.met = figures.most_running > 0 && figures.concurrency > 0 && !in.model.runtime().empty();
    result.detail = "measured under " + in.runtime + ": at most " + std::to_string(figures.most_running) +
                    " workers running at once against a concurrency value of " + std::to_string(figures.concurrency);
    if (!result.met) return;
    const RunningAgainstValue against = running_against_value(in.model, figures.concurrency);
    result.detail +=
        "; Windows allows the value plus the workers blocked outside the port when the "
        "last waiter was released: " +
        std::to_string(against.running) + " ran where " + std::to_string(against.allowed) + " would be allowed (" +
        std::to_string(figures.concurrency) + " + " + std::to_string(against.blocked) + " blocked)";
    if (in.on_windows) {
        result.met = !against.exceeded();
        if (!result.met) result.detail += ": NOT MET on Windows";
    } else if (against.exceeded()) {
        result.detail += ": this runtime let more run";
    }
}

// expect runtime named: the trace says what it ran under.
void decide_runtime_named(const CheckInput& in, CheckResult& result) {
    result.met = !in.model.runtime().empty();
    result.detail = "the trace says: " + in.runtime;
}

CheckResult decide_check(const CheckInput& in) {
    CheckResult result{in.check.line, in.check.text, false, ""};
    const auto& w = in.check.words;
    const std::string& what = w[1];
    if (what == "echo") decide_echo(in, result);
    else if (what == "reply" || what == "broadcast") decide_reply_or_broadcast(in, result);
    else if (what == "closed") decide_closed(in, result);
    else if (what == "elapsed") decide_elapsed(in, result);
    else if (what == "trace") decide_trace(in, result);
    else if (what == "count") decide_count(in, result);
    else if (what == "threads") decide_threads(in, result);
    else if (what == "lifo-share") decide_lifo_share(in, result);
    else if (what == "most-running") decide_most_running(in, result);
    else if (what == "measured" && w[2] == "lifo-share") decide_measured_lifo_share(in, result);
    else if (what == "measured" && w[2] == "most-running") decide_measured_most_running(in, result);
    else if (what == "runtime") decide_runtime_named(in, result);
    return result;
}

}  // namespace

std::vector<CheckResult> decide_checks(const Step& step, const std::vector<ActionOutcome>& outcomes,
                                       const viz::TraceModel& model) {
    std::vector<CheckResult> results;
    const std::string runtime = model.runtime().empty() ? "an unnamed runtime" : model.runtime();
    const bool on_windows = viz::classify_runtime(model.runtime()) == viz::RuntimeKind::windows;
    for (const Command& check : step.checks) {
        const ActionOutcome* above = nullptr;
        for (const ActionOutcome& outcome : outcomes)
            if (outcome.action.line < check.line) above = &outcome;
        results.push_back(decide_check({check, outcomes, above, model, model.conformance(), runtime, on_windows}));
    }
    return results;
}

// ---- the reference model --------------------------------------------------------------------------------------

StepResult run_reference_step(const Step& step) {
    StepResult result;
    const kernel_queue::ScenarioRun run = kernel_queue::run_scenario(step.scenario);
    // Scenario lines and the step's own checks, merged in the order the lesson writes them (the scenario
    // block follows the socklab block, so its lines come after).
    std::vector<CheckResult> scenario_checks;
    for (const kernel_queue::ScenarioLineOutcome& outcome : run.lines) {
        const int line = step.scenario_line + outcome.line.number - 1;
        for (const std::string& sentence : outcome.explanations)
            result.log.push_back(outcome.line.text + "  ->  " + sentence);
        if (!outcome.is_expectation) continue;
        CheckResult check{line, kernel_queue::scenario_words(outcome.line.text).empty() ? outcome.line.text : "",
                          outcome.expectation_met, ""};
        std::string text;
        for (const std::string& word : kernel_queue::scenario_words(outcome.line.text))
            text += (text.empty() ? "" : " ") + word;
        check.text = text;
        for (const kernel_queue::ExpectationFailure& failure : run.failed_expectations)
            if (failure.line.number == outcome.line.number) check.detail = failure.message;
        if (check.met) check.detail = "as the rules say";
        scenario_checks.push_back(check);
    }
    if (run.stopped_by_error()) result.error = "the scenario stopped: " + run.error;
    viz::TraceModel model;
    load_trace(run.model.trace(), model);
    result.checks = decide_checks(step, {}, model);
    result.checks.insert(result.checks.end(), scenario_checks.begin(), scenario_checks.end());
    return result;
}

// ---- live clients ----------------------------------------------------------------------------------------------

struct LiveClients::Client {
    unsigned number = 0;
    net::Socket socket;
    std::string inbox;
    bool closed = false;  // the server closed (receive returned 0)

    // One line from the server, without its end; "" and false when none came within the time.
    bool read_line(std::string& line, int timeout_ms) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;) {
            const auto end = inbox.find('\n');
            if (end != std::string::npos) {
                line = inbox.substr(0, end);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                inbox.erase(0, end + 1);
                return true;
            }
            if (closed) return false;
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
                    .count();
            if (left <= 0) return false;
            net::PollEntry entry{socket.native(), net::poll_in(), 0};
            if (net::poll(&entry, 1, static_cast<int>(left)) <= 0) continue;
            char buffer[4096];
            const long got = net::receive_some(socket, buffer, sizeof buffer);
            if (got == 0 || got == net::kFailed) closed = true;
            else if (got > 0) inbox.append(buffer, static_cast<std::size_t>(got));
        }
    }
    bool send_text(const std::string& text) { return net::send_all(socket, text.data(), text.size()); }
};

LiveClients::LiveClients(std::uint16_t port) : port_(port) {}
LiveClients::~LiveClients() = default;

// The outcome being built: the first problem noted, and each exchange as a client reads its reply.
struct LiveClients::Performance {
    ActionOutcome outcome;

    void note(const std::string& problem) {
        if (outcome.problem.empty()) outcome.problem = problem;
    }
    // The client reads the line that answers `sent` and the exchange is recorded.
    void read_reply(Client& client, const std::string& sent) {
        ActionOutcome::Exchange exchange{client.number, sent, ""};
        if (!client.read_line(exchange.reply, kReplyTimeoutMs))
            note("c" + std::to_string(client.number) + ": no reply within " + std::to_string(kReplyTimeoutMs / 1000) +
                 " s" + (client.closed ? " (the server closed the connection)" : ""));
        outcome.exchanges.push_back(exchange);
    }
};

ActionOutcome LiveClients::perform(const Command& action) {
    static net::Startup startup;
    Performance performance;
    performance.outcome.action = action;
    const auto& w = action.words;
    const std::string& verb = w[0];
    const auto started = std::chrono::steady_clock::now();
    const std::string text = rest_of(action, 1);

    if (verb == "connect") connect(std::stoi(w[1]), performance);
    else if (clients_.empty() && verb != "pause" && verb != "disconnect")
        performance.note(verb + ": no client is connected (connect N first)");
    else if (verb == "send") send_and_read(text, performance);
    else if (verb == "work") send_and_read("/work " + w[1] + " " + w[2], performance);
    else if (verb == "send-split") send_split(text, performance);
    else if (verb == "send-joined") send_joined(w, performance);
    else if (verb == "all") broadcast(text, performance);
    else if (verb == "burst") burst(std::stoi(w[1]), performance);
    else if (verb == "quit") quit(performance);
    else if (verb == "pause") std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(w[1])));
    else if (verb == "disconnect") clients_.clear();
    performance.outcome.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    return performance.outcome;
}

// connect N: N more clients, numbered on from the last.
void LiveClients::connect(int count, Performance& performance) {
    for (int i = 0; i < count; ++i) {
        auto client = std::make_unique<Client>();
        client->number = static_cast<unsigned>(clients_.size()) + 1;
        std::string error;
        client->socket = net::connect_tcp("127.0.0.1", port_, error);
        if (!client->socket.valid()) {
            performance.note("c" + std::to_string(client->number) + ": " + error);
            break;
        }
        net::set_no_delay(client->socket, true);
        clients_.push_back(std::move(client));
    }
}

// send TEXT, work CPU BLOCK: every client sends the line, then each reads its reply.
void LiveClients::send_and_read(const std::string& line, Performance& performance) {
    for (auto& client : clients_)
        if (!client->send_text(line + "\n")) performance.note("c" + std::to_string(client->number) + ": send failed");
    for (auto& client : clients_) performance.read_reply(*client, line);
}

// send-split TEXT: the first client sends the line a byte at a time, 10 ms apart.
void LiveClients::send_split(const std::string& text, Performance& performance) {
    Client& client = *clients_.front();
    for (char c : text + "\n") {
        client.send_text(std::string(1, c));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    performance.read_reply(client, text);
}

// send-joined A | B: the first client sends the lines in one write, then reads a reply to each.
void LiveClients::send_joined(const std::vector<std::string>& words, Performance& performance) {
    std::vector<std::string> lines{""};
    for (std::size_t i = 1; i < words.size(); ++i) {
        if (words[i] == "|") lines.emplace_back();
        else lines.back() += (lines.back().empty() ? "" : " ") + words[i];
    }
    std::string joined;
    for (const std::string& line : lines) joined += line + "\n";
    Client& client = *clients_.front();
    client.send_text(joined);
    for (const std::string& line : lines) performance.read_reply(client, line);
}

// all TEXT: the first client broadcasts; it reads its OK, every other client the broadcast line.
void LiveClients::broadcast(const std::string& text, Performance& performance) {
    Client& sender = *clients_.front();
    sender.send_text("/all " + text + "\n");
    performance.read_reply(sender, "/all " + text);
    for (std::size_t i = 1; i < clients_.size(); ++i) performance.read_reply(*clients_[i], "");
}

// burst N: every client sends N numbered lines in one write, then reads the N replies.
void LiveClients::burst(int count, Performance& performance) {
    for (auto& client : clients_) {
        std::string lines;
        for (int i = 1; i <= count; ++i)
            lines += "burst c" + std::to_string(client->number) + " line " + std::to_string(i) + "\n";
        client->send_text(lines);
    }
    for (auto& client : clients_)
        for (int i = 1; i <= count; ++i)
            performance.read_reply(*client, "burst c" + std::to_string(client->number) + " line " + std::to_string(i));
}

// quit: every client sends /quit, reads BYE, and must then see the server close the connection.
void LiveClients::quit(Performance& performance) {
    for (auto& client : clients_) client->send_text("/quit\n");
    for (auto& client : clients_) {
        performance.read_reply(*client, "/quit");
        std::string more;
        while (client->read_line(more, kReplyTimeoutMs)) {}
        if (client->closed) ++performance.outcome.clients_closed;
        else performance.note("c" + std::to_string(client->number) + ": the server did not close the connection");
    }
}

// ---- a live step ---------------------------------------------------------------------------------------------

StepResult run_live_step(const Step& step, LiveServer& server, const std::function<void(const std::string&)>& say) {
    StepResult result;
    auto tell = [&](const std::string& line) {
        result.log.push_back(line);
        if (say) say(line);
    };
    static unsigned runs = 0;
    // A name no other run shares: the clock when the first step ran, and a count.
    static const auto first_run = std::chrono::steady_clock::now().time_since_epoch().count();
    const std::string trace_file =
        (std::filesystem::temp_directory_path() /
         ("socklab-lesson-" + std::to_string(first_run) + "-" + std::to_string(++runs) + ".sltrace"))
            .string();
    std::uint16_t port = 0;
    std::string error;
    tell("starting " + step.live_model() + " (socklab serve " + step.live_model() + " " + rest_of(step.run, 3) + ")");
    if (!server.start(step.live_model(), step.live_flags(), trace_file, port, error)) {
        result.error = "cannot start " + step.live_model() + ": " + error;
        return result;
    }
    tell("listening on 127.0.0.1:" + std::to_string(port));
    std::vector<ActionOutcome> outcomes;
    {
        LiveClients clients(port);
        for (const Command& action : step.actions) {
            outcomes.push_back(clients.perform(action));
            const ActionOutcome& outcome = outcomes.back();
            std::string summary =
                action.text + "  (" + format_figure(static_cast<long long>(outcome.elapsed_ms)) + " ms";
            if (!outcome.exchanges.empty()) summary += ", first reply '" + outcome.exchanges.front().reply + "'";
            tell(summary + ")" + (outcome.problem.empty() ? "" : ": " + outcome.problem));
        }
    }
    if (!server.stop(error)) {
        result.error = step.live_model() + ": " + error;
        return result;
    }
    result.trace_file = trace_file;
    viz::TraceModel model;
    if (!load_trace_file(trace_file, model, error)) {
        result.error = "the server's trace cannot be read: " + error;
        return result;
    }
    tell("the server's trace: " + std::to_string(model.event_count()) + " events, runtime " + model.runtime());
    result.checks = decide_checks(step, outcomes, model);
    return result;
}

std::string describe_run(const Step& step) {
    if (step.runs_reference()) {
        return "the reference model of the Windows completion-port rules, this scenario:\n" + step.scenario;
    }
    if (step.runs_live()) {
        const std::string where = catalog::runs_where(step.live_model());  // " natively", " under Wine" or ""
        std::string text = "live: socklab serve " + rest_of(step.run, 2) +
                           (where.empty() ? "" : " (" + where.substr(1) + ")") + ", then";
        for (const Command& action : step.actions) text += "\n  " + action.text;
        return text;
    }
    return "";
}

}  // namespace socklab::lessons
