// tests/visualizer/reference_open_test.cpp — the reference model opens at its first step: its port exists (so
// no view says "No completion port in this trace"), its workers wait, its trace spans more than a microsecond
// (a sensible time axis), and the rest of the scenario is still to play.
#include "tests/catch.hpp"
#include "visualizer/model/traced_run.h"

using namespace socklab::viz;

namespace {
const char* const kLifoLesson =
    "concurrency 2\nthreads 4\nwait w1 w2 w3 w4\npost\npost\npost\nblock w4 50\nunblock w4\ndone w3\n";
}

TEST_CASE("the reference model opens at its first step, not at line 0 nor at the end", "[viz][reference]") {
    auto run = TracedRun::reference(kLifoLesson);
    REQUIRE(run);
    REQUIRE(run->scenario());
    CHECK_FALSE(run->scenario()->finished());
    const auto* next = run->scenario()->next_line();
    REQUIRE(next);
    CHECK(next->text.rfind("post", 0) == 0);  // the packets are still to come
    const TraceModel& model = run->trace_model();
    REQUIRE(model.ports().size() == 1);                // no "No completion port" note
    CHECK(model.ports().front().waiters.size() == 4);  // w1..w4 wait on it
    CHECK(model.last_ns() - model.first_ns() > 1000);  // a time axis wider than the 1 us floor
    CHECK(model.counters().packets_posted == 0);
}

TEST_CASE("the reference model's first step stops at the line that starts the model", "[viz][reference]") {
    auto run = TracedRun::reference("threads 1\nwait w1\npost\n");
    REQUIRE(run);
    CHECK(run->trace_model().ports().size() == 1);
    REQUIRE(run->scenario()->next_line());
    CHECK(run->scenario()->next_line()->text == "post");
}

TEST_CASE("Restart still goes back to line 0 and To the end still finishes", "[viz][reference]") {
    auto run = TracedRun::reference(kLifoLesson);
    run->scenario_to_end();
    CHECK(run->scenario()->finished());
    CHECK(run->trace_model().counters().packets_posted == 3);
    run->scenario_restart();
    CHECK_FALSE(run->scenario()->finished());
    CHECK(run->trace_model().ports().empty());
}
