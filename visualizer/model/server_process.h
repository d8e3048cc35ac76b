// visualizer/model/server_process.h — a server the visualizer started itself: `<repo>/socklab serve ...`.
//
// On Linux the CLI runs the Windows server under Wine, which takes about 2 s to start (longer the first time,
// when it creates the Wine prefix), so the UI shows the process's output and the time waited meanwhile.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace socklab::viz {

class ServerProcess {
public:
    ServerProcess() = default;
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    // Runs `program args...` in its own process group, its output captured. False with a message on failure.
    // The process gets SIGTERM when the thread that called start() ends, and so when the viewer dies however it
    // dies (Linux's parent-death signal): call it from a thread that outlives the server, or stop() first.
    bool start(const std::string& program, const std::vector<std::string>& args, std::string& error);
    // Reads new output and notices an exit. Never blocks. Call once per frame.
    void poll();
    // Asks the server to stop (SIGTERM to its process group), then kills it if it is still there after 3 s.
    void stop();

    bool running() const { return pid_ > 0 && !exited_; }
    bool exited() const { return exited_; }
    int exit_status() const { return exit_status_; }
    double seconds_since_start() const;
    const std::string& command_line() const { return command_line_; }
    // The last lines the process printed (stdout and stderr together).
    const std::vector<std::string>& output() const { return output_; }

private:
    int pid_ = -1;
    int output_fd_ = -1;
    bool exited_ = false;
    int exit_status_ = 0;
    std::string partial_line_;
    std::vector<std::string> output_;
    std::string command_line_;
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
