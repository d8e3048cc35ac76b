// cli/shell_pipe.h — running a command through the shell with a pipe to it or from it (popen on Linux, _popen
// on Windows), for the programs `socklab report` runs: gnuplot and the benchmarks.
#pragma once

#include <cstdio>
#include <string>

namespace socklab::cli {

// A command for popen with its output and errors in one stream. cmd.exe (which _popen runs) strips the first
// and last quote of a command that has more than two: one more pair around it all keeps the program's quotes.
std::string shell_command(const std::string& program, const std::string& arguments);

// popen / _popen: mode "r" reads the command's output, "w" writes its input. nullptr when it cannot start.
FILE* open_pipe(const std::string& command, const char* mode);
// The command's exit status: 0 when it succeeded.
int close_pipe(FILE* pipe);
// Everything left to read from a pipe opened with "r".
std::string read_all(FILE* pipe);

}  // namespace socklab::cli
