// tests/cli/demo_report_test.cpp — what `socklab demo` tells about a run in the terminal (cli/demo.h), from a
// synthetic IOCP trace whose wakes are known: the packets each worker took, the share of wakes that took the
// most recent waiter, the most that ran at once, and what the runtime means.
#include <string>

#include "cli/demo.h"
#include "tests/catch.hpp"
#include "visualizer/model/synthetic_trace.h"

namespace cli = socklab::cli;
namespace viz = socklab::viz;

namespace {

std::string report_of(bool lifo) {
    viz::SyntheticOptions options;
    options.lifo = lifo;
    options.lines = 300;
    const socklab::trace::Trace trace = viz::make_synthetic_trace(options);
    viz::TraceModel model;
    for (const auto& [key, value] : trace.info) model.take_info(key, value);
    for (const auto& [index, thread] : trace.threads) model.take_thread(thread);
    model.take(trace.events.data(), trace.events.size());
    model.finish();
    return cli::threads_report(trace, model, 80);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("demo report: every wake counted by worker, and a LIFO run reads as LIFO") {
    const std::string text = report_of(true);
    INFO(text);
    CHECK(text.rfind("\nWhat the threads did (from the server's own trace, ", 0) == 0);
    CHECK(contains(text, "\n  runtime        synthetic, "));
    CHECK(contains(text, " processors, concurrency value 2\n"));
    CHECK(contains(text,
                   "\n  wakes          300 with two or more waiters: 300 took the most recent (LIFO),\n"
                   "                 0 the oldest (FIFO): LIFO share 100%\n"));
    CHECK(contains(text, "\n  running        at most 2 workers at once, against a concurrency value of 2\n"));
    // One line a worker, its packets adding up to every wake, each with a bar of up to 40.
    unsigned total = 0;
    for (std::size_t at = text.find(" took "); at != std::string::npos; at = text.find(" took ", at + 1)) {
        const std::size_t end = text.find(" packets", at);
        if (end == std::string::npos) break;
        total += static_cast<unsigned>(std::stoul(text.substr(at + 6, end - at - 6)));
    }
    CHECK(total == 300);
}

TEST_CASE("demo report: a FIFO run reads as FIFO") {
    const std::string text = report_of(false);
    INFO(text);
    CHECK(contains(text,
                   "\n  wakes          300 with two or more waiters: 0 took the most recent (LIFO),\n"
                   "                 300 the oldest (FIFO): LIFO share 0%\n"));
}
