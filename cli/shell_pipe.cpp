// cli/shell_pipe.cpp — see shell_pipe.h.
#include "cli/shell_pipe.h"

namespace socklab::cli {

std::string shell_command(const std::string& program, const std::string& arguments) {
#ifdef _WIN32
    return "\"\"" + program + "\" " + arguments + " 2>&1\"";
#else
    return "'" + program + "' " + arguments + " 2>&1";
#endif
}

FILE* open_pipe(const std::string& command, const char* mode) {
#ifdef _WIN32
    return _popen(command.c_str(), mode);
#else
    return popen(command.c_str(), mode);
#endif
}

int close_pipe(FILE* pipe) {
#ifdef _WIN32
    return _pclose(pipe);
#else
    return pclose(pipe);
#endif
}

std::string read_all(FILE* pipe) {
    std::string text;
    char buffer[4096];
    for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) text.append(buffer, got);
    return text;
}

}  // namespace socklab::cli
