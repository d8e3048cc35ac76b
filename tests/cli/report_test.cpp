// tests/cli/report_test.cpp — the benchmark report's parts that need no server (cli/report_plan.h, gnuplot.h,
// report_page.h): what it plans to measure, the gnuplot script drawn from a table's own cells, the headline
// figures ranked from the tables, and the page around them.
#include <string>
#include <vector>

#include "cli/gnuplot.h"
#include "cli/report_page.h"
#include "cli/report_plan.h"
#include "tests/catch.hpp"

namespace cli = socklab::cli;

namespace {

std::vector<std::string> names(const std::vector<cli::Section>& sections) {
    std::vector<std::string> all;
    for (const cli::Section& section : sections) all.push_back(section.name);
    return all;
}

// The echo section as if run: two models measured, one not.
cli::Section measured_echo(const std::string& runtime) {
    cli::Section section = cli::plan({"iocp", "select", "blocking"}, false).at(0);
    section.result.runtime = runtime;
    cli::Table& table = section.result.table;
    table.title = "Echo";
    table.columns = {
        {"model", "model"}, {"round_trips_per_second", "round trips/s"}, {"p50_ms", "p50 ms"}, {"p99_ms", "p99 ms"}};
    table.rows = {{"iocp", "8293", "1.20", "11.0"},
                  {"select", "2906", "3.10", "28.3"},
                  {"blocking", "not measured: the server did not start", "", ""}};
    return section;
}

cli::Section measured_overhead() {
    cli::Section section = cli::plan({"iocp", "select"}, true).at(4);
    section.result.runtime = "Windows 10.0.19045";
    cli::Table& table = section.result.table;
    table.columns = {{"model", "model"}, {"cost_percent", "tracing cost %"}, {"pair_cost_range", "one pair's cost"}};
    table.rows = {{"iocp", "2.5", "-1.0..6.0"}, {"select", "-0.5", "-3.0..2.0"}};
    return section;
}

std::vector<cli::Benchmark> benchmarks_that_ran() {
    return {{"Recording one trace event", "tests/unit/trace-bench",
             "trace event, recording off: 0.23 ns\ntrace event, recording on (file sink): 9.08 ns\n", true, true},
            {"The visualizer's intake", "visualizer/viz-bench",
             "intake (decode + model)    11.5 million events/s   (target >= 2)", true, true}};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("report plan: six sections in order, minutes of load in full and seconds with --quick") {
    const std::vector<cli::Section> full = cli::plan({"iocp"}, false), quick = cli::plan({"iocp"}, true);
    CHECK(names(full) ==
          std::vector<std::string>{"echo", "slow-handler", "broadcast", "capacity", "tracing-overhead", "cost"});
    CHECK(full[0].settings.models == std::vector<std::string>{"iocp"});
    CHECK(full[0].settings.load.clients == 64);
    CHECK(full[0].settings.load.duration_seconds == 10);
    CHECK(quick[0].settings.load.clients == 8);
    CHECK(quick[0].settings.load.duration_seconds == 1);
    CHECK(full[1].settings.scenario == cli::Scenario::slow_handler);
    CHECK(full[1].settings.load.work_every == 10);
    CHECK(full[1].settings.load.work_block_ms == 50);
    CHECK(full[2].settings.load.broadcast);
    CHECK(full[2].settings.load.clients == 16);
    CHECK(full[3].settings.capacity_cap == 4000);
    CHECK(quick[3].settings.capacity_cap == 250);
    CHECK(full[4].settings.overhead_pairs == 3);
    CHECK(quick[4].settings.overhead_pairs == 1);
    CHECK(full[4].plots.at(0).target == 3);
    CHECK(full[4].plots.at(0).range_column == "pair_cost_range");
    // The cost of an echo, with the yardstick beside iocp: windows of 1000 lines (100 quick), 3 timed (1 quick).
    CHECK(full[5].settings.scenario == cli::Scenario::cost);
    CHECK(full[5].settings.models == std::vector<std::string>{"iocp", "yardstick"});
    CHECK(full[5].settings.cost.lines == 1000);
    CHECK(full[5].settings.cost.timed_windows == 3);
    CHECK(quick[5].settings.cost.lines == 100);
    CHECK(quick[5].settings.cost.timed_windows == 1);
    CHECK(full[5].plots.at(0).columns == std::vector<std::string>{"requests_per_round_trip"});
    CHECK(cli::plan({"select"}, true)[5].settings.models == std::vector<std::string>{"select"});
}

TEST_CASE("report plot: the bars are the table's cells, a model not measured has none") {
    const cli::Section echo = measured_echo("Wine 8.0");
    const std::vector<cli::PlotBars> bars = cli::plot_bars(echo.result.table, echo.plots.at(1));
    REQUIRE(bars.size() == 2);
    CHECK(bars[0].model == "iocp");
    CHECK(bars[0].values == std::vector<double>{1.2, 11.0});
    CHECK(bars[1].model == "select");
    const cli::Section overhead = measured_overhead();
    const auto ranged = cli::plot_bars(overhead.result.table, overhead.plots.at(0));
    CHECK(ranged.at(1).values == std::vector<double>{-0.5, -3.0, 2.0});  // the cost, then its low and high
}

TEST_CASE("report plot: the script says where it was measured and plots exactly the table's numbers") {
    const cli::Section echo = measured_echo("Wine 8.0");
    const std::string script = cli::plot_script(echo, echo.plots.at(0), "out/echo-throughput.png");
    CHECK(script.rfind("set terminal pngcairo size 1100,520 font 'DejaVu Sans,11' noenhanced\n"
                       "set output 'out/echo-throughput.png'\n"
                       "set title 'Echo: throughput and latency — measured under Wine 8.0 on Linux, not Windows' "
                       "font 'DejaVu Sans,13'\n"
                       "set ylabel 'round trips per second'\n",
                       0) == 0);
    CHECK(contains(script, "set yrange [0:9536.95]\n"));  // from zero to above the highest bar
    CHECK(contains(script, "$data << EOD\n\"iocp\" 8293\n\"select\" 2906\nEOD\n"));
    CHECK(contains(script, "plot $data using 2:xtic(1) title 'round trips/s' lc rgb '#2e86c1'\n"));
    CHECK_FALSE(contains(script, "blocking"));
    const std::string latency = cli::plot_script(echo, echo.plots.at(1), "l.png");
    CHECK(contains(latency, "set logscale y\nset yrange [0.05:*]\n"));
    CHECK(contains(latency,
                   "plot $data using 2:xtic(1) title 'p50 ms' lc rgb '#2e86c1', "
                   "$data using 3:xtic(1) title 'p99 ms' lc rgb '#e67e22'\n"));
}

TEST_CASE("report plot: the target line, error bars, a quote in a path, and nothing to draw") {
    const cli::Section overhead = measured_overhead();
    const std::string script = cli::plot_script(overhead, overhead.plots.at(0), "it's.png");
    CHECK(contains(script, "set output 'it''s.png'\n"));
    CHECK(contains(script, "set title 'What tracing costs — measured under Windows 10.0.19045' "));
    CHECK(contains(script, "set style histogram errorbars gap 1 lw 1.5\n"));
    CHECK(contains(script, "set arrow from graph 0, first 3 to graph 1, first 3 nohead"));
    CHECK(contains(script, "set yrange [-3.45:6.9]\n"));  // the lowest bar, and the highest or the target
    CHECK(contains(script, "plot $data using 2:3:4:xtic(1) title 'tracing cost %'"));
    cli::Section nobody = measured_echo("Wine 8.0");
    nobody.result.table.rows = {{"iocp", "not measured: the server did not start", "", ""}};
    CHECK(cli::plot_script(nobody, nobody.plots.at(0), "x.png") == "");
    std::string error;
    CHECK_FALSE(cli::draw_plot(nobody, nobody.plots.at(0), "x.png", error));
    CHECK(error == "no model was measured");
}

TEST_CASE("report page: the headline ranks the measured models best first and quotes our machinery") {
    std::vector<cli::Section> sections = {measured_echo("Wine 8.0"), measured_overhead()};
    const std::string headline = cli::headline(sections, benchmarks_that_ran(), "native");
    CHECK(headline ==
          "- **Echo throughput** (64 clients): iocp 8293 rt/s (2.9×), select 2906 rt/s (1.0×) — × is each model's "
          "throughput over the slowest's.\n"
          "- **Tracing cost** (recording on vs off, interleaved): iocp 2.5%, select -0.5% (target: 3% at most).\n"
          "- **Our machinery** (native): a trace event costs 9.1 ns recording and 0.23 ns when nobody records; the "
          "visualizer takes in 11.5 million events/s.\n");
    std::vector<cli::Benchmark> missing = benchmarks_that_ran();
    missing[1].output = "visualizer/viz-bench is not built";
    CHECK_FALSE(contains(cli::headline(sections, missing, "native"), "Our machinery"));
}

#ifndef _WIN32
TEST_CASE("report page: with Windows and Linux models, the headline ranks each runtime's rows apart") {
    cli::Section echo = measured_echo("Wine 8.0");
    echo.result.table.rows = {{"iocp", "8293", "1.20", "11.0"},
                              {"poll", "220460", "0.10", "0.9"},
                              {"select", "2906", "3.10", "28.3"},
                              {"epoll", "110230", "0.20", "1.1"}};
    cli::Section cost = cli::plan({"iocp", "poll"}, false).at(5);
    cost.result.table.columns = {{"model", "model"}, {"requests_per_round_trip", "calls/rt (count)"}};
    cost.result.table.rows = {{"iocp", "10.0"}, {"poll", "3.0"}, {"yardstick", "10.1"}};
    const std::string headline = cli::headline({echo, cost}, {}, "native");
    CHECK(headline ==
          "- **Echo throughput** (64 clients): under Wine: iocp 8293 rt/s (2.9×), select 2906 rt/s (1.0×); natively: "
          "poll 220460 rt/s (2.0×), epoll 110230 rt/s (1.0×) — × is each model's throughput over the slowest's. Each "
          "runtime is ranked apart, × against its own slowest.\n"
          "- **Calls beneath the server per echo** (wineserver requests under Wine, system calls natively) (1 "
          "connection; a count, not a timing): under Wine: yardstick 10.1, iocp 10.0; natively: poll 3.0 (most "
          "first). Each runtime is ranked apart.\n");
}
#endif

TEST_CASE("report page: how it was made, the Wine warning, each section with its plot, table and CSV") {
    cli::Section echo = measured_echo("Wine 8.0");
    echo.plots[0].drawn = true;
    cli::ReportFacts facts;
    facts.command = "./socklab report --quick";
    facts.started = "2024-05-01 14:03 UTC";
    facts.seconds = 42;
    facts.machine = "a test machine";
    facts.machinery_where = "native";
    facts.processors = 2;
    const std::string text = cli::page({echo}, benchmarks_that_ran(), facts);
    CHECK(text.rfind("# socklab benchmark report — measured under Wine 8.0 on Linux, not Windows\n\n"
                     "Produced by `./socklab report --quick` on 2024-05-01 14:03 UTC in 42 seconds. Every number "
                     "below comes from that run; run the command again to replace them all.\n\n"
                     "- **Runtime:** Wine 8.0 (the Windows servers, cross-compiled with MinGW-w64)\n"
                     "- **Machine:** a test machine\n",
                     0) == 0);
    CHECK(contains(text, "- **Plots:** none: gnuplot was not found on this machine"));
    CHECK(contains(text,
                   "**Read these as a comparison of the models with each other under Wine, not as Windows "
                   "figures.**"));
    CHECK(contains(text, "for the 2 processors — except in the tracing-overhead scenario"));
    CHECK(contains(text, "## Echo: throughput and latency\n\n*Which model answers the most small requests"));
    CHECK(contains(text, "![Echo: throughput and latency](echo-throughput.png)\n\n###"));
    CHECK_FALSE(contains(text, "(echo-latency.png)"));                 // not drawn
    CHECK(contains(text, "\n### Echo\n\n| model | round trips/s |"));  // the table's title, one level down
    CHECK(contains(text, "Data: [echo.csv](echo.csv)\n"));
    CHECK(contains(text,
                   "## Our own machinery\n\n*Does the tracer cost nearly nothing, and can the visualizer keep "
                   "up?* Native builds, not Wine: these time our own code, not Winsock.\n"));
    CHECK(contains(text,
                   "### Recording one trace event\n\n`build/linux/tests/unit/trace-bench`:\n\n```\n"
                   "trace event, recording off: 0.23 ns\n"));
    CHECK(contains(text, "intake (decode + model)    11.5 million events/s   (target >= 2)\n```\n"));
    facts.gnuplot = "gnuplot 5.4 patchlevel 4";
    facts.seconds = 600;
    const std::string drawn = cli::page({measured_overhead()}, {}, facts);
    CHECK(contains(drawn, " in 10 minutes. "));
    CHECK(contains(drawn, "- **Plots:** drawn by gnuplot 5.4 patchlevel 4 from the tables' own cells\n"));
    CHECK(drawn.rfind("# socklab benchmark report — measured under Windows 10.0.19045\n", 0) == 0);
    CHECK_FALSE(contains(drawn, "Read these as a comparison"));
}
