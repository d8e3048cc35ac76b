// cli/server_run.h — a socklab-server started by the CLI (under Wine on Linux) and stopped gracefully.
//
// Used by `socklab serve` (which forwards the server's output and waits) and by `socklab demo` (which starts a
// server, drives it, then stops it). POSIX only: on Windows `socklab serve` runs the server directly.
#pragma once

#ifndef _WIN32
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace socklab::cli {

class ServerRun {
public:
    ServerRun() = default;
    ~ServerRun();
    ServerRun(const ServerRun&) = delete;
    ServerRun& operator=(const ServerRun&) = delete;

    // Starts `cmake/wine-run socklab-server.exe <arguments> --stop-on-stdin-eof` in its own process group.
    bool start(const std::vector<std::string>& arguments, std::string& error);
    // Reads the server's output for up to timeout_ms, passing each line to on_line. False once it exited.
    bool pump(int timeout_ms, const std::function<void(const std::string& line)>& on_line);
    // Asks for a graceful shutdown (closes the server's standard input).
    void request_stop();
    // Waits for the server to exit (forwarding output); returns its exit code.
    int wait(const std::function<void(const std::string& line)>& on_line);
    bool exited() const { return exited_; }

private:
    pid_t child_ = -1;
    int input_ = -1;   // the server's standard input (we write nothing; closing it means "stop")
    int output_ = -1;  // the server's standard output
    std::string pending_;
    bool exited_ = false;
    int status_ = 0;
};

}  // namespace socklab::cli
#endif
