// cli/cost.h — what one echoed line costs each model, and how many lines a second it echoes to 1, 4 and 64
// clients: `socklab compare --scenario cost` and the report's cost section (docs/design.md §10).
//
// One connection, closed-loop ping-pong of 64-byte lines, in windows of a fixed number of round trips (or fewer,
// when a window's duration bound ends it first), every echo checked byte for byte. Per round trip:
//   - the calls the server made to the layer beneath it: under Wine, requests to wineserver. A count, not a
//     timing: it does not scale with the machine's speed, and moves only where threads race (a wait that finds its
//     packet already queued asks less: a few percent between windows, up to a tenth between runs on a loaded
//     machine), so it is the figure to optimise on a shared machine, and it is shown as a count, not as a rate;
//   - the CPU time of the server process (user + system) and its context switches (voluntary + involuntary),
//     read from /proc for every thread of the process; and the round-trip latency (p50, p99). These are rates of
//     a shared machine: each is the median of several windows, with their minimum and maximum.
//
// How wineserver requests are counted. A private wineserver, `wineserver -p -f -d1`, runs in a Wine prefix of
// the cost scenario's own (SOCKLAB_COST_WINEPREFIX, default ~/.cache/socklab/wine-cost; one cost run at a time
// holds it, through a lock file beside it), and prints one line per request. Every line is read as it comes and
// attributed to the Windows process whose thread made it (WineserverTally), so Wine's own services, running in
// the same prefix, are never counted. The window is marked between round trips, each mark taken once the server
// has settled (100 ms with nothing to do, and wineserver's output read to its end): start-up, the connect, a
// warm-up and the shut-down fall outside it. Marks rather than a baseline subtracted: a second, shorter run per
// model would double the start-ups, and the difference of two large counts carries the variation of both
// start-ups (threads, services, the prefix's registry); the marks need neither.
//
// Latency, CPU time and context switches come from a second start of the same server the ordinary way
// (cmake/wine-run in socklab's usual prefix), because a wineserver that prints every request is slower: the
// rates measured beside it would be its own, not the server's.
//
// Throughput, on that second start after its windows: `socklab`'s load generator (common/load/load.h), closed loop
// with one line in flight per client, every echo checked byte for byte, at 1, 4 and 64 clients for a couple of
// seconds each. Round trips per second as clients are added: rates of a shared machine from one run, beside the
// yardstick's (it needs no /stats, so the yardstick runs it too). A run that gets a wrong byte or an error is the
// model's problem, as a wrong echo in a window is, and the runs after it are not made.
//
// Another runtime plugs in as another CallCounter: natively (a Linux server) the system calls would be counted
// the same way from `strace -f -o <pipe>` (a line per call), or for a whole run from `strace -c -f`. Only Wine's
// exists now, and only where socklab runs on Linux; on Windows the table has no call column.
//
// The yardstick: `yardstick`, a pseudo-model that only this scenario accepts, is bench/iocp_yardstick.cpp, a bare
// IOCP echo server with the same Win32 calls as models/06_iocp.cpp and nothing else. Run beside iocp and
// iocp-acceptex, it shows what socklab's own layers (protocol, session, tracing, accounting) cost per echo.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cli/measure.h"
#include "cli/table.h"

namespace socklab::cli {

// The cost scenario's pseudo-model: the bare IOCP echo server, bench/iocp_yardstick.cpp.
inline constexpr const char* kYardstick = "yardstick";

// ---- wineserver's debug output (pure) ---------------------------------------------------------------------
// A request line of `wineserver -d1`, "0124: recv_socket( async={...}, status=00000103, ... )": the thread that
// made it and the request's name. Replies ("0124: recv_socket() = PENDING { ... }") and events ("0124: *wakeup*
// signaled=0", "0124: *fd* ...") are not requests: nothing for them.
struct WineserverRequest {
    std::uint32_t thread = 0;
    std::string name;
};
std::optional<WineserverRequest> wineserver_request(std::string_view line);

// Requests counted per Windows process, from wineserver's lines in their order. A process is known by the Linux
// pid its first thread announces ("init_first_thread( unix_pid=18373, ..."); a thread belongs to the process of
// the thread that created it in its own process ("new_thread( process=ffffffff, ..." and that thread's reply
// "new_thread() = 0 { tid=012c, ..."). Requests of threads not traced to a process are not counted.
class WineserverTally {
public:
    void take(std::string_view line);
    // Requests made so far by the process that started as this Linux pid (0 when it was never seen).
    std::uint64_t requests(std::uint32_t unix_pid) const;
    // The same, by request name.
    std::map<std::string, std::uint64_t> requests_by_name(std::uint32_t unix_pid) const;
    std::uint64_t lines() const { return lines_; }  // every line taken, counted or not

private:
    std::uint32_t process_of(std::uint32_t unix_pid) const;

    std::unordered_map<std::uint32_t, std::uint32_t> first_thread_of_pid_;  // Linux pid -> process's first thread
    std::unordered_map<std::uint32_t, std::uint32_t> process_of_thread_;    // thread -> its process's first thread
    std::unordered_map<std::uint32_t, bool> creating_;  // a thread whose new_thread in its own process awaits a reply
    std::unordered_map<std::uint32_t, std::map<std::string, std::uint64_t>> by_process_;
    std::uint64_t lines_ = 0;
};

// ---- strace's output (pure) -------------------------------------------------------------------------------
// A line of `strace -f` that starts a system call, "4711 recvfrom(5, ...) = 64" (a short id padded with spaces:
// "939   brk(NULL) = ...") or, when another thread's line cut
// in, "4711 epoll_wait(4,  <unfinished ...>": the call's name. The rest of such a call ("4711 <... epoll_wait
// resumed>) = 1") is the same call, and the exit line ("4711 +++ exited with 0 +++") none: nothing for them.
std::optional<std::string> strace_call(std::string_view line);

// ---- a process's CPU time and context switches (Linux /proc; pure parsers) ----------------------------------
// The first field of /proc/<pid>/task/<tid>/schedstat: nanoseconds the thread ran (user and system), in seconds.
std::optional<double> schedstat_seconds(std::string_view text);
// voluntary_ctxt_switches + nonvoluntary_ctxt_switches of a /proc/<pid>/task/<tid>/status.
std::optional<std::uint64_t> status_switches(std::string_view text);
struct ProcessCounters {
    double cpu_seconds = 0;
    std::uint64_t switches = 0;
};
// Summed over the process's threads now (a thread that ended since the last reading takes its figures with it).
// False where there is no /proc (Windows) or the process is gone.
bool read_process_counters(std::uint32_t pid, ProcessCounters& counters);

// ---- the measurement -------------------------------------------------------------------------------------
struct CostSettings {
    unsigned line_size = 64;
    std::uint64_t lines = 1000;    // round trips per window
    double window_seconds = 5;     // a window's bound when the lines take longer
    unsigned timed_windows = 3;    // for the rates' spread
    unsigned counted_windows = 2;  // the count, twice: that it repeats is what makes it the figure to optimise on
    std::vector<unsigned> throughput_clients = {1, 4, 64};  // a closed-loop load run with each, in this order
    double throughput_seconds = 2;                          // each run's length
};

// One window of ping-pong.
struct CostWindow {
    std::uint64_t round_trips = 0;
    std::uint64_t calls = 0;   // counted windows only
    bool process_read = true;  // timed windows only, from here on: false where /proc could not be read (Windows)
    double cpu_seconds = 0;
    std::uint64_t switches = 0;
    double p50_us = 0, p99_us = 0;
};

// One closed-loop load run on the timed start.
struct CostThroughput {
    unsigned clients = 0;
    double round_trips_per_second = 0;
    bool right = true;  // every echo right, no error; when not, the measurement's problem says what went wrong
};

struct CostMeasurement : Measured {
    std::string counted;                      // what the calls are ("wineserver requests"); "" when not counted
    std::string not_counted;                  // why not, then
    std::vector<CostWindow> counts;           // the counted windows
    std::vector<CostWindow> timings;          // the timed windows
    std::map<std::string, double> kinds;      // calls per round trip by kind, over the counted windows
    std::vector<CostThroughput> throughputs;  // in CostSettings::throughput_clients' order, up to a failed one
    std::string problem;                      // a wrong byte, a lost connection, in a window or a throughput run
    // The problem came from a throughput run: the windows before it were measured right.
    bool throughput_failed() const { return !throughputs.empty() && !throughputs.back().right; }
    std::vector<double> calls_per_round_trip() const;
    std::vector<double> cpu_us_per_round_trip() const;
    std::vector<double> switches_per_round_trip() const;
};

// What a CallCounter counts (its what()): Wine's, and the native one's.
inline constexpr const char* kWineserverRequests = "wineserver requests";
inline constexpr const char* kSystemCalls = "system calls";

// What counts a server's calls beneath it, window by window (in cost.cpp: WineserverCounter, StraceCounter).
class CallCounter {
public:
    virtual ~CallCounter() = default;
    virtual std::string what() const = 0;  // kWineserverRequests or kSystemCalls
    // The command that runs a server so that its calls are counted.
    virtual std::vector<std::string> command(const std::vector<std::string>& server_command) = 0;
    // Calls so far by the process with this id, once everything it asked for so far has been read.
    virtual std::uint64_t calls(std::uint32_t pid) = 0;
    virtual std::map<std::string, std::uint64_t> calls_by_kind(std::uint32_t pid) = 0;
};

// The counter this platform has for the Windows servers, started (Wine's private wineserver, under Linux), or
// nothing with the reason.
std::unique_ptr<CallCounter> start_call_counter(std::string& why_not, const ProgressReport& progress);
// The counter of the native Linux servers: each one runs under `strace -f`, whose line per system call is counted
// (from a file of its own per start). Nothing, with the reason, where strace cannot run (or on Windows).
std::unique_ptr<CallCounter> start_system_call_counter(std::string& why_not);

// How to start a cost server: socklab-server <model> for a model, iocp-yardstick for kYardstick (beside this
// program on Windows, under cmake/wine-run from build/mingw/bin on Linux). Empty, with why, when it is not built.
std::vector<std::string> cost_server_command(const std::string& root, const std::string& model, std::string& error);
// A command run with SOCKLAB_WINEPREFIX set to this prefix (cmake/wine-run reads it): /usr/bin/env VAR=prefix ...
std::vector<std::string> in_prefix(const std::string& prefix, const std::vector<std::string>& command);

// One model (or the yardstick): counted windows with the counter (when there is one), then timed windows and the
// throughput runs.
CostMeasurement measure_cost(const std::string& model, const CostSettings& settings, CallCounter* counter,
                             const ProgressReport& progress);

// ---- the table (pure) --------------------------------------------------------------------------------------
// "412" when every value rounds alike; otherwise the median with the range, "412 (398-440)".
std::string spread_cell(std::vector<double> values, int decimals);
// "Wine 8.0 on Linux 6.1.0-28-amd64" under Wine (the host system's name added), the runtime alone elsewhere.
std::string runtime_label(const std::string& runtime, const std::string& host_system);
// The host's "Linux <release>" (uname), "" on Windows.
std::string host_system();
// The cost table: a row per model, the title naming the load and the runtime label, notes on how each figure was
// measured and which are deterministic; the most frequent calls of the iocp rows and the yardstick in a note. A
// failed throughput run's cell says "failed", a note says why, and the row's other figures stand.
Table cost_table(const CostSettings& settings, const std::vector<CostMeasurement>& runs, const std::string& runtime);

}  // namespace socklab::cli
