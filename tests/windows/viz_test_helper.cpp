// tests/windows/viz_test_helper.cpp — viz-test-helper.exe, the Windows side of the visualizer's Wine tests
// (tests/windows/viz_replay.sh runs it, and socklab-viz.exe, under Wine):
//
//   viz-test-helper write-trace FILE          writes a small synthetic IOCP trace (visualizer/model/synthetic_trace.h)
//                                             as a trace file, through the same writer a recording uses
//   viz-test-helper check-png FILE W H        the PNG is W x H and shows a drawn window, not a blank one
//
// A Windows program rather than a host tool so that the trace is written, and the PNG read, by Windows code: the
// files cross from one Windows program to another as they would on Windows.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#define STB_IMAGE_IMPLEMENTATION  // this program's one copy of stb's PNG reader (stb is header-only here)
#include <stb_image.h>

#include "visualizer/model/traced_run.h"
#include "visualizer/model/synthetic_trace.h"
#include "visualizer/model/trace_writer.h"

namespace {

int write_trace(const std::string& path) {
    socklab::viz::SyntheticOptions options;
    options.workers = 6;
    options.lines = 400;
    options.gate_every = 7;
    options.runtime = "synthetic (Windows replay test)";
    const auto run = socklab::viz::TracedRun::from_trace("synthetic", socklab::viz::make_synthetic_trace(options));
    std::string error;
    if (!socklab::viz::write_trace_file(path, run->trace_model(), error)) {
        std::fprintf(stderr, "viz-test-helper: %s\n", error.c_str());
        return 1;
    }
    std::printf("viz-test-helper: wrote %s (%zu events)\n", path.c_str(), run->trace_model().event_count());
    return 0;
}

int check_png(const std::string& path, int expected_width, int expected_height) {
    int width = 0, height = 0, channels = 0;
    unsigned char* pixels = stbi_load(path.c_str(), &width, &height, &channels, 4);
    if (!pixels) {
        std::fprintf(stderr, "viz-test-helper: %s is not a PNG stb can read: %s\n", path.c_str(),
                     stbi_failure_reason());
        return 1;
    }
    // Not blank: a drawn window has text, lanes and panels in many colours (a cleared one has one), and they
    // reach across it: the right half is drawn too, not only a corner of a window smaller than asked for.
    std::set<std::uint32_t> colours, right_half_colours;
    for (int y = 0; y < height; y += 3)
        for (int x = 0; x < width; x += 3) {
            std::uint32_t rgba;
            std::memcpy(&rgba, pixels + (static_cast<std::size_t>(y) * width + x) * 4, 4);
            colours.insert(rgba);
            if (x >= width / 2) right_half_colours.insert(rgba);
        }
    stbi_image_free(pixels);
    std::printf("viz-test-helper: %s is %dx%d with %zu colours (%zu in its right half)\n", path.c_str(), width, height,
                colours.size(), right_half_colours.size());
    if (width != expected_width || height != expected_height) {
        std::fprintf(stderr, "viz-test-helper: expected %dx%d\n", expected_width, expected_height);
        return 1;
    }
    if (colours.size() < 50 || right_half_colours.size() < 20) {
        std::fprintf(stderr, "viz-test-helper: too few colours for a drawn window\n");
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "write-trace" && argc == 3) return write_trace(argv[2]);
    if (command == "check-png" && argc == 5) return check_png(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
    std::fprintf(stderr, "usage: viz-test-helper write-trace FILE | check-png FILE WIDTH HEIGHT\n");
    return 2;
}
