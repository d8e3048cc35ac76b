// tests/visualizer/projector_test.cpp — socklab-viz for a room: --scale draws larger text (the font rebuilt, the
// window's title measured in the PNG), and the keys' actions as flags do what they say (--step on the reference
// model plays that many scenario lines; a bad --do is refused). The window tests need a display: without
// DISPLAY they go through `xvfb-run -a`; with neither they fail and say what to install.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <stb/stb_image.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/catch.hpp"
#include "tests/visualizer/run_command.h"

namespace {

using viz_tests::display_prefix;
using viz_tests::run;

namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
    fs::path folder = fs::temp_directory_path() / ("socklab-viz-projector-" + std::to_string(::getpid()));
    fs::create_directories(folder);
    return folder / name;
}

// The sidebar's title, "socklab-viz" in yellow, is the only yellow in the window's top-left corner: its
// bounding box there measures the text size as drawn.
struct Box {
    int left = 1 << 30, top = 1 << 30, right = -1, bottom = -1;
    int width() const { return right - left + 1; }
    int height() const { return bottom - top + 1; }
};

Box title_box(const std::string& png, int& width, int& height) {
    int channels = 0;
    unsigned char* pixels = stbi_load(png.c_str(), &width, &height, &channels, 4);
    Box box;
    if (!pixels) return box;
    for (int y = 0; y < std::min(height, 90); ++y)
        for (int x = 0; x < std::min(width, 260); ++x) {
            const unsigned char* p = pixels + (static_cast<std::size_t>(y) * width + x) * 4;
            if (p[0] > 200 && p[1] > 170 && p[2] < 140 && p[0] > p[2] + 90) {
                box.left = std::min(box.left, x), box.right = std::max(box.right, x);
                box.top = std::min(box.top, y), box.bottom = std::max(box.bottom, y);
            }
        }
    stbi_image_free(pixels);
    return box;
}

// "socklab-viz: text 23 px (scale 1.5)" -> 23 (the UI font's size; 0 when the line is missing). The sizes are
// DejaVu Sans's (15 px at scale 1); without that font the built-in one is used, so tests compare sizes.
int text_pixels(const std::string& output) {
    const std::size_t at = output.find("socklab-viz: text ");
    return at == std::string::npos ? 0 : std::atoi(output.c_str() + at + 18);
}

std::map<std::string, std::string> dump_lines(const std::string& text) {
    std::map<std::string, std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        const std::size_t space = line.find(' ');
        if (space != std::string::npos) lines[line.substr(0, space)] = line.substr(space + 1);
    }
    return lines;
}

}  // namespace

TEST_CASE("scale 1.5 draws the text half as large again (the font rebuilt)", "[viz][headless][xvfb][scale]") {
    std::string prefix;
    if (!display_prefix(prefix)) {
        FAIL("no DISPLAY and no xvfb-run: ./socklab test installs xvfb");
    }
    Box boxes[2];
    int pixels[2] = {0, 0};
    const char* const scales[] = {"1", "1.5"};
    for (int i = 0; i < 2; ++i) {
        const std::string png = scratch(std::string("scale-") + scales[i] + ".png").string();
        std::string output;
        const std::string command = prefix + SOCKLAB_VIZ_EXECUTABLE +
                                    " --reference --frames 3 --size 1280x720 --scale " + scales[i] + " --screenshot " +
                                    png + " 2>&1";
        INFO(command);
        REQUIRE(run(command, output) == 0);
        INFO(output);
        pixels[i] = text_pixels(output);
        CHECK(output.find(i == 0 ? "(scale 1)" : "(scale 1.5)") != std::string::npos);
        int width = 0, height = 0;
        boxes[i] = title_box(png, width, height);
        CHECK(width == 1280);
        CHECK(height == 720);
        REQUIRE(boxes[i].right >= 0);
    }
    CHECK(pixels[1] >= pixels[0] * 1.4);  // 23 px against 15 with DejaVu Sans
    INFO("title at scale 1: " << boxes[0].width() << "x" << boxes[0].height() << ", at 1.5: " << boxes[1].width() << "x"
                              << boxes[1].height());
    // Rasterized at 23 px instead of 15 (a bitmap stretch would be exactly 1.5 and blurred; we check the size).
    CHECK(boxes[1].width() > boxes[0].width() * 1.35);
    CHECK(boxes[1].width() < boxes[0].width() * 1.75);
    CHECK(boxes[1].height() > boxes[0].height() * 1.3);
}

TEST_CASE("the actions larger and smaller grow and shrink the text as Ctrl + and Ctrl - do",
          "[viz][headless][xvfb][scale]") {
    std::string prefix;
    if (!display_prefix(prefix)) {
        FAIL("no DISPLAY and no xvfb-run: ./socklab test installs xvfb");
    }
    std::string output;
    REQUIRE(run(prefix + SOCKLAB_VIZ_EXECUTABLE +
                    " --reference --frames 3 --size 800x600 --scale 1 --do larger,larger 2>&1",
                output) == 0);
    CHECK(output.find("(scale 1.25)") != std::string::npos);  // 1 -> 1.125 -> 1.25
    const int larger = text_pixels(output);
    REQUIRE(run(prefix + SOCKLAB_VIZ_EXECUTABLE + " --reference --frames 3 --size 800x600 --scale 1 --do smaller 2>&1",
                output) == 0);
    CHECK(output.find("(scale 0.875)") != std::string::npos);
    const int smaller = text_pixels(output);
    REQUIRE(run(prefix + SOCKLAB_VIZ_EXECUTABLE + " --reference --frames 3 --size 800x600 --scale 1 2>&1", output) ==
            0);
    const int normal = text_pixels(output);
    CHECK(smaller < normal);
    CHECK(normal < larger);
}

TEST_CASE("stepping N times on the reference model plays N scenario lines from the start", "[viz][headless][keys]") {
    // The built-in scenario: concurrency 2, threads 4, wait w1 w2 w3 w4, post, post, post, block w4 50, ...
    // Each post releases a waiter: after 4 lines one wake, after 5 two. Without --step it opens at its first step
    // (the port and its four waiters, nothing posted yet): no wake; R (run) plays it to the end: three.
    std::string output;
    std::map<std::string, std::string> wakes;
    for (const char* steps : {"3", "4", "5", "", "run"}) {
        const std::string how = std::string(steps) == "run" ? " --do run"
                                : *steps                    ? std::string(" --step ") + steps
                                                            : std::string();
        const std::string command = std::string(SOCKLAB_VIZ_EXECUTABLE) + " --reference" + how + " --dump-model";
        INFO(command);
        REQUIRE(run(command, output) == 0);
        INFO(output);
        wakes[steps] = dump_lines(output)["wakes"];
    }
    CHECK(wakes["3"] == "0");
    CHECK(wakes["4"] == "1");
    CHECK(wakes["5"] == "2");
    CHECK(wakes[""] == "0");
    CHECK(wakes["run"] == "3");  // block w4 lets a third waiter take the queued packet
}

TEST_CASE("next-step and previous-step move through a lesson as PageDown and PageUp do",
          "[viz][headless][xvfb][keys]") {
    std::string prefix;
    if (!display_prefix(prefix)) {
        FAIL("no DISPLAY and no xvfb-run: ./socklab test installs xvfb");
    }
    // Lesson 7's first steps are prose (nothing started); --lesson N --step K still opens the lesson at step K.
    std::string output;
    REQUIRE(run(prefix + SOCKLAB_VIZ_EXECUTABLE + " --lesson 7 --do next-step,next-step,previous-step --frames 2 2>&1",
                output) == 0);
    CHECK(output.find("lesson 7 step 2") != std::string::npos);
    REQUIRE(
        run(prefix + SOCKLAB_VIZ_EXECUTABLE + " --lesson 7 --step 2 --do previous-step,previous-step --frames 2 2>&1",
            output) == 0);
    CHECK(output.find("lesson 7 step 1") != std::string::npos);  // no step 0
}

TEST_CASE("Ctrl + pressed on the window's keyboard rebuilds the text larger (xdotool)", "[viz][headless][xvfb][keys]") {
    std::string ignored;
    if (run("command -v xvfb-run >/dev/null 2>&1 && command -v xdotool >/dev/null 2>&1", ignored) != 0) {
        FAIL("no xvfb-run or no xdotool: ./socklab test installs both");
    }
    // Quick presses, as a presenter's clicker sends them: press and release inside one frame.
    const fs::path script = scratch("keys.sh");
    const fs::path log = scratch("keys.log");
    {
        std::ofstream out(script);
        out << "#!/bin/sh\n"
            << SOCKLAB_VIZ_EXECUTABLE << " --reference --seconds 8 --size 800x600 --scale 1 > " << log.string()
            << " 2>&1 &\n"
            << "pid=$!\n"
            // Up to 15 s for the window: on a loaded machine (the suite runs two tests at once) the first
            // OpenGL context can take seconds.
            << "for i in $(seq 1 50); do w=$(xdotool search --name socklab-viz | head -1); "
               "[ -n \"$w\" ] && break; sleep 0.3; done\n"
            << "[ -n \"$w\" ] || { echo 'no socklab-viz window within 15 s'; exit 1; }\n"
            << "sleep 0.5\n"
            << "xdotool key --window $w ctrl+equal; sleep 0.3\n"
            << "xdotool key --window $w ctrl+shift+equal; sleep 0.3\n"
            << "xdotool key --window $w ctrl+KP_Add; sleep 0.3\n"
            << "wait $pid\n";
    }
    fs::permissions(script, fs::perms::owner_all);
    std::string output;
    const int status = run("xvfb-run -a -s '-screen 0 1280x1024x24' " + script.string() + " 2>&1", output);
    INFO(output);
    REQUIRE(status == 0);
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    INFO(text.str());
    CHECK(text.str().find("(scale 1.5)") != std::string::npos);  // 1 -> 1.125 -> 1.25 -> 1.5
    CHECK(text_pixels(text.str()) >= 19);                        // 23 with DejaVu Sans, 20 with the built-in font
}

TEST_CASE("a bad --do or --scale is refused with exit 2 and named", "[viz][headless][keys]") {
    std::string output;
    CHECK(run(std::string(SOCKLAB_VIZ_EXECUTABLE) + " --reference --do step,jump --dump-model 2>&1", output) == 2);
    CHECK(output.find("'jump'") != std::string::npos);
    CHECK(run(std::string(SOCKLAB_VIZ_EXECUTABLE) + " --reference --scale 9 --dump-model 2>&1", output) == 2);
    CHECK(output.find("--scale") != std::string::npos);
}
