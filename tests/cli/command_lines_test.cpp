// tests/cli/command_lines_test.cpp — what each command reads from its command line, called as the command calls
// it (parse_<command>_command): the request it goes on with, and for a wrong use the exact message and exit code
// a user gets, before anything starts. Also the lines `socklab load` prints around the load.
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "cli/compare.h"
#include "cli/connect.h"
#include "cli/demo.h"
#include "cli/lesson.h"
#include "cli/load_command.h"
#include "cli/report.h"
#include "tests/catch.hpp"

namespace cli = socklab::cli;

namespace {

// The message a command stops with ("" when it goes on), and its exit code in `code`.
template <typename Request>
std::string stop_message(const cli::Parsed<Request>& parsed, int* code = nullptr) {
    if (!parsed.early_exit) return "";
    if (code) *code = parsed.early_exit->exit_code;
    return parsed.early_exit->text;
}

// Sets an environment variable for the length of a test, then puts back what was there.
class ScopedEnvironment {
public:
    ScopedEnvironment(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        ::setenv(name, value, 1);
    }
    ~ScopedEnvironment() {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

// ---- load ----
TEST_CASE("load: the flags become the load generator's options, its defaults kept for the rest") {
    const auto parsed = cli::parse_load_command({"--port", "6000", "--clients=8", "--size", "128", "--broadcast",
                                                 "--work-every", "10", "--work-block", "50", "--quiet"});
    REQUIRE(stop_message(parsed) == "");
    const socklab::load::Options& options = parsed.request.options;
    CHECK(options.host == "127.0.0.1");
    CHECK(options.port == 6000);
    CHECK(options.clients == 8);
    CHECK(options.line_size == 128);
    CHECK(options.broadcast);
    CHECK(options.work_every == 10);
    CHECK(options.work_cpu_ms == 0);
    CHECK(options.work_block_ms == 50);
    CHECK(options.in_flight == 1);
    CHECK(options.duration_seconds == 10);
    CHECK(parsed.request.quiet);
}

TEST_CASE("load: a broadcast too wide or with lines too short to name their sender is refused, exit code 2") {
    int code = 0;
    CHECK(stop_message(cli::parse_load_command({"--broadcast", "--clients", "4097"}), &code) ==
          "socklab load: --broadcast takes at most 4096 clients\n");
    CHECK(code == 2);
    CHECK(stop_message(cli::parse_load_command({"--broadcast", "--size", "23"})) ==
          "socklab load: --broadcast needs --size 24 or more, so that each line names its sender and sequence whole\n");
    CHECK(stop_message(cli::parse_load_command({"--broadcast", "--clients", "4096", "--size", "24"})) == "");
    CHECK(stop_message(cli::parse_load_command({"--size", "2"})) == "");  // without --broadcast, any line of 2 or more
}

TEST_CASE("load: wrong flags say which and why") {
    CHECK(stop_message(cli::parse_load_command({"--clients", "many"})) ==
          "socklab load: --clients wants a whole number from 1 to 20000, not 'many'\n");
    CHECK(stop_message(cli::parse_load_command({"--port"})) == "socklab load: --port needs a value\n");
    CHECK(stop_message(cli::parse_load_command({"--port", "65536"})) ==
          "socklab load: --port wants a whole number from 1 to 65535, not '65536'\n");
    CHECK(stop_message(cli::parse_load_command({"5000"})) == "socklab load: unexpected argument '5000' (see --help)\n");
    int code = -1;
    CHECK(stop_message(cli::parse_load_command({"--help"}), &code).rfind("usage: socklab load [options]\n", 0) == 0);
    CHECK(code == 0);
}

TEST_CASE("load: the progress line and the verdict, as printed") {
    socklab::load::Progress now;
    now.elapsed_seconds = 2.5;
    now.clients_connected = 64;
    now.lines_echoed = 1234;
    now.deliveries_received = 77;
    CHECK(cli::load_progress_line(now, false) == "\r    2.5 s  64 clients  1234 lines echoed  ");
    CHECK(cli::load_progress_line(now, true) == "\r    2.5 s  64 clients  1234 lines echoed  77 deliveries  ");
    socklab::load::Result result;
    result.lines_sent = result.lines_echoed = 10;
    CHECK(cli::load_verdict(result) == "socklab load: every byte checked, all correct\n");
    result.mismatches = 3;
    result.errors = 2;
    CHECK(cli::load_verdict(result) == "socklab load: FAILED: 3 wrong lines or deliveries, 2 errors\n");
    result.mismatches = result.errors = 0;
    result.lines_echoed = 9;  // a line never echoed fails the run even with no error counted
    CHECK(cli::load_verdict(result) == "socklab load: FAILED: 0 wrong lines or deliveries, 0 errors\n");
}

// ---- connect ----
TEST_CASE("connect: a port, host:port or :port, the host 127.0.0.1 unless given") {
    auto target = [](const std::string& word) {
        const auto parsed = cli::parse_connect_command({word});
        REQUIRE(stop_message(parsed) == "");
        return parsed.request.host + " " + std::to_string(parsed.request.port);
    };
    CHECK(target("5000") == "127.0.0.1 5000");
    CHECK(target(":6000") == "127.0.0.1 6000");
    CHECK(target("example.org:80") == "example.org 80");
    CHECK(target("::1:65535") == "::1 65535");
    const auto parsed = cli::parse_connect_command({"--timeout", "0.5", "5000"});
    CHECK(parsed.request.timeout_seconds == 0.5);
}

TEST_CASE("connect: no port, two, or one that is not 1 to 65535 is a usage error that shows the form") {
    int code = 0;
    CHECK(stop_message(cli::parse_connect_command({}), &code) ==
          "socklab connect: give one [host:]port, e.g. socklab connect 5000 (see --help)\n");
    CHECK(code == 2);
    CHECK(stop_message(cli::parse_connect_command({"5000", "5001"})) ==
          "socklab connect: give one [host:]port, e.g. socklab connect 5000 (see --help)\n");
    for (const char* wrong : {"localhost:http", "0", "65536", "host:", "123456", "-5"})
        CHECK(stop_message(cli::parse_connect_command({wrong})) ==
              "socklab connect: '" + std::string(wrong) + "' is not [host:]port with a port from 1 to 65535\n");
    CHECK(stop_message(cli::parse_connect_command({"5000", "--timeout", "0"})) ==
          "socklab connect: --timeout wants a number from 0.1 to 600, not '0'\n");
}

// ---- compare ----
TEST_CASE("compare: no model named is all eight, echo, 64 clients of 64-byte lines for 5 s, a Markdown table") {
    const auto parsed = cli::parse_compare_command({});
    REQUIRE(stop_message(parsed) == "");
    const cli::CompareSettings& settings = parsed.request.settings;
    CHECK(settings.models == cli::all_models());
    CHECK(settings.models.size() == 8);
    CHECK(settings.scenario == cli::Scenario::echo);
    CHECK(settings.load.clients == 64);
    CHECK(settings.load.line_size == 64);
    CHECK(settings.load.duration_seconds == 5);
    CHECK(settings.load.work_every == 0);
    CHECK_FALSE(settings.load.broadcast);
    CHECK(parsed.request.format == "md");
    CHECK(parsed.request.out_path == "");
}

TEST_CASE(
    "compare: slow-handler blocks every 10th line 50 ms unless --work says otherwise; --work turns echo into it") {
    auto slow = cli::parse_compare_command({"iocp", "select", "--scenario", "slow-handler"});
    REQUIRE(stop_message(slow) == "");
    CHECK(slow.request.settings.models == std::vector<std::string>{"iocp", "select"});
    CHECK(slow.request.settings.scenario == cli::Scenario::slow_handler);
    CHECK(slow.request.settings.load.work_every == 10);
    CHECK(slow.request.settings.load.work_cpu_ms == 0);
    CHECK(slow.request.settings.load.work_block_ms == 50);
    auto mix = cli::parse_compare_command({"--work", "5,20,4"});
    CHECK(mix.request.settings.scenario == cli::Scenario::slow_handler);
    CHECK(mix.request.settings.load.work_cpu_ms == 5);
    CHECK(mix.request.settings.load.work_block_ms == 20);
    CHECK(mix.request.settings.load.work_every == 4);
}

TEST_CASE("compare: the other scenarios and their own flags") {
    auto broadcast = cli::parse_compare_command({"--scenario", "broadcast", "--clients", "16"});
    CHECK(broadcast.request.settings.scenario == cli::Scenario::broadcast);
    CHECK(broadcast.request.settings.load.broadcast);
    CHECK(broadcast.request.settings.load.clients == 16);
    auto capacity = cli::parse_compare_command({"--scenario=capacity", "--cap", "500"});
    CHECK(capacity.request.settings.scenario == cli::Scenario::capacity);
    CHECK(capacity.request.settings.capacity_cap == 500);
    auto overhead = cli::parse_compare_command(
        {"iocp", "--tracing-overhead", "--pairs", "2", "--format", "json", "--out", "t.json"});
    CHECK(overhead.request.settings.scenario == cli::Scenario::tracing_overhead);
    CHECK(overhead.request.settings.overhead_pairs == 2);
    CHECK(overhead.request.format == "json");
    CHECK(overhead.request.out_path == "t.json");
}

TEST_CASE("compare: cost is one connection's windows of 1000 lines, 3 timed, and runs the yardstick after the eight") {
    auto all = cli::parse_compare_command({"--scenario", "cost"});
    REQUIRE(stop_message(all) == "");
    const cli::CompareSettings& settings = all.request.settings;
    CHECK(settings.scenario == cli::Scenario::cost);
    CHECK(settings.models.size() == 9);
    CHECK(settings.models.back() == "yardstick");
    CHECK(settings.cost.lines == 1000);
    CHECK(settings.cost.line_size == 64);
    CHECK(settings.cost.window_seconds == 5);
    CHECK(settings.cost.timed_windows == 3);
    CHECK(settings.cost.counted_windows == 2);
    auto some = cli::parse_compare_command(
        {"blocking", "iocp", "yardstick", "--scenario", "cost", "--lines", "300", "--runs", "5", "--duration", "2"});
    REQUIRE(stop_message(some) == "");
    CHECK(some.request.settings.models == std::vector<std::string>{"blocking", "iocp", "yardstick"});
    CHECK(some.request.settings.cost.lines == 300);
    CHECK(some.request.settings.cost.timed_windows == 5);
    CHECK(some.request.settings.cost.window_seconds == 2);
    CHECK(cli::default_models(cli::Scenario::echo) == cli::all_models());
}

TEST_CASE("compare: the yardstick is the cost scenario's only, and cost takes no --work") {
    int code = 0;
    CHECK(stop_message(cli::parse_compare_command({"iocp", "yardstick"}), &code) ==
          "socklab compare: 'yardstick' is measured by --scenario cost only (it is a bare IOCP echo, not a model)\n");
    CHECK(code == 2);
    CHECK(stop_message(cli::parse_compare_command({"--scenario", "cost", "--work", "0,50,10"})) ==
          "socklab compare: --work does not apply to --scenario cost (one plain echo at a time)\n");
    CHECK(stop_message(cli::parse_compare_command({"--scenario", "cost", "--runs", "0"})) != "");
}

TEST_CASE("compare: a wrong format, scenario, model, mix or broadcast size is exit code 2 and says which") {
    int code = 0;
    CHECK(stop_message(cli::parse_compare_command({"--format", "xml"}), &code) ==
          "socklab compare: --format is md, csv or json, not 'xml'\n");
    CHECK(code == 2);
    CHECK(stop_message(cli::parse_compare_command({"select", "--scenario", "nonsense"})) ==
          "socklab compare: no scenario 'nonsense' (see --help)\n");
    CHECK(stop_message(cli::parse_compare_command({"iocp", "kqueue"})) ==
          "socklab compare: no model 'kqueue' (see socklab models)\n");
    CHECK(stop_message(cli::parse_compare_command({"--work", "0,50,0"})) ==
          "socklab compare: --work wants CPU_MS,BLOCK_MS,EVERY, e.g. 0,50,10, not '0,50,0'\n");
    CHECK(stop_message(cli::parse_compare_command({"--work", "50"})) ==
          "socklab compare: --work wants CPU_MS,BLOCK_MS,EVERY, e.g. 0,50,10, not '50'\n");
    CHECK(stop_message(cli::parse_compare_command({"--scenario", "broadcast", "--size", "20"})) ==
          "socklab compare: broadcast lines must be at least 24 bytes (they name their sender)\n");
    CHECK(stop_message(cli::parse_compare_command({"--clients", "5001"})) ==
          "socklab compare: --clients wants a whole number from 1 to 5000, not '5001'\n");
}

TEST_CASE("compare: a Linux model is taken when named, beside Windows ones, and cost counts it with strace") {
    const auto mixed = cli::parse_compare_command({"iocp", "poll", "--duration", "1"});
    REQUIRE(stop_message(mixed) == "");
    CHECK(mixed.request.settings.models == std::vector<std::string>{"iocp", "poll"});
    CHECK_FALSE(cli::counted_by_strace("iocp"));  // wineserver's requests, under Wine
    CHECK(cli::counted_by_strace("poll"));        // its system calls, natively
    CHECK_FALSE(cli::counted_by_strace(cli::kYardstick));
    CHECK(stop_message(cli::parse_compare_command({"poll", "--scenario", "cost"})) == "");
    // Named or not, the default stays the eight: the report's tables keep their meaning.
    CHECK(cli::parse_compare_command({}).request.settings.models == cli::all_models());
    CHECK(cli::all_models().size() == 8);
}

// ---- report ----
TEST_CASE("report: the models and --quick, the folder in the checkout, and the command as the page quotes it") {
    const ScopedEnvironment root("SOCKLAB_ROOT", "/srv/checkout");
    const auto parsed = cli::parse_report_command({"--quick", "iocp", "select"});
    REQUIRE(stop_message(parsed) == "");
    CHECK(parsed.request.quick);
    CHECK(parsed.request.models == std::vector<std::string>{"iocp", "select"});
    CHECK(parsed.request.out == "/srv/checkout/docs/report");
    CHECK(parsed.request.command == "./socklab report --quick iocp select");
    const auto all = cli::parse_report_command({"--out", "/tmp/r"});
    // With none named, every model that runs here: the eight Windows ones, and on Linux the Linux ones too.
    std::vector<std::string> here = cli::all_models();
#ifndef _WIN32
    for (const char* linux_model : {"poll", "epoll", "io-uring"}) here.push_back(linux_model);
#endif
    CHECK(all.request.models == here);
    CHECK(all.request.out == "/tmp/r");
    CHECK_FALSE(all.request.quick);
}

TEST_CASE("report: a model that does not exist is refused before ten minutes are spent") {
    int code = 0;
    CHECK(stop_message(cli::parse_report_command({"iocp", "nonsense"}), &code) ==
          "socklab report: no model 'nonsense' (see socklab models)\n");
    CHECK(stop_message(cli::parse_report_command({"--quick", "iocp", "poll"})) == "");  // poll runs natively
    CHECK(code == 2);
    CHECK(stop_message(cli::parse_report_command({"--fast"})) ==
          "socklab report: unknown option '--fast' (see --help)\n");
}

// ---- demo ----
TEST_CASE("demo: its defaults, and the visualizer asked for the IOCP lesson's live step beside the model") {
    const auto parsed = cli::parse_demo_command({});
    REQUIRE(stop_message(parsed) == "");
    CHECK(parsed.request.model == "iocp");
    CHECK(parsed.request.clients == 16);
    CHECK(parsed.request.seconds == 5);
    CHECK_FALSE(parsed.request.terminal_only);
    const auto other = cli::parse_demo_command({"--terminal", "--model", "select", "--clients", "4", "--seconds", "1"});
    CHECK(other.request.terminal_only);
    CHECK(cli::demo_viewer_arguments(other.request) == std::vector<std::string>{"--lesson", "7", "--step", "6",
                                                                                "--start", "select", "--connect", "4",
                                                                                "--pace", "20"});
    CHECK(stop_message(cli::parse_demo_command({"--clients", "0"})) ==
          "socklab demo: --clients wants a whole number from 1 to 2000, not '0'\n");
    CHECK(stop_message(cli::parse_demo_command({"--seconds", "0.5"})) ==
          "socklab demo: --seconds wants a number from 1 to 600, not '0.5'\n");
}

// ---- lesson ----
#ifdef SOCKLAB_HAVE_LESSONS
TEST_CASE("lesson: no number lists them, a number reads one, the flags as given") {
    const auto list = cli::parse_lesson_command({"--width", "60"});
    REQUIRE(stop_message(list) == "");
    CHECK(list.request.number == -1);
    CHECK(list.request.width == 60);
    const auto check = cli::parse_lesson_command({"7", "--check", "--static", "--step", "3", "--root", "/r"});
    REQUIRE(stop_message(check) == "");
    CHECK(check.request.number == 7);
    CHECK(check.request.check);
    CHECK(check.request.static_only);
    CHECK(check.request.only_step == 3);
    CHECK(check.request.root == "/r");
}

TEST_CASE("lesson: what is not one lesson number is exit code 2 and says so") {
    int code = 0;
    CHECK(stop_message(cli::parse_lesson_command({"7x"}), &code) ==
          "socklab lesson: '7x' is not a lesson number (socklab lesson lists them)\n");
    CHECK(code == 2);
    CHECK(stop_message(cli::parse_lesson_command({"-3"})) ==
          "socklab lesson: '-3' is not a lesson number (socklab lesson lists them)\n");
    CHECK(stop_message(cli::parse_lesson_command({"seven"})) ==
          "socklab lesson: 'seven' is not a lesson number (socklab lesson lists them)\n");
    CHECK(stop_message(cli::parse_lesson_command({"7", "8"})) == "socklab lesson: one lesson number at a time\n");
    CHECK(stop_message(cli::parse_lesson_command({"7", "--width", "wide"})) ==
          "socklab lesson: --width wants a whole number from 0 to 1000, not 'wide'\n");
}
#endif
