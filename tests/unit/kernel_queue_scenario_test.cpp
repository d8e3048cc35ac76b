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
post                    # packet 1
step
expect released w4
expect waiters w3 w2 w1
expect holding w4 1
expect running 1
)");
    INFO(failures_of(run));
    CHECK(run.passed());
    CHECK(run.model.concurrency_value() == 2);
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
post 2 bytes=128
step
expect released w2
step                    # 1 running = concurrency 1: packet 2 stays queued
expect released none
expect queue 2
block w2 50
expect state w2 blocked
expect running 0
step
expect released w1
unblock w2
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
settle
expect released w3
expect queued 2
done w3                 # takes packet 2 at once
expect holding w3 2
expect waiters w2 w1
done w3
expect holding w3 3
)");
    INFO(failures_of(run));
    CHECK(run.passed());
}

TEST_CASE("kernel queue scenario - each line carries the model's explanations", "[kernel_queue]") {
    const kq::ScenarioRun run = kq::run_scenario("concurrency 1\nthreads 2\nwait w1 w2\npost\nstep\npost\nstep\n");
    REQUIRE(run.passed());
    REQUIRE(run.lines.size() == 7);
    CHECK(run.lines[0].explanations.empty());  // setup only: the port is not created yet
    REQUIRE(run.lines[1].explanations.size() == 1);  // the line that creates the port owns its sentence
    CHECK(run.lines[1].explanations[0].find("concurrency value 1") != std::string::npos);
    CHECK(run.lines[2].explanations.size() == 2);  // one per thread that called
    REQUIRE(run.lines[4].explanations.size() == 1);
    CHECK(run.lines[4].explanations[0].find("released w2 with packet 1") != std::string::npos);
    REQUIRE(run.lines[6].explanations.size() == 1);
    CHECK(run.lines[6].explanations[0].find("packet 2 stays queued: 1 running = concurrency 1") != std::string::npos);
    CHECK(run.lines[6].line.number == 7);
    CHECK(run.lines[6].line.text == "step");
}

TEST_CASE("kernel queue scenario - a failed expect names its line and finding", "[kernel_queue]") {
    const kq::ScenarioRun run = kq::run_scenario(R"(threads 3
wait w1 w2 w3
post
step
expect released w1      # wrong on purpose: LIFO releases w3
expect waiters w1 w2    # wrong on purpose: w2 is the top
expect running 1
)");
    CHECK(run.error.empty());
    CHECK_FALSE(run.passed());
    REQUIRE(run.failed_expectations.size() == 2);
    CHECK(run.failed_expectations[0].line.number == 5);
    CHECK(run.failed_expectations[0].message == "expected released w1, found w3");
    CHECK(run.failed_expectations[1].line.number == 6);
    CHECK(run.failed_expectations[1].message == "expected waiters w1 w2, found w2 w1");
    // Each line says whether it was a check, and whether it was met: what a lesson panel shows.
    REQUIRE(run.lines.size() == 7);
    CHECK_FALSE(run.lines[3].is_expectation);
    CHECK(run.lines[4].is_expectation);
    CHECK_FALSE(run.lines[4].expectation_met);
    CHECK_FALSE(run.lines[5].expectation_met);
    CHECK(run.lines[6].is_expectation);
    CHECK(run.lines[6].expectation_met);
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
    SECTION("an unknown thread, a bad number, setup after the port exists") {
        CHECK(kq::run_scenario("threads 1\nwait w2\n").error == "line 2: there is no thread named w2");
        CHECK(kq::run_scenario("post x\n").error == "line 1: post: 'x' is not a whole number");
        CHECK(kq::run_scenario("threads 1\nconcurrency 2\n").error.rfind("line 2: concurrency must come before", 0) ==
              0);
        CHECK(kq::run_scenario("expect state w1 sleeping\nthreads 1\n").error.rfind("line 1: there is no thread", 0) ==
              0);
        CHECK(kq::run_scenario("threads 1\nexpect state w1 sleeping\n").error.rfind("line 2: expect state: 'sleeping'",
                                                                                      0) == 0);
    }
}

TEST_CASE("kernel queue scenario - the player applies one line at a time", "[kernel_queue]") {
    kq::ScenarioPlayer player("concurrency 1\n# the workers\nthreads 2\n\nwait w1 w2\npost\nstep\n");
    REQUIRE(player.next_line() != nullptr);
    CHECK(player.next_line()->number == 1);
    REQUIRE(player.play_next_line());
    CHECK(player.next_line()->number == 3);  // the comment line is skipped
    REQUIRE(player.play_next_line());
    REQUIRE(player.play_next_line());
    CHECK(player.run().model.waiters_most_recent_first().size() == 2);
    REQUIRE(player.play_next_line());
    CHECK(player.run().model.queued_packets().size() == 1);
    REQUIRE(player.play_next_line());
    CHECK(player.finished());
    CHECK(player.next_line() == nullptr);
    CHECK_FALSE(player.play_next_line());
    CHECK(player.run().model.last_decision().released);
    CHECK(player.run().model.trace().events.size() > 10);
}

TEST_CASE("kernel queue scenario - words and comments and optional arguments", "[kernel_queue]") {
    CHECK(kq::scenario_words("  wait w1\tw2  # why\r") == std::vector<std::string>{"wait", "w1", "w2"});
    CHECK(kq::scenario_words("# only a comment").empty());
    const auto run = kq::run_scenario("thread acceptor acceptor\nthreads 2\npost 2 bytes=10 connection=4\n"
                                      "wait w1\nexpect holding w1 1\nexpect state acceptor not-associated\n"
                                      "exit w2\nexpect state w2 exited\n");
    INFO(failures_of(run));
    CHECK(run.passed());
    CHECK(run.model.thread(run.model.thread_named("w1")).role == "worker");
    CHECK(run.model.trace().threads.at(run.model.thread_named("acceptor")).role == "acceptor");
    CHECK(run.model.queued_packets().front().bytes == 10);
    CHECK(run.model.queued_packets().front().connection == 4);
}
