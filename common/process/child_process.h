// common/process/child_process.h — one child process, started, read and stopped the same way on Linux and
// Windows: the launcher behind `socklab serve`, `demo`, `compare`, `report`, `lesson` and the visualizer's live
// servers.
//
// The child's standard output (and, when asked, its standard error) comes back through a pipe, line by line.
// Its standard input is a pipe too, which we never write: closing it is how a socklab server is asked to stop
// (it runs with --stop-on-stdin-eof), the same request on both systems and the one Wine passes through intact.
//
// No orphans: a child dies with the process that started it, however that one ends — on Linux through the
// parent-death signal (SIGTERM) and a process group of its own, on Windows through a job object that kills
// its processes when the last handle to it closes (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE). Linux sends the signal
// when the *thread* that started the child ends: start children from a thread that outlives them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace socklab::process {

using LineHandler = std::function<void(const std::string& line)>;

struct LaunchOptions {
    bool merge_stderr = false;  // the child's standard error into the same pipe as its standard output
};

class ChildProcess {
public:
    ChildProcess() = default;
    // A child still running is stopped (stop() with a short grace) — never left behind.
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    // Starts command[0] with the rest as its arguments (no shell). False with a message when it cannot start.
    bool start(const std::vector<std::string>& command, const LaunchOptions& options, std::string& error);
    // Reads what the child prints for up to timeout_ms, passing each whole line (with its '\n') to on_line.
    // Returns false once the child has exited (its last, unterminated output is passed on first).
    bool pump(int timeout_ms, const LineHandler& on_line);
    // Asks the child to stop: closes its standard input.
    void close_input();
    // Stops the child: close_input(), then up to `grace` for it to exit (still passing its output on), then it
    // and everything it started is killed. Returns its exit code; `forced` says whether it had to be killed.
    int stop(std::chrono::milliseconds grace, const LineHandler& on_line, bool* forced = nullptr);

    bool started() const { return started_; }
    bool exited() const { return exited_; }
    bool running() const { return started_ && !exited_; }
    // The exit code once exited: the program's own, or 128 + the signal that ended it (Linux).
    int exit_code() const { return exit_code_; }
    std::uint32_t id() const { return id_; }  // the process id
    const std::string& command_line() const { return command_line_; }

private:
    void kill_all();
    bool poll_exit();

    bool started_ = false;
    bool exited_ = false;
    int exit_code_ = 0;
    std::uint32_t id_ = 0;
    std::string command_line_;
    std::string pending_;  // output not yet ended by a newline
#ifdef _WIN32
    void* process_ = nullptr;  // HANDLE
    void* job_ = nullptr;      // HANDLE: the job the child (and whatever it starts) belongs to
    void* input_ = nullptr;    // HANDLE: our end of its standard input
    void* output_ = nullptr;   // HANDLE: our end of its standard output
#else
    int input_ = -1;
    int output_ = -1;
#endif
};

// The folder of the running program (…/build/linux/cli, or wherever socklab.exe was unpacked).
std::string this_program_folder();

// The socklab-server of this platform's own models: socklab-server.exe beside this program on Windows,
// <root>/build/linux/models/socklab-server on Linux.
std::string native_server_program(const std::string& root);
// The model ids a native socklab-server lists (`--list`, a few milliseconds); empty when it is not built or
// cannot run.
std::vector<std::string> listed_models(const std::string& program);

// How to start socklab-server with these arguments and --stop-on-stdin-eof, by the model they name
// (common/catalog/models.h): a Windows model runs socklab-server.exe from the folder this program runs from on
// Windows, and <root>/cmake/wine-run <root>/build/mingw/bin/socklab-server.exe on Linux; a Linux model runs
// native_server_program() on Linux, and nothing on Windows. With no known model named (--list, --help), the
// Windows server (under Wine on Linux), as before the Linux models. Empty, with a message in error, when the
// server is not built, or a Linux model is asked for on Windows or is not in the Linux server yet.
std::vector<std::string> server_command(const std::string& root, const std::vector<std::string>& arguments,
                                        std::string& error);

}  // namespace socklab::process
