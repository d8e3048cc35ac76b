// cli/load_command.h — `socklab load`: what it reads from its command line and the lines it prints
// (load_command.cpp runs it; the load itself is common/load/load.h).
#pragma once

#include <string>

#include "cli/flags.h"
#include "common/load/load.h"

namespace socklab::cli {

struct LoadRequest {
    load::Options options;
    bool quiet = false;  // no progress line
};

// The flags, checked against each other too (--broadcast takes at most 4096 clients and lines of 24 bytes or
// more). Prints nothing: --help and a wrong use are the EarlyExit, with the message a user sees.
Parsed<LoadRequest> parse_load_command(const Arguments& arguments);

// The progress line, redrawn in place on a terminal: "\r    2.5 s  64 clients  1234 lines echoed  ".
std::string load_progress_line(const load::Progress& now, bool broadcast);

// The last line: "socklab load: every byte checked, all correct", or what failed.
std::string load_verdict(const load::Result& result);

}  // namespace socklab::cli
