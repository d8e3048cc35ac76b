// tests/cli/cost_test.cpp — the pure parts of the cost scenario (cli/cost.h), from fixed input: wineserver's debug
// lines into requests per process, /proc's figures, the spread of a rate, the command that runs a server in the
// private prefix, the cost table's cells (a failed throughput run's among them), notes and layout in an 80-column
// terminal, and the --throughput-seconds flag.
#include <string>
#include <thread>
#include <vector>

#ifndef _WIN32
#include <unistd.h>  // getpid
#endif

#include "cli/compare.h"
#include "cli/cost.h"
#include "cli/terminal.h"
#include "tests/catch.hpp"

namespace cli = socklab::cli;

namespace {

// A private wineserver's output, shortened but in its real shape (Wine 8.0, `wineserver -p -f -d1`): wineboot
// (Linux pid 500) starts; the server (Linux pid 600) starts, makes a worker in its own process and a thread in
// another process, and echoes once; the unknown thread 0300 (a service started before the log) asks too.
const std::vector<std::string> kLog = {
    "wineserver: starting (pid=17291)",
    "0024: *fd* 7 <- 23",
    "0024: init_first_thread( unix_pid=500, unix_tid=500, debug_level=0, reply_fd=7, wait_fd=9 )",
    "0024: init_first_thread() = 0 { pid=0020, tid=0024, server_start=1dd8263f75bb906 (-0.4819030) }",
    "0024: close_handle( handle=0004 )",
    "0024: close_handle() = 0",
    "0118: init_first_thread( unix_pid=600, unix_tid=600, debug_level=0, reply_fd=7, wait_fd=9 )",
    "0118: init_first_thread() = 0 { pid=0114, tid=0118, server_start=1dd8263f75bb906 (-0.0020720) }",
    "0118: new_thread( process=ffffffff, access=001fffff, flags=00000001, request_fd=-1, objattr={} )",
    "0118: *fd* 02f6 -> 29",
    "0118: new_thread() = 0 { tid=012c, handle=0078 }",
    "0118: new_thread( process=0060, access=001fffff, flags=00000001, request_fd=-1, objattr={} )",
    "0118: new_thread() = 0 { tid=0200, handle=007c }",
    "012c: init_thread( unix_tid=601, reply_fd=12, wait_fd=14, teb=67fd0000, entry=368454420 )",
    "012c: init_thread() = 0 { suspend=0 }",
    "012c: recv_socket( async={handle=0058,event=0000,iosb=0021f8b0}, status=00000103, total=0 )",
    "012c: recv_socket() = PENDING { wait=0000, options=00000020, nonblocking=0 }",
    "012c: select( flags=2, cookie=0239e44c, timeout=infinite, size=8, prev_apc=0000, result={} )",
    "012c: *wakeup* signaled=0",
    "012c: select() = 0 { call={APC_NONE}, apc_handle=0000, signaled=1, contexts={} }",
    "012c: remove_completion( handle=0010 )",
    "012c: remove_completion() = 0 { ckey=7f6bd0000b90, cvalue=21f8b0, information=64, status=0 }",
    "012c: send_socket( async={handle=0058}, status=00000000, total=64, force_async=0 )",
    "012c: send_socket() = 0 { wait=0000, options=00000020, nonblocking=0 }",
    "0200: get_startup_info( )",
    "0300: select( flags=2, cookie=0239e44c, timeout=infinite, size=8, prev_apc=0000, result={} )",
    "0024: get_key_value( hkey=0004, name=L\"ShowDotFiles\" )",
};

// A run as measure_cost leaves it: counted windows with these calls, timed windows with these CPU times, and the
// throughput runs at 1, 4 and 64 clients with these rates, every one right.
cli::CostMeasurement measured(const std::string& model, std::vector<std::uint64_t> calls,
                              std::vector<double> cpu_seconds, std::vector<double> rates = {2950.4, 5901, 6120.6}) {
    cli::CostMeasurement run;
    run.model = model;
    run.runtime = "Wine 8.0";
    run.started = true;
    run.counted = "wineserver requests";
    for (std::uint64_t count : calls) {
        cli::CostWindow window;
        window.round_trips = 1000;
        window.calls = count;
        run.counts.push_back(window);
    }
    for (std::size_t i = 0; i < cpu_seconds.size(); ++i) {
        cli::CostWindow window;
        window.round_trips = 1000;
        window.cpu_seconds = cpu_seconds[i];
        window.switches = 6000 + 100 * i;
        window.p50_us = 400 + 10.0 * static_cast<double>(i);
        window.p99_us = 900;
        run.timings.push_back(window);
    }
    const std::vector<unsigned> clients = cli::CostSettings{}.throughput_clients;
    for (std::size_t i = 0; i < rates.size(); ++i) run.throughputs.push_back({clients.at(i), rates[i], true});
    return run;
}

const std::string kProcessors = std::to_string(std::thread::hardware_concurrency()) + " processors";

}  // namespace

TEST_CASE("cost: a wineserver request line is its thread and name, and replies, events and other lines are not") {
    const auto request = cli::wineserver_request("012c: recv_socket( async={handle=0058}, status=00000103 )");
    REQUIRE(request);
    CHECK(request->thread == 0x12c);
    CHECK(request->name == "recv_socket");
    const auto bare = cli::wineserver_request("0200: get_startup_info( )");
    REQUIRE(bare);
    CHECK(bare->name == "get_startup_info");
    CHECK_FALSE(cli::wineserver_request("012c: recv_socket() = PENDING { wait=0000 }"));
    CHECK_FALSE(cli::wineserver_request("012c: *wakeup* signaled=0"));
    CHECK_FALSE(cli::wineserver_request("0118: *fd* 02f6 -> 29"));
    CHECK_FALSE(cli::wineserver_request("wineserver: starting (pid=17291)"));
    CHECK_FALSE(cli::wineserver_request("sock_init: shutdown() causes EOF"));
    CHECK_FALSE(cli::wineserver_request(""));
}

TEST_CASE("cost: requests are counted per process, its threads traced from its first thread's Linux pid") {
    cli::WineserverTally tally;
    for (const std::string& line : kLog) tally.take(line);
    CHECK(tally.lines() == kLog.size());
    // The server: its first thread's init_first_thread and two new_thread requests, and its worker's init_thread,
    // recv_socket, select, remove_completion, send_socket. Not the thread it made in another process (0200), not
    // the unknown 0300, not wineboot's.
    CHECK(tally.requests(600) == 8);
    const std::map<std::string, std::uint64_t> kinds = tally.requests_by_name(600);
    CHECK(kinds == std::map<std::string, std::uint64_t>{{"init_first_thread", 1},
                                                        {"new_thread", 2},
                                                        {"init_thread", 1},
                                                        {"recv_socket", 1},
                                                        {"select", 1},
                                                        {"remove_completion", 1},
                                                        {"send_socket", 1}});
    CHECK(tally.requests(500) == 3);  // wineboot: init_first_thread, close_handle, get_key_value
    CHECK(tally.requests(700) == 0);  // never seen
    CHECK(tally.requests_by_name(700).empty());
}

TEST_CASE("cost: a window is the difference of two counts, whatever came before it") {
    cli::WineserverTally tally;
    for (std::size_t i = 0; i < 15; ++i) tally.take(kLog[i]);  // up to the worker's init_thread reply
    const std::uint64_t before = tally.requests(600);
    CHECK(before == 4);
    for (std::size_t i = 15; i < kLog.size(); ++i) tally.take(kLog[i]);
    CHECK(tally.requests(600) - before == 4);  // recv_socket, select, remove_completion, send_socket
}

TEST_CASE("cost: a strace line that starts a system call is its name; a resumption or an exit is no call") {
    CHECK(cli::strace_call("20492 recvfrom(5, \"\"..., 4096, 0, NULL, NULL) = 64") == "recvfrom");
    CHECK(cli::strace_call("20493 epoll_wait(4,  <unfinished ...>") == "epoll_wait");
    CHECK(cli::strace_call("939   brk(NULL)                         = 0x55b6bd80e000") == "brk");  // a short id, padded
    CHECK(cli::strace_call("20492 io_uring_enter(3, 1, 1, IORING_ENTER_GETEVENTS, NULL, 8) = 1") == "io_uring_enter");
    CHECK_FALSE(cli::strace_call("20493 <... epoll_wait resumed>[{events=EPOLLIN, data={u32=7}}], 64, -1) = 1"));
    CHECK_FALSE(cli::strace_call("20492 +++ exited with 0 +++"));
    CHECK_FALSE(cli::strace_call("20492 --- SIGPIPE {si_signo=SIGPIPE} ---"));
    CHECK_FALSE(cli::strace_call("recvfrom(5, ...) = 64"));  // no thread id: not a line of strace -f
    CHECK_FALSE(cli::strace_call(""));
}

TEST_CASE("cost: /proc's run time and context switches of a thread") {
    CHECK(cli::schedstat_seconds("1338911000 2879563 40\n") == Approx(1.338911));
    CHECK_FALSE(cli::schedstat_seconds(""));
    CHECK_FALSE(cli::schedstat_seconds("none"));
    const std::string status =
        "Name:\tsocklab-server.\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t1234\n"
        "nonvoluntary_ctxt_switches:\t56\n";
    CHECK(cli::status_switches("\n" + status) == 1290u);
    CHECK_FALSE(cli::status_switches("\nName:\tx\nvoluntary_ctxt_switches:\t3\n"));
}

TEST_CASE("cost: this process's counters can be read (Linux)") {
#ifndef _WIN32
    cli::ProcessCounters counters;
    REQUIRE(cli::read_process_counters(static_cast<std::uint32_t>(::getpid()), counters));
    CHECK(counters.cpu_seconds > 0);
    CHECK_FALSE(cli::read_process_counters(0, counters));  // no /proc/0
#endif
}

TEST_CASE("cost: a rate's cell is one figure when its runs agree, else the median and the range") {
    CHECK(cli::spread_cell({412.2, 411.8, 412.4}, 0) == "412");
    CHECK(cli::spread_cell({440, 398, 412}, 0) == "412 (398-440)");
    CHECK(cli::spread_cell({17.2, 18.0}, 1) == "17.6 (17.2-18.0)");  // an even count: the mean of the middle two
    CHECK(cli::spread_cell({}, 1) == "");
}

TEST_CASE("cost: the runtime label names the host under Wine, and the private prefix is passed to wine-run") {
    CHECK(cli::runtime_label("Wine 8.0", "Linux 6.1.0-28-amd64") == "Wine 8.0 on Linux 6.1.0-28-amd64");
    CHECK(cli::runtime_label("Windows 10.0.19045", "") == "Windows 10.0.19045");
    CHECK(cli::runtime_label("Wine 8.0", "") == "Wine 8.0");
    CHECK(cli::in_prefix("/p/wine-cost", {"/r/cmake/wine-run", "/r/build/mingw/bin/socklab-server.exe", "iocp"}) ==
          std::vector<std::string>{"/usr/bin/env", "SOCKLAB_WINEPREFIX=/p/wine-cost", "/r/cmake/wine-run",
                                   "/r/build/mingw/bin/socklab-server.exe", "iocp"});
}

TEST_CASE("cost table: a row per model in its units, the counted figure marked, a failure row, and the notes") {
    cli::CostSettings settings;
    cli::CostMeasurement iocp = measured("iocp", {17660, 17660}, {0.330, 0.314, 0.341});
    iocp.kinds = {{"select", 5.21},   {"remove_completion", 4.03}, {"event_op", 2.5},
                  {"send_socket", 1}, {"recv_socket", 1},          {"get_handle_fd", 2.4}};
    cli::CostMeasurement yardstick = measured(cli::kYardstick, {12500, 12700}, {0.2, 0.2, 0.2}, {3100, 6250.4, 6400});
    cli::CostMeasurement broken;
    broken.model = "select";
    broken.failure = "the server did not start";
    const cli::Table table = cli::cost_table(settings, {iocp, yardstick, broken}, "Wine 8.0 on Linux 6.1.0-28-amd64");
    CHECK(table.title ==
          "Cost per echoed line: 1 connection, 64-byte lines, 1000 round trips a window; throughput at 1, 4 and 64 "
          "clients, 2 s each; measured under Wine 8.0 on Linux 6.1.0-28-amd64, " +
              kProcessors);
    std::vector<std::string> labels, keys;
    for (const auto& column : table.columns) {
        labels.push_back(column.label);
        keys.push_back(column.key);
    }
    CHECK(labels == std::vector<std::string>{"model", "requests/rt (count)", "CPU µs/rt", "switches/rt", "p50 µs",
                                             "p99 µs", "rt/s 1 conn", "rt/s 4 conns", "rt/s 64 conns"});
    // The ids CSV and JSON name the columns by.
    CHECK(
        std::vector<std::string>(keys.begin() + 6, keys.end()) ==
        std::vector<std::string>{"round_trips_per_second_1", "round_trips_per_second_4", "round_trips_per_second_64"});
    REQUIRE(table.rows.size() == 3);
    CHECK(table.rows[0] == std::vector<std::string>{"iocp", "17.7", "330 (314-341)", "6.1 (6.0-6.2)", "410 (400-420)",
                                                    "900", "2950", "5901", "6121"});
    CHECK(table.rows[1] == std::vector<std::string>{"yardstick", "12.6 (12.5-12.7)", "200", "6.1 (6.0-6.2)",
                                                    "410 (400-420)", "900", "3100", "6250", "6400"});
    CHECK(table.rows[2] ==
          std::vector<std::string>{"select", "not measured: the server did not start", "", "", "", "", "", "", ""});
    CHECK(table.number(0, "requests_per_round_trip") == Approx(17.7));
    CHECK(table.number(1, "round_trips_per_second_64") == Approx(6400));
    REQUIRE(table.notes.size() == 6);
    CHECK(table.notes[0].rfind("requests/rt is a count, not a timing:", 0) == 0);
    CHECK(table.notes[1].rfind("CPU µs/rt (user + system, every thread of the server process)", 0) == 0);
    CHECK(table.notes[2] ==
          "rt/s N conns: round trips per second with N clients, measured on that second start after its windows by "
          "socklab's load generator: closed loop, one line in flight per client (its next line sent once the last "
          "has come back), 2 s at each of 1, 4 and 64 clients, every echo checked byte for byte. Rates of a shared "
          "machine from one run, one figure each: compare the rows with each other.");
    CHECK(table.notes[3] ==
          "The most frequent requests per round trip — iocp: select 5.2, remove_completion 4.0, event_op 2.5, "
          "get_handle_fd 2.4, recv_socket 1.0.");
    CHECK(table.notes[4].rfind("yardstick is not a model: bench/iocp_yardstick.cpp", 0) == 0);
    CHECK(table.notes[5].rfind("Measured under Wine:", 0) == 0);
}

TEST_CASE("cost table: native rows count system calls, and a table with both kinds of count says they differ") {
    cli::CostMeasurement iocp = measured("iocp", {10000, 10000}, {0.1, 0.1, 0.1});
    cli::CostMeasurement poll = measured("poll", {4000, 4000}, {0.02, 0.02, 0.02});
    poll.runtime = "Linux 6.1.0-28-amd64";
    poll.counted = cli::kSystemCalls;
    auto labels_and_notes = [](const cli::Table& table) {
        std::vector<std::string> found{table.columns.at(1).label};
        for (const std::string& note : table.notes) found.push_back(note.substr(0, note.find(':')));
        return found;
    };
    const cli::Table native = cli::cost_table(cli::CostSettings{}, {poll}, "Linux 6.1.0-28-amd64");
    CHECK(native.rows.at(0).at(1) == "4.0");
    CHECK(labels_and_notes(native) ==
          std::vector<std::string>{
              "syscalls/rt (count)", "syscalls",
              "CPU µs/rt (user + system, every thread of the server process), switches/rt (voluntary + involuntary "
              "context switches of those threads, from /proc) and the round-trip latency p50 and p99 are rates of a "
              "shared machine, measured on a second start of the server without its counter (under Wine, beside the "
              "ordinary wineserver; natively, without strace)",
              "rt/s N conns"});
    const cli::Table both = cli::cost_table(cli::CostSettings{}, {iocp, poll}, "Wine 8.0 and Linux 6.1.0-28-amd64");
    CHECK(both.columns.at(1).label == "calls/rt (count)");
    CHECK(both.rows.at(0).at(1) == "10.0");
    CHECK(both.rows.at(1).at(1) == "4.0");
    REQUIRE(both.notes.size() >= 3);
    CHECK(both.notes[0] ==
          "calls/rt counts what each server asks of the layer beneath it: wineserver requests for the Windows servers "
          "(under Wine), system calls for the native Linux ones. The two are different units: compare a row with the "
          "rows of its own runtime.");
    CHECK(both.notes[1].rfind("syscalls: the native servers' system calls per round trip, counted from `strace -f`",
                              0) == 0);
    CHECK(both.notes[2].rfind("requests/rt is a count, not a timing:", 0) == 0);
}

TEST_CASE("cost table: a failed throughput run's cell says failed, a note says why, and the windows' figures stand") {
    cli::CostSettings settings;
    settings.throughput_seconds = 0.5;
    // Right at 1 client, a wrong byte at 4; no run at 64 after it. As measure_cost leaves it: the problem is the
    // model's (compare lists it and exits 1).
    cli::CostMeasurement iocp = measured("iocp", {17660, 17660}, {0.330, 0.314, 0.341}, {2950.4});
    iocp.throughputs.push_back({4, 812, false});
    iocp.problem = "throughput at 4 clients: client 2 line 7: the echo differs from the line sent";
    REQUIRE(iocp.throughput_failed());
    // A wrong echo in a window leaves nothing to show, as before: no throughput run was made.
    cli::CostMeasurement select = measured("select", {9000, 9000}, {0.1, 0.1, 0.1}, {});
    select.problem = "line 12: the echo differs from the line sent";
    REQUIRE_FALSE(select.throughput_failed());
    const cli::Table table = cli::cost_table(settings, {iocp, select}, "Wine 8.0");
    CHECK(table.title.find("; throughput at 1, 4 and 64 clients, 0.5 s each; measured under Wine 8.0, ") !=
          std::string::npos);
    REQUIRE(table.rows.size() == 2);
    CHECK(table.rows[0] == std::vector<std::string>{"iocp", "17.7", "330 (314-341)", "6.1 (6.0-6.2)", "410 (400-420)",
                                                    "900", "2950", "failed", ""});
    CHECK(table.rows[1] == std::vector<std::string>{"select",
                                                    "not measured: line 12: the echo differs from the line sent", "",
                                                    "", "", "", "", "", ""});
    REQUIRE(table.notes.size() == 5);
    CHECK(table.notes[2].find(", 0.5 s at each of 1, 4 and 64 clients, ") != std::string::npos);
    CHECK(table.notes[3] ==
          "iocp: throughput at 4 clients: client 2 line 7: the echo differs from the line sent (that run's cell says "
          "failed; no run was made after it).");
    const std::string shown = cli::fit_table(table, 80);
    INFO(shown);
    CHECK(shown.find("\niocp\n"
                     "  requests/rt (count)  17.7\n"
                     "  CPU µs/rt            330 (314-341)\n"
                     "  switches/rt          6.1 (6.0-6.2)\n"
                     "  p50 µs               410 (400-420)\n"
                     "  p99 µs               900\n"
                     "  rt/s 1 conn          2950\n"
                     "  rt/s 4 conns         failed\n"
                     "  rt/s 64 conns        -\n") != std::string::npos);
}

TEST_CASE("cost table: without a counter the call column says so, and an 80-column terminal gets a block a row") {
    cli::CostMeasurement blocking = measured("blocking", {}, {0.034, 0.030, 0.038}, {2410.2, 8125, 7990.6});
    blocking.counted = "";
    blocking.not_counted = "calls are counted under Wine on Linux only (wineserver's requests)";
    blocking.runtime = "Windows 10.0.19045";
    const cli::Table table = cli::cost_table(cli::CostSettings{}, {blocking}, "Windows 10.0.19045");
    CHECK(table.columns[1].label == "calls/rt");
    CHECK(table.rows.at(0) == std::vector<std::string>{"blocking", "-", "34 (30-38)", "6.1 (6.0-6.2)", "410 (400-420)",
                                                       "900", "2410", "8125", "7991"});
    CHECK(table.notes.at(0) ==
          "calls/rt: not counted here: calls are counted under Wine on Linux only (wineserver's requests).");
    cli::CostMeasurement unread = blocking;  // where /proc could not be read (Windows): no CPU or switches
    unread.timings[1].process_read = false;
    CHECK(cli::cost_table(cli::CostSettings{}, {unread}, "Windows 10.0.19045").rows.at(0) ==
          std::vector<std::string>{"blocking", "-", "-", "-", "410 (400-420)", "900", "2410", "8125", "7991"});
    const std::string shown = cli::fit_table(table, 80);
    INFO(shown);
    CHECK(shown.find("\nblocking\n"
                     "  calls/rt       -\n"
                     "  CPU µs/rt      34 (30-38)\n"
                     "  switches/rt    6.1 (6.0-6.2)\n"
                     "  p50 µs         410 (400-420)\n"
                     "  p99 µs         900\n"
                     "  rt/s 1 conn    2410\n"
                     "  rt/s 4 conns   8125\n"
                     "  rt/s 64 conns  7991\n") != std::string::npos);
    std::size_t begin = 0;
    for (std::size_t end; (end = shown.find('\n', begin)) != std::string::npos; begin = end + 1)
        CHECK(cli::display_width(shown.substr(begin, end - begin)) <= 80);
}

TEST_CASE("cost: --throughput-seconds sets each throughput run's length, 2 s unless given") {
    auto standard = cli::parse_compare_command({"--scenario", "cost"});
    REQUIRE(standard.request.settings.cost.throughput_seconds == 2);
    CHECK(standard.request.settings.cost.throughput_clients == std::vector<unsigned>{1, 4, 64});
    auto shorter = cli::parse_compare_command({"iocp", "--scenario", "cost", "--throughput-seconds", "0.5"});
    REQUIRE_FALSE(shorter.early_exit);
    CHECK(shorter.request.settings.cost.throughput_seconds == 0.5);
    auto none = cli::parse_compare_command({"--scenario", "cost", "--throughput-seconds", "0"});
    REQUIRE(none.early_exit);
    CHECK(none.early_exit->text == "socklab compare: --throughput-seconds wants a number from 0.5 to 600, not '0'\n");
}
