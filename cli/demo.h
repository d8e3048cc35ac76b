// cli/demo.h — `socklab demo`: what it reads from its command line, what it asks the visualizer for, and how it
// tells a run in the terminal (demo.cpp runs it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/flags.h"

#ifdef SOCKLAB_HAVE_VIZ_MODEL
#include "common/trace/reader.h"
#include "visualizer/model/trace_model.h"
#endif

namespace socklab::cli {

struct DemoRequest {
    bool terminal_only = false;  // tell it in the terminal even when a display is there
    std::string model = "iocp";
    std::uint64_t clients = 16;
    double seconds = 5;  // how long the terminal demo drives the server
};

Parsed<DemoRequest> parse_demo_command(const Arguments& arguments);

// The visualizer's flags for the demo: the IOCP lesson at its live step, beside a live server with a slow, steady
// trickle of lines, so a class can follow each packet waking a worker.
std::vector<std::string> demo_viewer_arguments(const DemoRequest& request);

#ifdef SOCKLAB_HAVE_VIZ_MODEL
// "What the threads did", from the server's own trace and the model rebuilt from it: the runtime, the packets
// each thread took (with a bar), the wakes that had a choice of waiter, the most that ran at once, and what the
// runtime's difference from Windows means. Laid out for `width` columns.
std::string threads_report(const trace::Trace& recorded, const viz::TraceModel& model, std::size_t width);
#endif

}  // namespace socklab::cli
