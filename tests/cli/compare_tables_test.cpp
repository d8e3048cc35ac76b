// tests/cli/compare_tables_test.cpp — the table of each compare scenario from measurements made up here
// (cli/compare_tables.h): the title that names the load and where it was measured, a row per model in the
// table's units, a row saying why a model was not measured, and the notes a Wine table must carry.
#include <string>
#include <thread>
#include <vector>

#include "cli/compare_tables.h"
#include "tests/catch.hpp"

namespace cli = socklab::cli;

namespace {

const std::string kProcessors = std::to_string(std::thread::hardware_concurrency()) + " processors";

cli::CompareSettings two_clients(cli::Scenario scenario) {
    cli::CompareSettings settings;
    settings.models = {"iocp", "select"};
    settings.scenario = scenario;
    settings.load.clients = 2;
    settings.load.line_size = 64;
    settings.load.duration_seconds = 5;
    return settings;
}

cli::LoadMeasurement measured_iocp() {
    cli::LoadMeasurement run;
    run.model = "iocp";
    run.runtime = "Wine 8.0";
    run.started = true;
    run.load.lines_per_second = 8293.4;
    run.load.deliveries_per_second = 16586.8;
    run.load.echo_latency_p50_us = 1200;
    run.load.echo_latency_p99_us = 3400;
    run.load.echo_latency_max_us = 9000;
    run.load.mismatches = 1;
    run.load.errors = 2;
    run.server.threads_most = 6;
    run.server.connections_most = 2;
    run.server.peak_working_set_mib = 12.46;
    run.server.cpu_seconds = 0.754;
    return run;
}

cli::LoadMeasurement not_started(const std::string& model) {
    cli::LoadMeasurement run;
    run.model = model;
    run.failure = "the server did not start";
    return run;
}

// Three runs as a mixed comparison measures them: under Wine, natively, and under Wine again.
const std::vector<cli::Measured>& mixed_runtime_rows() {
    static const std::vector<cli::Measured> rows = {
        {"iocp", "Wine 8.0", true, ""}, {"poll", "Linux 6.1.0-28-amd64", true, ""}, {"select", "Wine 8.0", true, ""}};
    return rows;
}

std::vector<std::string> labels(const cli::Table& table) {
    std::vector<std::string> names;
    for (const auto& column : table.columns) names.push_back(column.label);
    return names;
}

const char* const kWineNote =
    "Measured under Wine: every overlapped WSARecv/WSASend is a round trip to wineserver, and Wine wakes "
    "completion-port waiters FIFO and ignores the concurrency value. Compare the models with each other; on "
    "Windows the absolute figures, and the IOCP models' lead, would differ.";

}  // namespace

TEST_CASE("compare table: echo has one row a model in its units, a failure row, and the Wine note") {
    const cli::Table table =
        cli::load_table(two_clients(cli::Scenario::echo), {measured_iocp(), not_started("select")}, "Wine 8.0");
    CHECK(table.title == "Echo: 2 clients, 64-byte lines, 5 s closed loop; measured under Wine 8.0, " + kProcessors);
    CHECK(labels(table) == std::vector<std::string>{"model", "round trips/s", "p50 ms", "p99 ms", "max ms", "threads",
                                                    "connections", "peak memory MiB", "CPU s", "wrong or lost"});
    REQUIRE(table.rows.size() == 2);
    CHECK(table.rows[0] ==
          std::vector<std::string>{"iocp", "8293", "1.20", "3.40", "9.00", "6", "2", "12.5", "0.75", "3"});
    CHECK(table.rows[1] ==
          std::vector<std::string>{"select", "not measured: the server did not start", "", "", "", "", "", "", "", ""});
    CHECK(table.notes == std::vector<std::string>{kWineNote});
    CHECK(table.number(0, "p99_ms") == 3.4);
}

TEST_CASE("compare table: a slow-handler mix names it in the title and whose latency it is") {
    cli::CompareSettings settings = two_clients(cli::Scenario::slow_handler);
    settings.load.work_every = 10;
    settings.load.work_block_ms = 50;
    const cli::Table table = cli::load_table(settings, {measured_iocp()}, "Windows 10.0.19045");
    CHECK(table.title ==
          "Slow handlers: 2 clients, 64-byte lines, 5 s closed loop, every 10th line /work 0 50; "
          "measured under Windows 10.0.19045, " +
              kProcessors);
    CHECK(labels(table)[2] == "echo p50 ms");
    REQUIRE(table.notes.size() == 1);  // no Wine note on a Windows table
    CHECK(table.notes[0].rfind("Every 10th line of each client is `/work 0 50`: its handler blocks.", 0) == 0);
}

TEST_CASE("compare table: a broadcast counts broadcasts and deliveries, and its latency is the OK all reply's") {
    cli::CompareSettings settings = two_clients(cli::Scenario::broadcast);
    settings.load.broadcast = true;
    settings.load.lines_per_client = 100;
    const cli::Table table = cli::load_table(settings, {measured_iocp()}, "Wine 8.0");
    CHECK(table.title ==
          "Broadcast: 2 clients, 64-byte lines, 100 lines each; measured under Wine 8.0, " + kProcessors);
    CHECK(labels(table) == std::vector<std::string>{"model", "broadcasts/s", "deliveries/s", "reply p50 ms",
                                                    "reply p99 ms", "reply max ms", "threads", "connections",
                                                    "peak memory MiB", "CPU s", "wrong or lost"});
    CHECK(table.rows.at(0).at(2) == "16587");
    REQUIRE(table.notes.size() == 2);
    CHECK(table.notes[0].rfind("Every line is `/all <text>`", 0) == 0);
    CHECK(table.notes[1] == kWineNote);
}

TEST_CASE("compare table: capacity says how many each held, its steps, and the first problem") {
    cli::CompareSettings settings = two_clients(cli::Scenario::capacity);
    settings.capacity_cap = 250;
    cli::CapacityMeasurement iocp, select;
    iocp.model = "iocp";
    select.model = "select";
    iocp.started = select.started = true;
    cli::CapacityStep step;
    step.clients = 100;
    step.held = true;
    step.server.threads_most = 5;
    step.server.peak_working_set_mib = 10;
    iocp.steps.push_back(step);
    select.steps.push_back(step);
    step.clients = 250;
    step.server.threads_most = 9;
    step.server.peak_working_set_mib = 20.04;
    iocp.steps.push_back(step);
    step.held = false;
    step.problem = "client 3: the server closed the connection";
    select.steps.push_back(step);
    select.failure = "the server exited with 1";
    const cli::Table table = cli::capacity_table(settings, {iocp, select}, "Wine 8.0");
    CHECK(table.title ==
          "Capacity: concurrent clients held, every one echoing 3 lines correctly, up to 250; "
          "measured under Wine 8.0, " +
              kProcessors);
    REQUIRE(table.rows.size() == 2);
    CHECK(table.rows[0] == std::vector<std::string>{"iocp", "250", "9", "20.0", "100 yes 250 yes", ""});
    CHECK(table.rows[1] == std::vector<std::string>{"select", "100", "9", "20.0", "100 yes 250 NO",
                                                    "client 3: the server closed the connection; then the server "
                                                    "exited with 1"});
    CHECK(table.notes.size() == 2);
}

TEST_CASE("compare table: tracing overhead is the cost over all pairs and the spread of single pairs") {
    cli::CompareSettings settings = two_clients(cli::Scenario::tracing_overhead);
    settings.load.duration_seconds = 4;
    settings.overhead_pairs = 2;
    CHECK(cli::overhead_segment(settings).duration_seconds == 1);
    cli::OverheadMeasurement run;
    run.model = "iocp";
    run.started = true;
    run.off = {1000, 1000};
    run.on = {950, 850};
    cli::OverheadMeasurement lossy = run;
    lossy.model = "select";
    lossy.problem = "client 1: line 4 never echoed";
    const cli::Table table = cli::overhead_table(settings, {run, lossy}, "Windows 10.0.19045");
    CHECK(table.title ==
          "Tracing overhead: 2 clients, 64-byte lines, 1 s closed loop per segment, 2 off/on pairs "
          "interleaved; measured under Windows 10.0.19045, " +
              kProcessors);
    REQUIRE(table.rows.size() == 2);
    CHECK(table.rows[0] == std::vector<std::string>{"iocp", "1000", "900", "10.0", "5.0..15.0", "0"});
    CHECK(table.rows[1].back() == "client 1: line 4 never echoed");
    CHECK(table.notes.size() == 1);
}

TEST_CASE("compare table: a native Linux run says so in the title, and mixed runtimes get a runtime column") {
    cli::LoadMeasurement poll = measured_iocp();
    poll.model = "poll";
    poll.runtime = "Linux 6.1.0-28-amd64";
    const cli::Table native = cli::load_table(two_clients(cli::Scenario::echo), {poll}, "Linux 6.1.0-28-amd64");
    CHECK(native.title ==
          "Echo: 2 clients, 64-byte lines, 5 s closed loop; measured natively on Linux 6.1.0-28-amd64, " + kProcessors);
    CHECK(native.notes.empty());  // no Wine note, and one runtime needs no column
    CHECK(labels(native)[1] == "round trips/s");

    // A Windows model under Wine beside a Linux model natively: both named in the title, each row says its own.
    const cli::Table mixed =
        cli::load_table(two_clients(cli::Scenario::echo), {measured_iocp(), poll, not_started("epoll")},
                        "Wine 8.0 and Linux 6.1.0-28-amd64");
    CHECK(mixed.title ==
          "Echo: 2 clients, 64-byte lines, 5 s closed loop; measured under Wine 8.0 and natively on Linux "
          "6.1.0-28-amd64, " +
              kProcessors + " (the runtime column says which row ran where)");
    CHECK(labels(mixed)[1] == "runtime");
    REQUIRE(mixed.rows.size() == 3);
    CHECK(mixed.rows[0][0] == "iocp");
    CHECK(mixed.rows[0][1] == "Wine 8.0");
    CHECK(mixed.rows[0][2] == "8293");
    CHECK(mixed.rows[1][1] == "Linux 6.1.0-28-amd64");
    CHECK(mixed.rows[2][1] == "");  // never started: no runtime to name
    CHECK(mixed.rows[2][2] == "not measured: the server did not start");
    REQUIRE(mixed.notes.size() == 2);
    CHECK(mixed.notes[0].find("different runtimes") != std::string::npos);
    CHECK(mixed.notes[1] == kWineNote);
    CHECK(mixed.number(1, "round_trips_per_second") == 8293);  // the plots find their columns by key still

    // The runtime line of a comparison names each runtime once, in order.
    CHECK(cli::runtime_of({&mixed_runtime_rows()[0], &mixed_runtime_rows()[1], &mixed_runtime_rows()[2]}) ==
          "Wine 8.0 and Linux 6.1.0-28-amd64");
}

TEST_CASE("compare table: a report's or a plot's title says where, natively, under Wine, or both") {
    CHECK(cli::measured_where("Wine 8.0") == "measured under Wine 8.0 on Linux, not Windows");
    CHECK(cli::measured_where("Linux 6.1.0-28-amd64") == "measured natively on Linux 6.1.0-28-amd64");
    CHECK(cli::measured_where("Windows 10.0.19045") == "measured under Windows 10.0.19045");
    const std::string both =
        "measured under Wine 8.0 (the Windows models) and natively on Linux 6.1.0-28-amd64 (the Linux models), not "
        "on Windows";
    CHECK(cli::measured_where("Wine 8.0 and Linux 6.1.0-28-amd64") == both);
    CHECK(cli::measured_where("Linux 6.1.0-28-amd64 and Wine 8.0") == both);
}
