// What the CLI's tests share: running a command through the shell and keeping what it printed.
#pragma once

#include <cstdio>
#include <string>

#include "tests/catch.hpp"

namespace cli_tests {

// Runs a shell command and returns its standard output.
inline std::string output_of(const std::string& command) {
    std::string output;
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, got);
    ::pclose(pipe);
    return output;
}

}  // namespace cli_tests
