// cli/connect.h — `socklab connect [host:]port`: what it reads from its command line (connect.cpp runs it).
#pragma once

#include <cstdint>
#include <string>

#include "cli/flags.h"

namespace socklab::cli {

struct ConnectRequest {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    double timeout_seconds = 5;  // for the server to accept
};

// One [host:]port and --timeout. Prints nothing: a wrong use is the EarlyExit, with the message a user sees.
Parsed<ConnectRequest> parse_connect_command(const Arguments& arguments);

// "5000", "host:5000" or ":5000" into a host (127.0.0.1 when none is given) and a port. False when the port is
// not a number from 1 to 65535.
bool parse_target(const std::string& target, std::string& host, std::uint16_t& port);

}  // namespace socklab::cli
