// What the visualizer's process tests share: running a command through the shell, finding a display for
// socklab-viz (the machine's own, or Xvfb's), and a free loopback port for a server they start.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace viz_tests {

// Runs a command; returns its exit status and fills `output` with its standard output.
inline int run(const std::string& command, std::string& output) {
    output.clear();
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return -1;
    char chunk[4096];
    for (std::size_t got; (got = std::fread(chunk, 1, sizeof chunk, pipe)) > 0;) output.append(chunk, got);
    const int status = ::pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The prefix that gives socklab-viz a display: none when one exists, xvfb-run otherwise; false when impossible.
inline bool display_prefix(std::string& prefix) {
    if (std::getenv("DISPLAY") && *std::getenv("DISPLAY")) {
        prefix = "";
        return true;
    }
    std::string ignored;
    if (run("command -v xvfb-run >/dev/null 2>&1", ignored) == 0) {
        prefix = "xvfb-run -a -s '-screen 0 1920x1200x24' ";
        return true;
    }
    return false;
}

// A loopback port nobody listens on now: the kernel picks one for a socket bound to port 0, which is then closed.
inline std::uint16_t free_port() {
    const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(probe);
    return ntohs(address.sin_port);
}

}  // namespace viz_tests
