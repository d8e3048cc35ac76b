// The scenario text form of the reference model (common/kernel_queue/scenario.h): the lessons' scenarios parse,
// play, and check what they claim; mistakes are reported with their line.
#include <string>

#include "common/kernel_queue/scenario.h"
#include "tests/catch.hpp"

namespace kq = socklab::kernel_queue;

namespace {

std::string failures_of(const kq::ScenarioRun& run) {
    std::string text = run.error;
    for (const auto& failure : run.failed_expectations)
        text += "\nline " + std::to_string(failure.line.number) + ": " + failure.message;
    return text;
}

}  // namespace

// Rule 2: "Threads that block their execution on an I/O completion port are released in last-in-first-out
//   (LIFO) order" - the example in scenario.h, as a lesson writes it.
TEST_CASE("kernel queue scenario - the LIFO example of scenario.h passes", "[kernel_queue]") {
    const kq::ScenarioRun run = kq::run_scenario(R"(
concurrency 2
threads 4
wait w1 w2 w3 w4        # w4 waited last: it is on top of the stack
post                    # packet 1: the kernel releases w4 at once
expect released w4
expect waiters w3 w2 w1
expect holding w4 1
expect running 1
)");
    INFO(failures_of(run));
    CHECK(run.passed());
    CHECK(run.model.concurrency_value() == 2);
}

// Rule 3, "I/O Completion Ports": "When a completion packet is queued to an I/O completion port, the system first
//   checks how many threads associated with that port are running." The issue's example: the post releases w2,
//   so w1 coming back right after finds nothing and waits.
TEST_CASE("kernel queue scenario - the kernel decides at the post, before w1 comes back", "[kernel_queue]") {
    const kq::ScenarioRun run = kq::run_scenario(R"(
concurrency 2
threads 2
post
wait w1                 # takes packet 1 at once
wait w2                 # nothing queued: waits
post                    # packet 2: 1 running < concurrency 2, so w2 is released now
expect released w2
expect holding w2 2
done w1                 # the queue is empty: w1 waits
expect released none
expect state w1 waiting
expect holding w2 2
)");
    INFO(failures_of(run));
    CHECK(run.passed());
}

// Rules 6 and 4: "If this parameter is zero, the system allows as many concurrently running threads as there are
//   processors"; a thread that "enters a wait state for other reasons" lets a waiter run, and "there may be a
//   brief period when the number of active threads exceeds the concurrency value".
TEST_CASE("kernel queue scenario - concurrency 0 then block and unblock", "[kernel_queue]") {
    const kq::ScenarioRun run = kq::run_scenario(R"(
processors 1
concurrency 0
threads 2
expect concurrency 1
wait w1 w2
post 2 bytes=128        # packet 1 releases w2; packet 2 stays queued: 1 running = concurrency 1
expect released w2
expect queue 2
block w2 50             # w2 stops counting: the kernel releases w1 with packet 2 inside the block
expect state w2 blocked
expect released w1
expect running 1
unblock w2
expect released none
expect running 2        # the brief excess the documentation describes
done w1
expect state w1 waiting # 1 other thread runs, not < 1: no packet for w1
done w2
expect waiters w2 w1
expect queue empty
expect holding w2 none
)");
    INFO(failures_of(run));
    CHECK(run.passed());
}

// Rule 5: "this thread will immediately pick up the next queued completion packet"
TEST_CASE("kernel queue scenario - back at the port a thread takes a packet at once", "[kernel_queue]") {
    const kq::ScenarioRun run = kq::run_scenario(R"(
concurrency 1
threads 3
wait w1 w2 w3
post 3
expect released w3
expect queued 2
done w3                 # takes packet 2 at once: the thread took it, the kernel released no one
expect released none
expect holding w3 2
expect waiters w2 w1
done w3
expect holding w3 3
)");
    INFO(failures_of(run));
    CHECK(run.passed());
}

// Rule 3: "When the total number of runnable threads associated with the completion port reaches the concurrency
//   value, the system blocks the execution of any subsequent threads" - one line, several releases, in order.
TEST_CASE("kernel queue scenario - expect released lists every release of the last action line", "[kernel_queue]") {
    const kq::ScenarioRun run = kq::run_scenario(R"(
concurrency 2
threads 4
wait w1 w2 w3 w4
post 3
expect released w4 w3   # packet 3 stays queued: 2 running = concurrency 2
expect queued 1
expect running 2
expect released w3 w4   # wrong on purpose: the order is the order of release
)");
    REQUIRE(run.error.empty());
    REQUIRE(run.failed_expectations.size() == 1);
    CHECK(run.failed_expectations[0].message == "expected released w3 w4, found w4 w3");
}

// Rule 7, "GetQueuedCompletionStatusEx": ulCount is "The maximum number of entries to remove." and "If a thread is
//   actively waiting on this call, one or more queued requests complete the call for that thread only."
TEST_CASE("kernel queue scenario - count=N calls GetQueuedCompletionStatusEx", "[kernel_queue]") {
    const kq::ScenarioRun run = kq::run_scenario(R"(
concurrency 1
threads 2
post 3
wait w1 count=2         # GetQueuedCompletionStatusEx, ulCount 2: packets 1 and 2 at once
expect holding w1 1 2
expect queue 3
expect running 1
wait w2 count=4         # 1 running = concurrency 1: waits
post
block w1                # room: w2 is released with packets 3 and 4, all for it
expect released w2
expect holding w2 3 4
expect queue empty
unblock w1
done w1 count=2         # nothing queued: waits in GetQueuedCompletionStatusEx again
expect state w1 waiting
)");
    INFO(failures_of(run));
    CHECK(run.passed());
    CHECK(kq::run_scenario("threads 1\nwait w1 count=0\n").error.find("ulCount must be at least 1") !=
          std::string::npos);
}

// Rules 8 and 9, "GetQueuedCompletionStatus": "If a completion packet does not appear within the specified time,
//   the function times out, returns FALSE, and sets *lpOverlapped to NULL." ... "If a call to
//   GetQueuedCompletionStatus fails because the completion port handle associated with it is closed while the
//   call is outstanding, the function returns FALSE, *lpOverlapped will be NULL, and GetLastError will return
//   ERROR_ABANDONED_WAIT_0."
TEST_CASE("kernel queue scenario - a wait times out, then the port is closed", "[kernel_queue]") {
    const kq::ScenarioRun run = kq::run_scenario(R"(
threads 3
wait w1 w2 w3
timeout w2              # FALSE, WAIT_TIMEOUT: w2 leaves the stack and runs
expect error w2 WAIT_TIMEOUT
expect state w2 running
expect waiters w3 w1
expect holding w2 none
close                   # every waiter returns FALSE with ERROR_ABANDONED_WAIT_0
expect waiters none
expect error w3 ERROR_ABANDONED_WAIT_0
expect error w1 ERROR_ABANDONED_WAIT_0
expect error w2 WAIT_TIMEOUT
expect running 3
exit w1                 # returned from the call: it can end now
expect state w1 exited
)");
    INFO(failures_of(run));
    CHECK(run.passed());
    const auto after_close = kq::run_scenario("threads 1\nwait w1\nclose\npost\n");
    CHECK(after_close.error.rfind("line 4: post: the port's handle is closed", 0) == 0);
    CHECK(kq::run_scenario("threads 1\nclose\nwait w1\n").error.find("handle is closed") != std::string::npos);
    CHECK(kq::run_scenario("threads 1\ntimeout w1\n").error.find("only a thread waiting on the port") !=
          std::string::npos);
}

// Rule 10, "GetQueuedCompletionStatus": "If dwMilliseconds is INFINITE, the function will never time out." A
//   thread inside the call runs no code until it returns, so it cannot exit: a clear error, not a silent change.
TEST_CASE("kernel queue scenario - exit is refused for a thread waiting in the call", "[kernel_queue]") {
    const auto run = kq::run_scenario("threads 2\nwait w1\nexit w1\n");
    CHECK(run.error.rfind("line 3: exit: w1 is waiting inside GetQueuedCompletionStatus and runs no code", 0) == 0);
    CHECK(run.model.thread(run.model.thread_named("w1")).state == kq::ThreadState::waiting);
    const auto blocked = kq::run_scenario("threads 1\npost\nwait w1\nblock w1\nexit w1\n");
    CHECK(blocked.error.rfind("line 5: exit: w1 is blocked in another call", 0) == 0);
    const auto returned_first = kq::run_scenario("threads 1\nwait w1\ntimeout w1\nexit w1\nexpect state w1 exited\n");
    INFO(failures_of(returned_first));
    CHECK(returned_first.passed());
}

TEST_CASE("kernel queue scenario - each line carries the model's explanations", "[kernel_queue]") {
    const kq::ScenarioRun run = kq::run_scenario("concurrency 1\nthreads 2\nwait w1 w2\npost\npost\n");
    REQUIRE(run.passed());
    REQUIRE(run.lines.size() == 5);
    CHECK(run.lines[0].explanations.empty());        // setup only: the port is not created yet
    REQUIRE(run.lines[1].explanations.size() == 1);  // the line that creates the port owns its sentence
    CHECK(run.lines[1].explanations[0].find("concurrency value 1") != std::string::npos);
    CHECK(run.lines[2].explanations.size() == 2);  // one per thread that called
    // The post and the kernel's decision it caused, in one line: the decision is not left for later.
    REQUIRE(run.lines[3].explanations.size() == 2);
    CHECK(run.lines[3].explanations[0].find("packet 1 (64 bytes) joins an empty queue") != std::string::npos);
    CHECK(run.lines[3].explanations[1].find("the kernel releases w2 at once with packet 1") != std::string::npos);
    REQUIRE(run.lines[4].explanations.size() == 2);
    CHECK(run.lines[4].explanations[1].find("packet 2 stays queued: 1 running = concurrency 1") != std::string::npos);
    CHECK(run.lines[4].line.number == 5);
    CHECK(run.lines[4].line.text == "post");
}

TEST_CASE("kernel queue scenario - a failed expect names its line and finding", "[kernel_queue]") {
    const kq::ScenarioRun run = kq::run_scenario(R"(threads 3
wait w1 w2 w3
post
expect released w1      # wrong on purpose: LIFO releases w3
expect waiters w1 w2    # wrong on purpose: w2 is the top
expect running 1
)");
    CHECK(run.error.empty());
    CHECK_FALSE(run.passed());
    REQUIRE(run.failed_expectations.size() == 2);
    CHECK(run.failed_expectations[0].line.number == 4);
    CHECK(run.failed_expectations[0].message == "expected released w1, found w3");
    CHECK(run.failed_expectations[1].line.number == 5);
    CHECK(run.failed_expectations[1].message == "expected waiters w1 w2, found w2 w1");
    // Each line says whether it was a check, and whether it was met: what a lesson panel shows.
    REQUIRE(run.lines.size() == 6);
    CHECK_FALSE(run.lines[2].is_expectation);
    CHECK(run.lines[3].is_expectation);
    CHECK_FALSE(run.lines[3].expectation_met);
    CHECK_FALSE(run.lines[4].expectation_met);
    CHECK(run.lines[5].is_expectation);
    CHECK(run.lines[5].expectation_met);
}

TEST_CASE("kernel queue scenario - a bad line or forbidden action stops the run", "[kernel_queue]") {
    SECTION("unknown command") {
        const auto run = kq::run_scenario("threads 2\n\n# comment\nfly w1\n");
        CHECK(run.error.rfind("line 4: unknown command 'fly'", 0) == 0);
    }
    SECTION("an action the rules do not allow") {
        const auto run = kq::run_scenario("threads 2\nwait w1\nblock w1\npost\n");
        CHECK(run.error.rfind("line 3: block: w1 is waiting", 0) == 0);
        CHECK(run.model.queued_packets().empty());  // line 4 never ran
        CHECK(run.lines.size() == 3);
    }
    SECTION("step and settle: the kernel leaves nothing to decide later") {
        const auto run = kq::run_scenario("threads 2\nwait w1 w2\npost\nstep\n");
        CHECK(run.error.rfind("line 4: step: the kernel now decides inside the action itself", 0) == 0);
        CHECK(kq::run_scenario("settle\n").error.rfind("line 1: settle: the kernel now decides", 0) == 0);
    }
    SECTION("an unknown thread, a bad number, setup after the port exists") {
        CHECK(kq::run_scenario("threads 1\nwait w2\n").error == "line 2: there is no thread named w2");
        CHECK(kq::run_scenario("post x\n").error == "line 1: post: 'x' is not a whole number");
        CHECK(kq::run_scenario("threads 1\nconcurrency 2\n").error.rfind("line 2: concurrency must come before", 0) ==
              0);
        CHECK(kq::run_scenario("expect state w1 sleeping\nthreads 1\n").error.rfind("line 1: there is no thread", 0) ==
              0);
        CHECK(kq::run_scenario("threads 1\nexpect state w1 sleeping\n")
                  .error.rfind("line 2: expect state: 'sleeping'", 0) == 0);
    }
}

TEST_CASE("kernel queue scenario - the player applies one line at a time", "[kernel_queue]") {
    kq::ScenarioPlayer player("concurrency 1\n# the workers\nthreads 2\n\nwait w1 w2\npost\n");
    REQUIRE(player.next_line() != nullptr);
    CHECK(player.next_line()->number == 1);
    REQUIRE(player.play_next_line());
    CHECK(player.next_line()->number == 3);  // the comment line is skipped
    REQUIRE(player.play_next_line());
    REQUIRE(player.play_next_line());
    CHECK(player.run().model.waiters_most_recent_first().size() == 2);
    CHECK(player.run().model.releases().empty());
    REQUIRE(player.play_next_line());
    CHECK(player.finished());
    CHECK(player.next_line() == nullptr);
    CHECK_FALSE(player.play_next_line());
    CHECK(player.run().model.releases().size() == 1);  // the post's own line released w2
    CHECK(player.run().model.queued_packets().empty());
    CHECK(player.run().model.trace().events.size() > 10);
}

TEST_CASE("kernel queue scenario - words and comments and optional arguments", "[kernel_queue]") {
    CHECK(kq::scenario_words("  wait w1\tw2  # why\r") == std::vector<std::string>{"wait", "w1", "w2"});
    CHECK(kq::scenario_words("# only a comment").empty());
    const auto run = kq::run_scenario(
        "thread acceptor acceptor\nthreads 2\npost 2 bytes=10 connection=4\n"
        "wait w1\nexpect holding w1 1\nexpect state acceptor not-associated\n"
        "exit w2\nexpect state w2 exited\n");
    INFO(failures_of(run));
    CHECK(run.passed());
    CHECK(run.model.thread(run.model.thread_named("w1")).role == "worker");
    CHECK(run.model.trace().threads.at(run.model.thread_named("acceptor")).role == "acceptor");
    CHECK(run.model.queued_packets().front().bytes == 10);
    CHECK(run.model.queued_packets().front().connection == 4);
}
