// cli/cost.cpp — see cost.h.
//
// Sections: wineserver's debug output · /proc · the private wineserver · a cost server · ping-pong · throughput ·
// the measurement · the table.
#include "cli/cost.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#ifndef _WIN32
#include <fcntl.h>
#include <sys/file.h>
#include <sys/utsname.h>
#include <unistd.h>
#endif

#include "cli/locate.h"
#include "cli/server_run.h"
#include "common/load/load.h"
#include "common/net/socket.h"
#include "common/process/child_process.h"

namespace socklab::cli {

using Clock = std::chrono::steady_clock;

// ---- wineserver's debug output ----------------------------------------------------------------------------
namespace {

// The hexadecimal thread id a line starts with ("0124: ..."), and where the rest begins; nothing otherwise.
std::optional<std::uint32_t> line_thread(std::string_view line, std::size_t& rest) {
    std::size_t digits = 0;
    while (digits < line.size() && std::isxdigit(static_cast<unsigned char>(line[digits]))) ++digits;
    if (digits == 0 || digits > 8 || line.substr(digits, 2) != ": ") return std::nullopt;
    rest = digits + 2;
    return static_cast<std::uint32_t>(std::strtoul(std::string(line.substr(0, digits)).c_str(), nullptr, 16));
}

// The number after "key=" in a line, in the given base; nothing when the key is absent.
std::optional<std::uint32_t> field(std::string_view line, std::string_view key, int base) {
    const std::size_t at = line.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    const std::string digits(line.substr(at + key.size(), 16));
    char* end = nullptr;
    const unsigned long value = std::strtoul(digits.c_str(), &end, base);
    if (end == digits.c_str()) return std::nullopt;
    return static_cast<std::uint32_t>(value);
}

}  // namespace

std::optional<WineserverRequest> wineserver_request(std::string_view line) {
    std::size_t rest = 0;
    const std::optional<std::uint32_t> thread = line_thread(line, rest);
    if (!thread) return std::nullopt;
    std::size_t end = rest;
    while (end < line.size() && (std::islower(static_cast<unsigned char>(line[end])) || line[end] == '_' ||
                                 std::isdigit(static_cast<unsigned char>(line[end]))))
        ++end;
    // A request is "name( ...": its reply is "name() = ...", an event "*wakeup* ...".
    if (end == rest || line.substr(end, 2) != "( ") return std::nullopt;
    return WineserverRequest{*thread, std::string(line.substr(rest, end - rest))};
}

void WineserverTally::take(std::string_view line) {
    ++lines_;
    std::size_t rest = 0;
    const std::optional<std::uint32_t> thread = line_thread(line, rest);
    if (!thread) return;
    const std::string_view text = line.substr(rest);
    if (text.rfind("init_first_thread( ", 0) == 0) {
        // A new process's first thread: the process is known by it from now on.
        if (const auto pid = field(text, "unix_pid=", 10)) first_thread_of_pid_[*pid] = *thread;
        process_of_thread_[*thread] = *thread;
    } else if (text.rfind("new_thread() = 0 ", 0) == 0) {
        if (creating_.erase(*thread))
            if (const auto tid = field(text, " tid=", 16)) process_of_thread_[*tid] = process_of_thread_[*thread];
    }
    const auto process = process_of_thread_.find(*thread);
    if (process == process_of_thread_.end()) return;
    const std::optional<WineserverRequest> request = wineserver_request(line);
    if (!request) return;
    // A thread created in the creator's own process (ffffffff: the current-process pseudo-handle) is its process's.
    if (request->name == "new_thread" && text.find("process=ffffffff") != std::string_view::npos)
        creating_[*thread] = true;
    ++by_process_[process->second][request->name];
}

std::uint32_t WineserverTally::process_of(std::uint32_t unix_pid) const {
    const auto found = first_thread_of_pid_.find(unix_pid);
    return found == first_thread_of_pid_.end() ? 0 : found->second;
}

std::map<std::string, std::uint64_t> WineserverTally::requests_by_name(std::uint32_t unix_pid) const {
    const auto found = by_process_.find(process_of(unix_pid));
    if (process_of(unix_pid) == 0 || found == by_process_.end()) return {};
    return found->second;
}

std::uint64_t WineserverTally::requests(std::uint32_t unix_pid) const {
    std::uint64_t total = 0;
    for (const auto& [name, count] : requests_by_name(unix_pid)) total += count;
    return total;
}

// ---- strace's output --------------------------------------------------------------------------------------
std::optional<std::string> strace_call(std::string_view line) {
    std::size_t digits = 0;
    while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
    std::size_t start = digits;
    while (start < line.size() && line[start] == ' ') ++start;  // strace pads a short id: "939   brk(NULL)"
    if (digits == 0 || start == digits) return std::nullopt;
    const std::string_view call = line.substr(start);
    std::size_t name = 0;
    while (name < call.size() && (std::isalnum(static_cast<unsigned char>(call[name])) || call[name] == '_')) ++name;
    if (name == 0 || name >= call.size() || call[name] != '(') return std::nullopt;  // "<... x resumed>", "+++"
    return std::string(call.substr(0, name));
}

// ---- /proc ------------------------------------------------------------------------------------------------
std::optional<double> schedstat_seconds(std::string_view text) {
    const std::string first(text.substr(0, text.find(' ')));
    char* end = nullptr;
    const unsigned long long nanoseconds = std::strtoull(first.c_str(), &end, 10);
    if (first.empty() || end != first.c_str() + first.size()) return std::nullopt;
    return static_cast<double>(nanoseconds) / 1e9;
}

std::optional<std::uint64_t> status_switches(std::string_view text) {
    std::uint64_t total = 0;
    int found = 0;
    for (std::string_view key : {"\nvoluntary_ctxt_switches:", "\nnonvoluntary_ctxt_switches:"}) {
        const std::size_t at = text.find(key);
        if (at == std::string_view::npos) continue;
        total += std::strtoull(std::string(text.substr(at + key.size(), 24)).c_str(), nullptr, 10);
        ++found;
    }
    if (found != 2) return std::nullopt;
    return total;
}

bool read_process_counters(std::uint32_t pid, ProcessCounters& counters) {
#ifdef _WIN32
    (void)pid;
    (void)counters;
    return false;
#else
    namespace fs = std::filesystem;
    std::error_code error;
    fs::directory_iterator tasks("/proc/" + std::to_string(pid) + "/task", error);
    if (error) return false;
    ProcessCounters sum;
    for (const fs::directory_entry& task : tasks) {
        auto read = [&](const char* name) {
            std::ifstream file(task.path() / name);
            std::ostringstream text;
            text << file.rdbuf();
            return text.str();
        };
        // A thread that ends between the listing and the reading leaves nothing to add: it is skipped.
        const std::optional<double> ran = schedstat_seconds(read("schedstat"));
        const std::optional<std::uint64_t> switches = status_switches("\n" + read("status"));
        if (!ran || !switches) continue;
        sum.cpu_seconds += *ran;
        sum.switches += *switches;
    }
    counters = sum;
    return true;
#endif
}

// ---- the private wineserver -------------------------------------------------------------------------------
namespace {

#ifndef _WIN32
std::string cost_prefix() {
    if (const char* chosen = std::getenv("SOCKLAB_COST_WINEPREFIX"); chosen && *chosen) return chosen;
    const char* cache = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    const std::string base = cache && *cache ? cache : std::string(home ? home : "/tmp") + "/.cache";
    return base + "/socklab/wine-cost";
}

// `wineserver -p -f -d1` in the cost prefix, its output read on a thread of its own into a tally, stopped with
// `wineserver -k` in that prefix (ours alone: the lock says so) when the comparison is over.
class WineserverCounter : public CallCounter {
public:
    ~WineserverCounter() override { finish(); }

    bool start(std::string& error, const ProgressReport& progress) {
        prefix_ = cost_prefix();
        std::error_code made;
        std::filesystem::create_directories(prefix_, made);
        // One cost run per prefix at a time: a second wineserver there would be refused, or count the first's.
        lock_ = open((prefix_ + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
        if (lock_ < 0 || flock(lock_, LOCK_EX | LOCK_NB) != 0) {
            progress("waiting for another cost run to leave " + prefix_, 0);
            if (lock_ < 0 || flock(lock_, LOCK_EX) != 0) {
                error = "cannot lock " + prefix_ + ".lock";
                return false;
            }
        }
        // A wineserver already in the prefix makes ours exit at once: one that outlived a killed run, or a program
        // run there by hand. The prefix is the cost scenario's own and we hold its lock, so it is ended, once.
        if (!start_wineserver(error)) {
            stop_wineserver_in_prefix();
            if (!start_wineserver(error)) return false;
        }
        // The first program of a new wineserver starts Wine's services (and the first ever creates the prefix).
        progress("starting a private wineserver in " + prefix_, 0);
        process::ChildProcess boot;
        const std::vector<std::string> wineboot =
            in_prefix(prefix_, {repository_root() + "/cmake/wine-run", "wineboot"});
        if (!boot.start(wineboot, {}, error)) return false;
        const auto limit = Clock::now() + std::chrono::seconds(180);
        while (boot.pump(100, {}) && Clock::now() < limit) {}
        if (boot.running() || boot.exit_code() != 0) {
            error = "wineboot in " + prefix_ + " failed";
            return false;
        }
        return true;
    }

    // `wineserver -p -f -d1`, its output read by a thread of its own; false when it does not keep running.
    bool start_wineserver(std::string& error) {
        process::LaunchOptions merged;
        merged.merge_stderr = true;  // -d1 prints on standard error
        server_ = std::make_unique<process::ChildProcess>();
        gone_ = false;
        if (!server_->start({"/usr/bin/env", "WINEPREFIX=" + prefix_, "wineserver", "-p", "-f", "-d1"}, merged, error))
            return false;
        reader_ = std::thread([this] {
            while (!quit_ && server_->pump(100, [this](const std::string& line) {
                std::lock_guard guard(lock_tally_);
                tally_.take(line);
            })) {}
            gone_ = true;
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        if (!gone_) return true;
        reader_.join();
        error = "wineserver -f -d1 exited at once in " + prefix_ + " (another wineserver runs there?)";
        return false;
    }

    // `wineserver -k` in the cost prefix (never another), and waits for it.
    void stop_wineserver_in_prefix() {
        process::ChildProcess kill;
        std::string ignored;
        if (kill.start({"/usr/bin/env", "WINEPREFIX=" + prefix_, "wineserver", "-k"}, {}, ignored))
            kill.stop(std::chrono::seconds(10), {});
    }

    std::string what() const override { return kWineserverRequests; }
    std::vector<std::string> command(const std::vector<std::string>& server_command) override {
        return in_prefix(prefix_, server_command);
    }
    std::uint64_t calls(std::uint32_t pid) override {
        settle();
        std::lock_guard guard(lock_tally_);
        return tally_.requests(pid);
    }
    std::map<std::string, std::uint64_t> calls_by_kind(std::uint32_t pid) override {
        settle();
        std::lock_guard guard(lock_tally_);
        return tally_.requests_by_name(pid);
    }

private:
    // Until wineserver's output has been read to its end: no new line for 30 ms (at most 2 s).
    void settle() {
        const auto limit = Clock::now() + std::chrono::seconds(2);
        std::uint64_t before = ~0ull;
        for (;;) {
            std::uint64_t now;
            {
                std::lock_guard guard(lock_tally_);
                now = tally_.lines();
            }
            if (now == before || Clock::now() > limit) return;
            before = now;
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
        }
    }

    void finish() {
        if (server_ && server_->started() && !gone_) {
            stop_wineserver_in_prefix();
            const auto limit = Clock::now() + std::chrono::seconds(10);
            while (!gone_ && Clock::now() < limit) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        quit_ = true;
        if (reader_.joinable()) reader_.join();
        if (server_ && server_->running()) server_->stop(std::chrono::seconds(2), {});
        if (lock_ >= 0) close(lock_);  // and the lock with it
        lock_ = -1;
    }

    std::string prefix_;
    int lock_ = -1;
    std::unique_ptr<process::ChildProcess> server_;  // a new one for a second try
    std::thread reader_;
    std::atomic<bool> quit_{false}, gone_{false};
    std::mutex lock_tally_;
    WineserverTally tally_;
};

// Each server started under `strace -f -o <file>`, a file of its own per start; the file is read as it grows, a
// line per system call, and every call in it is the server's (strace traces the server and its threads only).
// strace stops a thread at each call, so this start is slow: the rates come from the second start, as under Wine.
class StraceCounter : public CallCounter {
public:
    ~StraceCounter() override {
        std::error_code ignored;
        std::filesystem::remove_all(folder_, ignored);
    }

    bool start(std::string& error) {
        process::ChildProcess version;
        // Through env, here and below: a ChildProcess runs a path (execv), and env finds strace on the PATH.
        if (!version.start({"/usr/bin/env", "strace", "-V"}, {}, error)) return false;
        version.stop(std::chrono::seconds(5), {});
        if (version.exit_code() != 0) {
            error = "strace -V failed (not installed? apt-get install strace)";
            return false;
        }
        char folder[] = "/tmp/socklab-strace-XXXXXX";
        if (!mkdtemp(folder)) {
            error = "cannot make a folder for strace's output in /tmp";
            return false;
        }
        folder_ = folder;
        return true;
    }

    std::string what() const override { return kSystemCalls; }
    // -qq: no attach/detach lines; -e signal=none: no signal lines; -s 0: no string contents (less to write).
    std::vector<std::string> command(const std::vector<std::string>& server_command) override {
        file_ = folder_ + "/calls-" + std::to_string(++starts_) + ".txt";
        read_ = 0;
        tally_.clear();
        std::vector<std::string> traced{"/usr/bin/env", "strace", "-f", "-qq", "-e", "signal=none",
                                        "-s",           "0",      "-o", file_, "--"};
        traced.insert(traced.end(), server_command.begin(), server_command.end());
        return traced;
    }
    std::uint64_t calls(std::uint32_t) override {
        read_to_end();
        std::uint64_t all = 0;
        for (const auto& [name, count] : tally_) all += count;
        return all;
    }
    std::map<std::string, std::uint64_t> calls_by_kind(std::uint32_t) override {
        read_to_end();
        return tally_;
    }

private:
    // Until the file stops growing (no new bytes for 30 ms, at most 2 s), then every whole line not read yet.
    void read_to_end() {
        const auto limit = Clock::now() + std::chrono::seconds(2);
        std::error_code failed;
        std::uintmax_t size = 0, before = ~std::uintmax_t{0};
        while ((size = std::filesystem::file_size(file_, failed)) != before && !failed && Clock::now() < limit) {
            before = size;
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
        }
        std::ifstream in(file_, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(read_));
        std::string line;
        while (std::getline(in, line) && !in.eof()) {  // a last line without its newline is read next time
            read_ += line.size() + 1;
            if (const std::optional<std::string> call = strace_call(line)) ++tally_[*call];
        }
    }

    std::string folder_;
    std::string file_;  // this start's
    unsigned starts_ = 0;
    std::uint64_t read_ = 0;  // bytes of file_ taken into tally_
    std::map<std::string, std::uint64_t> tally_;
};
#endif

}  // namespace

std::unique_ptr<CallCounter> start_system_call_counter(std::string& why_not) {
#ifdef _WIN32
    why_not = "system calls are counted with strace, on Linux only";
    return nullptr;
#else
    auto counter = std::make_unique<StraceCounter>();
    if (!counter->start(why_not)) return nullptr;
    return counter;
#endif
}

std::unique_ptr<CallCounter> start_call_counter(std::string& why_not, const ProgressReport& progress) {
#ifdef _WIN32
    (void)progress;
    why_not = "calls are counted under Wine on Linux only (wineserver's requests)";
    return nullptr;
#else
    auto counter = std::make_unique<WineserverCounter>();
    if (!counter->start(why_not, progress)) return nullptr;
    return counter;
#endif
}

std::vector<std::string> in_prefix(const std::string& prefix, const std::vector<std::string>& command) {
    std::vector<std::string> wrapped{"/usr/bin/env", "SOCKLAB_WINEPREFIX=" + prefix};
    wrapped.insert(wrapped.end(), command.begin(), command.end());
    return wrapped;
}

// ---- a cost server ----------------------------------------------------------------------------------------
std::vector<std::string> cost_server_command(const std::string& root, const std::string& model, std::string& error) {
    if (model != kYardstick) return process::server_command(root, {model, "--port", "0"}, error);
#ifdef _WIN32
    (void)root;
    const std::string program = (std::filesystem::path(process::this_program_folder()) / "iocp-yardstick.exe").string();
#else
    const std::string program = root + "/build/mingw/bin/iocp-yardstick.exe";
#endif
    if (!std::filesystem::exists(program)) {
        error = program + " is not built yet (cmake --build build/mingw --target iocp-yardstick)";
        return {};
    }
#ifdef _WIN32
    return {program, "--port", "0"};
#else
    return {root + "/cmake/wine-run", program, "--port", "0"};
#endif
}

namespace {

// A server of the scenario, started from a command, stopped by closing its standard input, and judged as
// compare judges a model (cli/measure.cpp): exit code 0 and, for a model, nothing left behind.
class CostServer {
public:
    bool start(const std::vector<std::string>& command, Measured& measured) {
        std::string error;
        if (command.empty() || !child_.start(command, {}, error)) {
            measured.failure = error.empty() ? "the server could not start" : error;
            return false;
        }
        const auto limit = Clock::now() + std::chrono::seconds(120);
        std::optional<Listening> heard;
        while (!heard && Clock::now() < limit)
            if (!child_.pump(100, [&](const std::string& line) {
                    remember(line);
                    if (!heard) heard = listening_announcement(line);
                }))
                break;
        if (!heard || heard->port == 0) {
            measured.failure = "the server did not start" + (last_line_.empty() ? "" : ": " + last_line_);
            return false;
        }
        port_ = heard->port;
        measured.runtime = heard->runtime;
        measured.started = true;
        return true;
    }

    std::uint16_t port() const { return port_; }
    std::uint32_t pid() const { return child_.id(); }

    void stop(Measured& measured) {
        bool forced = false;
        const int status = child_.stop(
            std::chrono::seconds(20), [&](const std::string& line) { remember(line); }, &forced);
        if (!measured.started || !measured.failure.empty()) return;
        if (forced || status != 0)
            measured.failure =
                "the server exited with " + std::to_string(status) + (last_line_.empty() ? "" : ": " + last_line_);
        else if (measured.model != kYardstick && !clean_)
            measured.failure = "the server did not stop cleanly: " + last_line_;
    }

private:
    void remember(std::string line) {
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        if (line.empty()) return;
        last_line_ = line;
        if (line.find("stopped; 0 sockets, 0 per-I/O objects, 0 connections left") != std::string::npos) clean_ = true;
    }

    process::ChildProcess child_;
    std::uint16_t port_ = 0;
    std::string last_line_;
    bool clean_ = false;
};

// ---- ping-pong --------------------------------------------------------------------------------------------
// One connection, one line at a time, each echo checked and timed. Its own loop, not load::run: the windows'
// marks must fall between two round trips, where the server has nothing left to do.
class PingPong {
public:
    bool connect(std::uint16_t port, std::string& error) {
        socket_ = net::connect_tcp("127.0.0.1", port, error, 10000);
        if (!socket_.valid()) return false;
        net::set_no_delay(socket_, true);  // the load's sockets do the same: no Nagle wait on a 64-byte line
        return true;
    }

    // Up to `lines` round trips within `seconds`; their latencies in microseconds. False on a wrong or lost echo.
    bool run(std::uint64_t lines, double seconds, unsigned size, std::vector<double>& latencies, std::string& problem) {
        const auto limit = Clock::now() + std::chrono::duration<double>(seconds);
        std::string echo(size, '\0');
        for (std::uint64_t i = 0; i < lines && Clock::now() < limit; ++i, ++sequence_) {
            const std::string line = load::line_for(0, sequence_, size);
            const auto sent = Clock::now();
            if (!net::send_all(socket_, line.data(), line.size())) {
                problem = "line " + std::to_string(sequence_) + ": the send failed";
                return false;
            }
            std::size_t have = 0;
            while (have < size) {
                const long got = net::receive_some(socket_, echo.data() + have, size - have);
                if (got <= 0) {
                    problem = "line " + std::to_string(sequence_) + ": the server closed or reset the connection";
                    return false;
                }
                have += static_cast<std::size_t>(got);
            }
            latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
            if (echo != line) {
                problem = "line " + std::to_string(sequence_) + ": the echo differs from the line sent";
                return false;
            }
        }
        return true;
    }

    void close() { socket_ = net::Socket(); }

private:
    net::Socket socket_;
    std::uint64_t sequence_ = 0;
};

double percentile(std::vector<double> values, double fraction) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const std::size_t index = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(index, values.size() - 1)];
}

// The server's quiet moment before a mark: its last reply sent, its next receive posted, its threads waiting.
void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(100)); }

constexpr std::uint64_t kWarmUpLines =
    50;  // before the first window: first-use work (a thread, a buffer) is not a cost per line

}  // namespace

// ---- throughput -------------------------------------------------------------------------------------------
namespace {

// What went wrong in a load run that is not ok(): its first problem described, or its counts.
std::string load_problem(const load::Result& result) {
    if (!result.problems.empty()) return result.problems.front();
    return std::to_string(result.lines_echoed) + " of " + std::to_string(result.lines_sent) + " lines echoed, " +
           std::to_string(result.mismatches) + " wrong, " + std::to_string(result.errors) + " errors";
}

// The load generator against one started server, closed loop, at each of settings.throughput_clients in turn. A
// run that is not right becomes the measurement's problem, and the runs after it are not made: the server is
// wrong, and what it does next says nothing about its speed.
void run_throughputs(const CostServer& server, CostMeasurement& measurement, const CostSettings& settings,
                     const std::function<void(unsigned)>& before_run) {
    for (unsigned clients : settings.throughput_clients) {
        before_run(clients);
        load::Options options;  // closed loop, one line in flight per client
        options.port = server.port();
        options.clients = clients;
        options.line_size = settings.line_size;
        options.duration_seconds = settings.throughput_seconds;
        const load::Result result = load::run(options);
        measurement.throughputs.push_back({clients, result.lines_per_second, result.ok()});
        if (!result.ok()) {
            measurement.problem = "throughput at " + std::to_string(clients) + " clients: " + load_problem(result);
            return;
        }
    }
}

}  // namespace

// ---- the measurement --------------------------------------------------------------------------------------
namespace {

std::vector<double> per_round_trip(const std::vector<CostWindow>& windows, double (*figure)(const CostWindow&)) {
    std::vector<double> values;
    for (const CostWindow& window : windows)
        if (window.round_trips > 0) values.push_back(figure(window) / static_cast<double>(window.round_trips));
    return values;
}

}  // namespace

std::vector<double> CostMeasurement::calls_per_round_trip() const {
    return per_round_trip(counts, [](const CostWindow& w) { return static_cast<double>(w.calls); });
}
std::vector<double> CostMeasurement::cpu_us_per_round_trip() const {
    return per_round_trip(timings, [](const CostWindow& w) { return w.cpu_seconds * 1e6; });
}
std::vector<double> CostMeasurement::switches_per_round_trip() const {
    return per_round_trip(timings, [](const CostWindow& w) { return static_cast<double>(w.switches); });
}

namespace {

// Windows of ping-pong against one started server: counted ones (counter given) or timed ones.
void run_windows(CostServer& server, CostMeasurement& measurement, const CostSettings& settings, CallCounter* counter,
                 unsigned windows, const std::function<void(unsigned)>& before_window) {
    PingPong client;
    std::string error;
    if (!client.connect(server.port(), error)) {
        measurement.problem = "cannot connect: " + error;
        return;
    }
    std::vector<double> ignored;
    if (!client.run(kWarmUpLines, settings.window_seconds, settings.line_size, ignored, measurement.problem)) return;
    for (unsigned index = 0; index < windows; ++index) {
        before_window(index);
        CostWindow window;
        ProcessCounters before, after;
        std::uint64_t calls_before = 0;
        std::map<std::string, std::uint64_t> kinds_before;
        settle();
        if (counter) {
            calls_before = counter->calls(server.pid());
            kinds_before = counter->calls_by_kind(server.pid());
        } else {
            window.process_read = read_process_counters(server.pid(), before);
        }
        std::vector<double> latencies;
        const bool right =
            client.run(settings.lines, settings.window_seconds, settings.line_size, latencies, measurement.problem);
        window.round_trips = latencies.size();
        settle();
        if (counter) {
            window.calls = counter->calls(server.pid()) - calls_before;
            for (const auto& [kind, count] : counter->calls_by_kind(server.pid()))
                measurement.kinds[kind] += static_cast<double>(count - kinds_before[kind]);
            measurement.counts.push_back(window);
        } else {
            window.process_read = read_process_counters(server.pid(), after) && window.process_read;
            window.cpu_seconds = after.cpu_seconds - before.cpu_seconds;
            window.switches = after.switches - before.switches;
            window.p50_us = percentile(latencies, 0.50);
            window.p99_us = percentile(latencies, 0.99);
            measurement.timings.push_back(window);
        }
        if (!right) return;
    }
    client.close();
}

}  // namespace

CostMeasurement measure_cost(const std::string& model, const CostSettings& settings, CallCounter* counter,
                             const ProgressReport& progress) {
    CostMeasurement measurement;
    measurement.model = model;
    std::string error;
    const std::vector<std::string> command = cost_server_command(repository_root(), model, error);
    if (command.empty()) {
        measurement.failure = error;
        return measurement;
    }
    const unsigned all = (counter ? settings.counted_windows : 0) + settings.timed_windows +
                         static_cast<unsigned>(settings.throughput_clients.size());
    unsigned done = 0;
    if (counter) {
        measurement.counted = counter->what();
        progress("starting the server beside a wineserver that prints every request", 0);
        CostServer server;
        if (server.start(counter->command(command), measurement))
            run_windows(server, measurement, settings, counter, settings.counted_windows, [&](unsigned index) {
                progress("counting " + counter->what() + ", window " + std::to_string(index + 1), done++ / double(all));
            });
        server.stop(measurement);
        // Per round trip, over all counted windows.
        std::uint64_t round_trips = 0;
        for (const CostWindow& window : measurement.counts) round_trips += window.round_trips;
        for (auto& [kind, count] : measurement.kinds) count /= std::max<double>(1, static_cast<double>(round_trips));
    }
    if (!measurement.failure.empty() || !measurement.problem.empty()) return measurement;
    progress("starting the server" + (model == kYardstick ? std::string(kUnderWine) : runs_where(model)),
             done / double(all));
    CostServer server;
    Measured timed;
    timed.model = model;
    if (server.start(command, timed)) {
        run_windows(server, measurement, settings, nullptr, settings.timed_windows, [&](unsigned index) {
            progress("timing, window " + std::to_string(index + 1), done++ / double(all));
        });
        if (measurement.problem.empty())
            run_throughputs(server, measurement, settings, [&](unsigned clients) {
                progress("throughput, " + std::to_string(clients) + " clients", done++ / double(all));
            });
    }
    server.stop(timed);
    if (measurement.runtime.empty()) measurement.runtime = timed.runtime;
    measurement.started = measurement.started || timed.started;
    if (measurement.failure.empty()) measurement.failure = timed.failure;
    return measurement;
}

// ---- the table --------------------------------------------------------------------------------------------
std::string spread_cell(std::vector<double> values, int decimals) {
    if (values.empty()) return "";
    std::sort(values.begin(), values.end());
    const std::size_t middle = values.size() / 2;
    const double median = values.size() % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    const std::string low = fixed(values.front(), decimals), high = fixed(values.back(), decimals);
    if (low == high) return low;
    return fixed(median, decimals) + " (" + low + "-" + high + ")";
}

std::string runtime_label(const std::string& runtime, const std::string& host) {
    if (is_wine(runtime) && !host.empty()) return runtime + " on " + host;
    return runtime;
}

std::string host_system() {
#ifdef _WIN32
    return "";
#else
    utsname system{};
    if (uname(&system) != 0) return "";
    return std::string(system.sysname) + " " + system.release;
#endif
}

namespace {

// "select 5.6, remove_completion 4.3, ...": the kinds that make up most of a row's calls, most frequent first.
std::string top_kinds(const std::map<std::string, double>& kinds, std::size_t most) {
    std::vector<std::pair<double, std::string>> sorted;
    for (const auto& [kind, count] : kinds) sorted.push_back({count, kind});
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    std::string text;
    for (std::size_t i = 0; i < std::min(most, sorted.size()); ++i)
        text += (i ? ", " : "") + sorted[i].second + " " + fixed(sorted[i].first, 1);
    return text;
}

// "1, 4 and 64": the throughput runs' client counts, as a sentence lists them.
std::string listed(const std::vector<unsigned>& counts) {
    std::string text;
    for (std::size_t i = 0; i < counts.size(); ++i)
        text += (i == 0 ? "" : i + 1 == counts.size() ? " and " : ", ") + std::to_string(counts[i]);
    return text;
}

// "2 s", "0.5 s": a setting in seconds as it was given.
std::string seconds_text(double seconds) {
    std::ostringstream text;
    text << seconds << " s";
    return text.str();
}

// A throughput run's cell: its round trips per second, "failed" when it was not right, "" when it was not made.
std::string throughput_cell(const CostMeasurement& run, unsigned clients) {
    const auto made = std::find_if(run.throughputs.begin(), run.throughputs.end(),
                                   [&](const CostThroughput& throughput) { return throughput.clients == clients; });
    if (made == run.throughputs.end()) return "";
    return made->right ? fixed(made->round_trips_per_second, 0) : "failed";
}

}  // namespace

Table cost_table(const CostSettings& settings, const std::vector<CostMeasurement>& runs, const std::string& runtime) {
    Table table;
    // What the rows counted: wineserver requests (Windows servers under Wine), system calls (native servers), both.
    bool requests = false, system_calls = false;
    for (const CostMeasurement& run : runs) {
        requests = requests || run.counted == kWineserverRequests;
        system_calls = system_calls || run.counted == kSystemCalls;
    }
    const std::string counted_header = requests && system_calls ? "calls/rt (count)"
                                       : requests               ? "requests/rt (count)"
                                       : system_calls           ? "syscalls/rt (count)"
                                                                : "calls/rt";
    table.title = "Cost per echoed line: 1 connection, " + std::to_string(settings.line_size) + "-byte lines, " +
                  std::to_string(settings.lines) + " round trips a window; throughput at " +
                  listed(settings.throughput_clients) + " clients, " + seconds_text(settings.throughput_seconds) +
                  " each; measured under " + runtime + ", " + std::to_string(std::thread::hardware_concurrency()) +
                  " processors";
    table.columns = {{"model", "model"},
                     {"requests_per_round_trip", counted_header},
                     {"cpu_us_per_round_trip", "CPU µs/rt"},
                     {"switches_per_round_trip", "switches/rt"},
                     {"p50_us", "p50 µs"},
                     {"p99_us", "p99 µs"}};
    for (unsigned clients : settings.throughput_clients)
        table.columns.push_back({"round_trips_per_second_" + std::to_string(clients),
                                 "rt/s " + std::to_string(clients) + (clients == 1 ? " conn" : " conns")});
    for (const CostMeasurement& run : runs) {
        // A failed throughput run leaves the windows' figures standing; any other failure or problem, nothing.
        if (!run.ok() || (!run.problem.empty() && !run.throughput_failed())) {
            std::vector<std::string> cells(table.columns.size(), "");
            cells[0] = run.model;
            cells[1] = "not measured: " + (run.failure.empty() ? run.problem : run.failure);
            table.rows.push_back(cells);
            continue;
        }
        std::vector<double> p50, p99;
        bool process_read = true;  // where /proc could not be read (Windows), no CPU time or switches
        for (const CostWindow& window : run.timings) {
            p50.push_back(window.p50_us);
            p99.push_back(window.p99_us);
            process_read = process_read && window.process_read;
        }
        std::vector<std::string> cells = {run.model,
                                          run.counted.empty() ? "-" : spread_cell(run.calls_per_round_trip(), 1),
                                          process_read ? spread_cell(run.cpu_us_per_round_trip(), 0) : "-",
                                          process_read ? spread_cell(run.switches_per_round_trip(), 1) : "-",
                                          spread_cell(p50, 0),
                                          spread_cell(p99, 0)};
        for (unsigned clients : settings.throughput_clients) cells.push_back(throughput_cell(run, clients));
        table.rows.push_back(cells);
    }
    const std::string windows = std::to_string(settings.timed_windows);
    const std::string windows_counted = std::to_string(settings.counted_windows);
    if (requests && system_calls)
        table.notes.push_back(
            "calls/rt counts what each server asks of the layer beneath it: wineserver requests for "
            "the Windows servers (under Wine), system calls for the native Linux ones. The two are "
            "different units: compare a row with the rows of its own runtime.");
    if (system_calls)
        table.notes.push_back(
            "syscalls: the native servers' system calls per round trip, counted from `strace -f` (a line per call, "
            "every thread of the server), between the same marks, each of " +
            windows_counted +
            " counted windows giving it. strace stops a thread at every call, so that start is slow; its rates are "
            "not used.");
    if (requests)
        table.notes.push_back(
            "requests/rt is a count, not a timing: requests to wineserver per round trip, counted by a private "
            "`wineserver -p -f -d1` in a prefix of its own, which prints every request. Only the server process's "
            "own requests count, between marks set between round trips once the server has settled, so start-up, "
            "the connect and the shut-down fall outside. It does not scale with the machine's speed as a rate does; "
            "only where threads race does it move (a wait that finds its packet already queued asks less): by a "
            "few percent between windows, by up to a tenth between runs on a loaded machine. Each of " +
            windows_counted +
            " counted windows gives it: one figure when they agree, the median and their range when not.");
    if (!requests && !system_calls)
        for (const CostMeasurement& run : runs)
            if (!run.not_counted.empty()) {
                table.notes.push_back("calls/rt: not counted here: " + run.not_counted + ".");
                break;
            }
    table.notes.push_back(
        "CPU µs/rt (user + system, every thread of the server process), switches/rt (voluntary + involuntary "
        "context switches of those threads, from /proc) and the round-trip latency p50 and p99 are rates of a "
        "shared machine, measured on a second start of the server without its counter (under Wine, beside the "
        "ordinary wineserver; natively, without strace): the median of " +
        windows + " windows, with the lowest and highest in brackets when they differ.");
    table.notes.push_back(
        "rt/s N conns: round trips per second with N clients, measured on that second start after its windows by "
        "socklab's load generator: closed loop, one line in flight per client (its next line sent once the last "
        "has come back), " +
        seconds_text(settings.throughput_seconds) + " at each of " + listed(settings.throughput_clients) +
        " clients, every echo checked byte for byte. Rates of a shared machine from one run, one figure each: "
        "compare the rows with each other.");
    for (const CostMeasurement& run : runs)
        if (run.ok() && run.throughput_failed())
            table.notes.push_back(run.model + ": " + run.problem +
                                  " (that run's cell says failed; no run was made "
                                  "after it).");
    std::string kinds;
    for (const CostMeasurement& run : runs)
        if (!run.kinds.empty() && (run.model == "iocp" || run.model == "iocp-acceptex" || run.model == kYardstick))
            kinds += (kinds.empty() ? "" : "; ") + run.model + ": " + top_kinds(run.kinds, 5);
    if (!kinds.empty()) table.notes.push_back("The most frequent requests per round trip — " + kinds + ".");
    for (const CostMeasurement& run : runs)
        if (run.model == kYardstick) {
            table.notes.push_back(
                "yardstick is not a model: bench/iocp_yardstick.cpp, a bare IOCP echo server with the same Win32 "
                "calls as models/06_iocp.cpp (a completion port, accept(), overlapped WSARecv then WSASend, "
                "GetQueuedCompletionStatus) and no protocol, session, tracing or accounting. What iocp costs beyond "
                "it is what socklab's own layers cost.");
            break;
        }
    if (is_wine(runtime))
        table.notes.push_back(
            "Measured under Wine: every overlapped WSARecv/WSASend and every wait is a request to wineserver, a "
            "round trip between processes that Windows does not make. Compare the models with each other.");
    return table;
}

}  // namespace socklab::cli
