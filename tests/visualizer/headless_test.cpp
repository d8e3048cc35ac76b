// tests/visualizer/headless_test.cpp — socklab-viz itself, run as a program on a trace this test writes.
//
// The trace is built here, event by event, with the wire format (visualizer/model/trace_writer.h), so no
// binary file lives in the repository. The window needs a display: under CTest with no DISPLAY the program
// runs through `xvfb-run -a`; with neither, the window tests fail and say what to install.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <stb/stb_image.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/catch.hpp"
#include "tests/visualizer/run_command.h"
#include "tests/visualizer/event_builder.h"
#include "tests/visualizer/json_check.h"
#include "visualizer/model/trace_writer.h"

using namespace socklab::viz;
using socklab::trace::Kind;

namespace {

using viz_tests::display_prefix;
using viz_tests::run;

namespace fs = std::filesystem;

fs::path scratch_folder() {
    fs::path folder = fs::temp_directory_path() / ("socklab-viz-test-" + std::to_string(::getpid()));
    fs::create_directories(folder);
    return folder;
}

// A small IOCP server's trace: four workers wait on port 0 (worker 4 last), a packet wakes the most recent
// one, a second packet wakes the oldest (as Wine would), worker 4 is held at the gate, one connection.
std::string write_sample_trace() {
    testing::EventBuilder b;
    b.server_start(2);
    for (std::uint16_t t = 0; t <= 4; ++t) b.start(t);
    for (std::uint16_t t = 1; t <= 4; ++t) b.wait_port(t);
    b.add(Kind::connection_open, 0, 0, 50001, 0, 1);
    b.post(100);
    b.add(Kind::queue_depth, 0, 0, 0, 1);
    b.wake(4);  // position 0 of 4
    b.dequeue(4, 100);
    b.add(Kind::gate_hold, 4);
    b.post(101);
    b.post(102);
    b.wake(1);  // position 2 of 3: the oldest
    b.dequeue(1, 101);
    b.add(Kind::line_in, 1, 0, 5, 0, 1);
    b.add(Kind::line_out, 1, 0, 6, 0, 1);

    TraceWriter writer;
    writer.header();
    writer.info("model", "iocp");
    writer.info("runtime", "Wine 8.0 (test)");
    writer.info("concurrency", "2");
    writer.site({1, 42, "visualizer/model/trace_model.h", "test"});
    writer.thread({0, 10, "acceptor"});
    for (std::uint16_t t = 1; t <= 4; ++t) writer.thread({t, 10u + t, "worker"});
    writer.events(b.events.data(), b.events.size());

    const fs::path path = scratch_folder() / "sample.sltrace";
    std::ofstream(path, std::ios::binary) << writer.bytes();
    return path.string();
}

std::map<std::string, std::string> dump_lines(const std::string& text) {
    std::map<std::string, std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        // "port 0 waiters 1 2 3" is keyed "port 0 waiters"; "lifo_share 0.500" is keyed "lifo_share".
        std::size_t key_end = line.find(' ');
        if (line.rfind("port ", 0) == 0 || line.rfind("thread ", 0) == 0)
            key_end = line.find(' ', line.find(' ', 5) + 1);
        if (key_end == std::string::npos) continue;
        lines[line.substr(0, key_end)] = line.substr(key_end + 1);
    }
    return lines;
}

}  // namespace

TEST_CASE("socklab-viz dumps the model figures the trace holds (--dump-model)", "[viz][headless]") {
    const std::string trace = write_sample_trace();
    std::string output;
    REQUIRE(run(std::string(SOCKLAB_VIZ_EXECUTABLE) + " --replay " + trace + " --dump-model", output) == 0);
    INFO(output);
    auto lines = dump_lines(output);
    CHECK(lines["model"] == "iocp");
    CHECK(lines["runtime"] == "Wine 8.0 (test)");
    // The conformance panel's sentence: under Wine it says plainly how Wine differs from Windows.
    CHECK(lines["runtime_note"].find("wakes completion-port waiters FIFO and ignores the concurrency value") !=
          std::string::npos);
    CHECK(lines["runtime_note"].find("Windows releases the most recent waiter first") != std::string::npos);
    CHECK(lines["port 0 waiters"] == "2 3 (oldest first)");
    CHECK(lines["port 0 wake_positions"] == "0 2");
    CHECK(lines["port 0 counted_depth"] == "1 sampled_depth 1 depth 1");
    CHECK(lines["port 0 packets_waiting"] == "102");
    CHECK(lines["thread 4"].find("state held at the gate") != std::string::npos);
    CHECK(lines["wakes"] == "2");
    CHECK(lines["lifo_wakes"] == "1");
    CHECK(lines["fifo_wakes"] == "1");
    CHECK(lines["lifo_share"] == "0.500");
    CHECK(lines["concurrency"] == "2");
    CHECK(lines["most_running"] == "2");
    CHECK(lines["connections_open"] == "1");
    CHECK(lines["lines_out"] == "1");
}

TEST_CASE("socklab-viz exports Chrome trace JSON that parses (--export-chrome)", "[viz][headless]") {
    const std::string trace = write_sample_trace();
    const std::string json = (scratch_folder() / "sample.json").string();
    std::string output;
    REQUIRE(run(std::string(SOCKLAB_VIZ_EXECUTABLE) + " --replay " + trace + " --export-chrome " + json + " 2>&1",
                output) == 0);
    std::ifstream in(json);
    std::stringstream text;
    text << in.rdbuf();
    testing::JsonValue root;
    testing::JsonParser parser(text.str());
    const bool parsed = parser.parse(root);
    INFO(parser.error());
    REQUIRE(parsed);
    REQUIRE(root.get("traceEvents"));
    CHECK(root.get("traceEvents")->items.size() > 20);
}

TEST_CASE("a headless replay writes a screenshot of the asked size that is not blank", "[viz][headless][xvfb]") {
    std::string prefix;
    if (!display_prefix(prefix)) FAIL("no DISPLAY and no xvfb-run: ./socklab test installs xvfb");
    const std::string trace = write_sample_trace();
    const std::string png = (scratch_folder() / "shot.png").string();
    std::string output;
    const std::string command = prefix + SOCKLAB_VIZ_EXECUTABLE + " --replay " + trace + " --frames 4 --screenshot " +
                                png + " --size 1024x640 2>&1";
    INFO(command);
    REQUIRE(run(command, output) == 0);
    INFO(output);

    int width = 0, height = 0, channels = 0;
    unsigned char* pixels = stbi_load(png.c_str(), &width, &height, &channels, 4);
    REQUIRE(pixels != nullptr);
    CHECK(width == 1024);
    CHECK(height == 640);
    // Not blank: a drawn window has text, lanes and panels in many colours.
    std::set<std::uint32_t> colours;
    for (int i = 0; i < width * height; i += 7) {
        std::uint32_t rgba;
        std::memcpy(&rgba, pixels + i * 4, 4);
        colours.insert(rgba);
    }
    stbi_image_free(pixels);
    CHECK(colours.size() > 50);
}

TEST_CASE("a headless run shows several sessions side by side", "[viz][headless][xvfb]") {
    std::string prefix;
    if (!display_prefix(prefix)) FAIL("no DISPLAY and no xvfb-run: ./socklab test installs xvfb");
    const std::string trace = write_sample_trace();
    const std::string png = (scratch_folder() / "side-by-side.png").string();
    std::string output;
    REQUIRE(run(prefix + SOCKLAB_VIZ_EXECUTABLE + " --replay " + trace + " --reference --synthetic-fifo" +
                    " --frames 3 --screenshot " + png + " --size 1400x800 2>&1",
                output) == 0);
    int width = 0, height = 0, channels = 0;
    REQUIRE(stbi_info(png.c_str(), &width, &height, &channels) == 1);
    CHECK(width == 1400);
    CHECK(height == 800);
}

TEST_CASE("socklab-viz refuses a file that is not a trace, naming it", "[viz][headless]") {
    const fs::path bogus = scratch_folder() / "not-a-trace.txt";
    std::ofstream(bogus) << "hello, this is not a socklab trace at all\n";
    std::string output;
    CHECK(run(std::string(SOCKLAB_VIZ_EXECUTABLE) + " --replay " + bogus.string() + " --dump-model 2>&1", output) != 0);
    CHECK(output.find("not-a-trace.txt") != std::string::npos);
}

TEST_CASE("socklab-viz refuses a bad compare request with exit 2 before starting anything",
          "[viz][headless][compare]") {
    std::string output;
    // An unknown model: named, with the list of models.
    CHECK(run(std::string(SOCKLAB_VIZ_EXECUTABLE) + " --compare iocp,nosuchmodel 2>&1", output) == 2);
    CHECK(output.find("no model 'nosuchmodel'") != std::string::npos);
    // One model is not a comparison.
    CHECK(run(std::string(SOCKLAB_VIZ_EXECUTABLE) + " --compare iocp 2>&1", output) == 2);
    CHECK(output.find("two or more models") != std::string::npos);
    // --start is checked the same way, at once.
    CHECK(run(std::string(SOCKLAB_VIZ_EXECUTABLE) + " --start nosuchmodel 2>&1", output) == 2);
    CHECK(output.find("--start: no model 'nosuchmodel'; the models are:") != std::string::npos);
    // Two loads at once.
    CHECK(run(std::string(SOCKLAB_VIZ_EXECUTABLE) + " --compare iocp,select --saturate --pace 10 2>&1", output) == 2);
    CHECK(output.find("choose one") != std::string::npos);
}
