// cli/server_run.h — a socklab-server started by the CLI and stopped gracefully: on Windows the
// socklab-server.exe beside socklab.exe, on Linux the one in build/mingw/bin under Wine.
//
// Used by `socklab serve` (which forwards the server's output and waits), `demo`, `lesson`, `compare` and
// `report` (which start a server, drive it, then stop it). The process itself is common/process's ChildProcess.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/process/child_process.h"

namespace socklab::cli {

// " under Wine" on Linux, "" on Windows: where the server runs, for messages about starting it.
#ifdef _WIN32
inline constexpr const char* kUnderWine = "";
#else
inline constexpr const char* kUnderWine = " under Wine";
#endif

class ServerRun {
public:
    // Starts socklab-server <arguments> --stop-on-stdin-eof. False with a message when it is not built or
    // cannot start.
    bool start(const std::vector<std::string>& arguments, std::string& error);
    // Reads the server's output for up to timeout_ms, passing each line to on_line. False once it exited.
    bool pump(int timeout_ms, const process::LineHandler& on_line) { return server_.pump(timeout_ms, on_line); }
    // Asks for a graceful shutdown: closes the server's standard input.
    void request_stop() { server_.close_input(); }
    // Waits for the server to exit (forwarding its output); returns its exit code.
    int wait(const process::LineHandler& on_line);
    // Asks it to stop and waits up to `grace`; then ends it (forced says so). Returns its exit code.
    int stop(std::chrono::milliseconds grace, const process::LineHandler& on_line, bool* forced) {
        return server_.stop(grace, on_line, forced);
    }
    bool exited() const { return server_.exited(); }

private:
    process::ChildProcess server_;  // stopped by its destructor if still running
};

}  // namespace socklab::cli
