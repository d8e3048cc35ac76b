// tests/visualizer/compare_live_test.cpp — the compare view end to end: socklab-viz starts two real models
// under Wine (iocp and select), drives 16 saturating clients at each for a few seconds headless, writes a
// screenshot and prints its summary; both series must have counted replies.
//
// Needs the mingw build of the models (./socklab test builds it first) and a display or xvfb-run; without
// either it fails and says what is missing, like the other window tests.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/catch.hpp"
#include "tests/visualizer/run_command.h"

namespace {

using viz_tests::free_port;

using viz_tests::run;

namespace fs = std::filesystem;

// The summary line of one model: "iocp  Wine 8.0  7404  1.91  6.48  32  6900-7800" -> the four numbers before
// the spread, and the spread's two ends.
bool summary_row(const std::string& output, const std::string& model, std::vector<double>& numbers, double& low,
                 double& high) {
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(model + " ", 0) != 0) continue;
        std::istringstream words(line);
        std::vector<std::string> all;
        for (std::string word; words >> word;) all.push_back(word);
        if (all.size() < 6) return false;
        numbers.clear();
        for (std::size_t i = all.size() - 5; i < all.size() - 1; ++i) numbers.push_back(std::atof(all[i].c_str()));
        const std::string& spread = all.back();
        const auto dash = spread.find('-');
        if (dash == std::string::npos) return false;
        low = std::atof(spread.substr(0, dash).c_str());
        high = std::atof(spread.substr(dash + 1).c_str());
        return true;
    }
    return false;
}

// True when a connect to 127.0.0.1:port succeeds (the connection is closed at once).
bool answers(std::uint16_t port) {
    const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool connected = ::connect(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(probe);
    return connected;
}

}  // namespace

TEST_CASE("compare mode runs iocp and select under Wine and both series count replies", "[viz][compare][wine][xvfb]") {
    const fs::path server = fs::path(SOCKLAB_SOURCE_ROOT) / "build/mingw/bin/socklab-server.exe";
    if (!fs::exists(server)) FAIL("the models are not built (" << server.string() << "): ./socklab build makes them");
    std::string prefix, ignored;
    if (!(std::getenv("DISPLAY") && *std::getenv("DISPLAY"))) {
        if (run("command -v xvfb-run >/dev/null 2>&1", ignored) != 0)
            FAIL("no DISPLAY and no xvfb-run: ./socklab test installs xvfb");
        prefix = "xvfb-run -a -s '-screen 0 1600x900x24' ";
    }
    const fs::path folder = fs::temp_directory_path() / ("socklab-viz-compare-" + std::to_string(::getpid()));
    fs::create_directories(folder);
    const std::string png = (folder / "compare.png").string();
    // The ports are chosen (--compare-ports): two the kernel just found free, so this runs beside any other
    // test's servers.
    const std::uint16_t port_a = free_port(), port_b = free_port();
    REQUIRE(port_a != port_b);
    const std::string command = prefix + SOCKLAB_VIZ_EXECUTABLE + " --compare iocp,select --connect 16 --saturate" +
                                " --compare-ports " + std::to_string(port_a) + "," + std::to_string(port_b) +
                                " --seconds 3 --screenshot " + png + " --size 1600x900 2>&1";
    INFO(command);
    // While it runs, something must answer on each chosen port: the servers listen where they were told.
    std::atomic<bool> done{false}, answered_a{false}, answered_b{false};
    std::thread probe([&] {
        while (!done) {
            answered_a = answered_a || answers(port_a);
            answered_b = answered_b || answers(port_b);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    std::string output;
    const int status = run(command, output);
    done = true;
    probe.join();
    INFO(output);
    REQUIRE(status == 0);
    CHECK(fs::file_size(png) > 10'000);
    CHECK(output.find("closed loop (one line in flight per client)") != std::string::npos);
    CHECK(answered_a);
    CHECK(answered_b);
    for (const char* model : {"iocp", "select"}) {
        std::vector<double> numbers;  // replies/s, p50 ms, p99 ms, windows
        double low = 0, high = 0;     // the run's spread of replies/s, p10-p90 of the windows
        INFO(model);
        REQUIRE(summary_row(output, model, numbers, low, high));
        CHECK(low <= high);
        CHECK(high > 0);
        CHECK(numbers[0] > 0);  // replies per second, mean over the windows since the first reply
        CHECK(numbers[1] > 0);  // a p50 was measured
        CHECK(numbers[2] >= numbers[1]);
        CHECK(numbers[3] >= 4);  // at least a second of 250 ms windows with load
    }
    fs::remove_all(folder);
}

TEST_CASE("compare mode runs a Linux model natively, no Wine, and names the kernel as its runtime",
          "[viz][compare][native][xvfb]") {
    const fs::path server = fs::path(SOCKLAB_SOURCE_ROOT) / "build/linux/models/socklab-server";
    if (!fs::exists(server))
        FAIL("the native server is not built (" << server.string()
                                                << "): cmake --build build/linux --target socklab-server");
    std::string prefix, ignored;
    if (!(std::getenv("DISPLAY") && *std::getenv("DISPLAY"))) {
        if (run("command -v xvfb-run >/dev/null 2>&1", ignored) != 0)
            FAIL("no DISPLAY and no xvfb-run: ./socklab test installs xvfb");
        prefix = "xvfb-run -a -s '-screen 0 1280x720x24' ";
    }
    const fs::path folder = fs::temp_directory_path() / ("socklab-viz-native-" + std::to_string(::getpid()));
    fs::create_directories(folder);
    const std::string png = (folder / "poll.png").string();
    // poll against itself: two native servers, the noise floor of one model, and nothing under Wine.
    const std::string command = prefix + SOCKLAB_VIZ_EXECUTABLE + " --compare poll,poll --connect 4 --saturate" +
                                " --seconds 2 --screenshot " + png + " --size 1280x720 --repo " + SOCKLAB_SOURCE_ROOT +
                                " 2>&1";
    INFO(command);
    std::string output;
    const int status = run(command, output);
    INFO(output);
    REQUIRE(status == 0);
    CHECK(fs::file_size(png) > 10'000);
    CHECK(output.find("Under Wine") == std::string::npos);
    std::vector<double> numbers;
    double low = 0, high = 0;
    REQUIRE(summary_row(output, "poll", numbers, low, high));
    CHECK(numbers[0] > 0);
    CHECK(output.find("\npoll                 Linux ") != std::string::npos);  // the kernel is the runtime
    fs::remove_all(folder);
}

TEST_CASE("compare mode runs iocp under Wine beside poll natively and says which row ran where",
          "[viz][compare][wine][native][xvfb]") {
    const fs::path root(SOCKLAB_SOURCE_ROOT);
    for (const fs::path& server :
         {root / "build/mingw/bin/socklab-server.exe", root / "build/linux/models/socklab-server"})
        if (!fs::exists(server)) FAIL("not built: " << server.string() << " (./socklab build makes both)");
    std::string prefix, ignored;
    if (!(std::getenv("DISPLAY") && *std::getenv("DISPLAY"))) {
        if (run("command -v xvfb-run >/dev/null 2>&1", ignored) != 0)
            FAIL("no DISPLAY and no xvfb-run: ./socklab test installs xvfb");
        prefix = "xvfb-run -a -s '-screen 0 1280x720x24' ";
    }
    const std::string command = prefix + SOCKLAB_VIZ_EXECUTABLE +
                                " --compare iocp,poll --connect 4 --saturate --seconds 2 --size 1280x720 "
                                "--repo " +
                                root.string() + " 2>&1";
    INFO(command);
    std::string output;
    const int status = run(command, output);
    INFO(output);
    REQUIRE(status == 0);
    CHECK(output.find("\niocp                 Wine ") != std::string::npos);
    CHECK(output.find("\npoll                 Linux ") != std::string::npos);
    CHECK(output.find("Two runtimes: the Linux models ran natively, the Windows ones under Wine") != std::string::npos);
}
