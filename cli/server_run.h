// cli/server_run.h — a socklab-server started by the CLI and stopped gracefully: on Windows the
// socklab-server.exe beside socklab.exe; on Linux the one in build/mingw/bin under Wine for a Windows model, and
// build/linux/models/socklab-server natively for a Linux model (process::server_command).
//
// Used by `socklab serve` (which forwards the server's output and waits), `demo`, `lesson`, `compare` and
// `report` (which start a server, drive it, then stop it). The process itself is common/process's ChildProcess.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/process/child_process.h"

namespace socklab::cli {

// " under Wine" on Linux, "" on Windows: where a Windows model's server runs, for messages about starting it.
// A message about any model says runs_where(model) instead: " natively" for a Linux model on Linux.
#ifdef _WIN32
inline constexpr const char* kUnderWine = "";
#else
inline constexpr const char* kUnderWine = " under Wine";
#endif

// Where this model's server runs, for messages: " under Wine", " natively", or "" (common/catalog/models.h).
std::string runs_where(const std::string& model);

// What a server says once it listens: "socklab-server: iocp listening on 127.0.0.1:40123 (Wine 8.0)".
struct Listening {
    std::uint16_t port = 0;
    std::string runtime;  // "Wine 8.0", "Windows 10.0.19045"; empty when the line names none
};
// The port and runtime of a "listening on" line; nothing for any other line.
std::optional<Listening> listening_announcement(const std::string& line);

// What a terminal shows while a server starts, redrawn in place: "\r| starting the server under Wine... 2.4 s",
// the spinner turned by `tick`; `where` is runs_where(model). With say_why_slow, after 6 s it adds why the first
// start under Wine is slow.
std::string starting_line(unsigned tick, double waited_seconds, bool say_why_slow,
                          const std::string& where = kUnderWine);

// How waiting for a server to listen ended.
struct StartWait {
    enum class Outcome { listening, exited, timed_out };
    Outcome outcome = Outcome::exited;
    Listening listening;  // when it listens
    bool ok() const { return outcome == Outcome::listening; }
};

class ServerRun {
public:
    // Starts socklab-server <arguments> --stop-on-stdin-eof. False with a message when it is not built or
    // cannot start.
    bool start(const std::vector<std::string>& arguments, std::string& error);
    // Reads the server's output until it says it listens (each line to on_line), for at most `limit`; after each
    // 100 ms without the announcement, on_tick(tick, seconds waited) (a progress line, for instance).
    StartWait wait_until_listening(std::chrono::seconds limit, const process::LineHandler& on_line,
                                   const std::function<void(unsigned tick, double waited_seconds)>& on_tick = {});
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
    // Where it runs, by the model its arguments name: " under Wine", " natively" or "" (runs_where).
    const std::string& where() const { return where_; }

private:
    process::ChildProcess server_;
    std::string where_ = kUnderWine;  // stopped by its destructor if still running
};

}  // namespace socklab::cli
