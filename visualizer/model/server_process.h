// visualizer/model/server_process.h — a server the visualizer started itself: socklab-server, through the
// launcher the CLI uses too (common/process/child_process.h).
//
// On Linux a Windows model's server runs under Wine, which takes about 2 s to start (longer the first time, when it
// creates the Wine prefix), so the UI shows the process's output and the time waited meanwhile; a Linux model's
// (poll, epoll, io-uring) runs natively and starts at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/process/child_process.h"

namespace socklab::viz {

class ServerProcess {
public:
    ServerProcess() = default;
    ~ServerProcess() { stop(); }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    // Runs socklab-server with these arguments (beside this program on Windows; on Linux under Wine from
    // <root>/build/mingw/bin for a Windows model, <root>/build/linux/models natively for a Linux one:
    // process::server_command), its output captured. False with a message on failure.
    // It dies with the viewer however the viewer ends (common/process/child_process.h); on Linux that is tied
    // to the thread that calls start(): call it from a thread that outlives the server, or stop() first.
    bool start(const std::string& root, const std::vector<std::string>& server_arguments, std::string& error);
    // Reads new output and notices an exit. Never blocks. Call once per frame.
    void poll();
    // Asks the server to stop (closes its standard input), then ends it if it is still there after 5 s.
    void stop();

    bool running() const { return process_.running(); }
    bool exited() const { return process_.exited(); }
    int exit_status() const { return process_.exit_code(); }
    double seconds_since_start() const;
    const std::string& command_line() const { return process_.command_line(); }
    // The last lines the process printed (stdout and stderr together).
    const std::vector<std::string>& output() const { return output_; }

private:
    void keep(const std::string& line);

    process::ChildProcess process_;
    std::vector<std::string> output_;
    std::chrono::steady_clock::time_point started_{};
};

// A server's "listening" line, as socklab-server prints it:
//   socklab-server: iocp listening on 127.0.0.1:41234, live trace on 127.0.0.1:41235 (Wine 8.0)
// Fills the ports it names (the trace port stays 0 when the line has none); false for any other line.
// A server started with --port 0 --trace-port 0 picks free ports itself, and this is how we learn them.
bool parse_listening_line(const std::string& line, std::uint16_t& port, std::uint16_t& trace_port);

// True when something on this machine already listens on 127.0.0.1:port (a bind there fails), so a server
// asked to use it would fail — after Wine's seconds of start-up. Checking first gives a clear message at once.
bool port_in_use(std::uint16_t port);

}  // namespace socklab::viz
