// cli/measure.cpp — see measure.h.
//
// Sections: a model's server · the /stats watcher · load · capacity · tracing overhead.
#include "cli/measure.h"

#ifdef _WIN32
#include <process.h>  // _getpid
#else
#include <unistd.h>  // getpid
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <thread>
#include <utility>

#include "cli/server_run.h"
#include "common/net/socket.h"
#include "visualizer/model/runtime_note.h"

namespace socklab::cli {

namespace {

using Clock = std::chrono::steady_clock;

// ---- a model's server -------------------------------------------------------------------------------------
// Started on a port of its own choosing (--port 0), so measurements never collide with a server already
// running; stopped gracefully, and judged by what it says as it stops.
class ModelServer {
public:
    bool start(Measured& measured, const std::vector<std::string>& extra_arguments) {
        std::vector<std::string> arguments{measured.model, "--port", "0"};
        arguments.insert(arguments.end(), extra_arguments.begin(), extra_arguments.end());
        std::string error;
        if (!run_.start(arguments, error)) {
            measured.failure = error;
            return false;
        }
        const StartWait started =
            run_.wait_until_listening(std::chrono::seconds(120), [&](const std::string& line) { read_line(line); });
        if (!started.ok() || started.listening.port == 0) {
            measured.failure = "the server did not start" + (last_line_.empty() ? "" : ": " + last_line_);
            return false;
        }
        port_ = started.listening.port;
        measured.runtime = started.listening.runtime;
        measured.started = true;
        return true;
    }

    std::uint16_t port() const { return port_; }

    // Asks for a graceful stop and waits. A failed stop, or anything left behind, is the model's failure.
    void stop(Measured& measured) {
        if (stopped_) return;
        stopped_ = true;
        run_.request_stop();
        int status = run_.wait([&](const std::string& line) { read_line(line); });
        if (!measured.started || !measured.failure.empty()) return;
        if (status != 0)
            measured.failure =
                "the server exited with " + std::to_string(status) + (last_line_.empty() ? "" : ": " + last_line_);
        else if (!clean_stop_) measured.failure = "the server did not stop cleanly: " + last_line_;
    }

private:
    // Keeps the last line the server said (for a failure's message) and whether it said it stopped cleanly.
    void read_line(std::string line) {
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        if (line.empty()) return;
        last_line_ = line;
        if (line.find("stopped; 0 sockets, 0 per-I/O objects, 0 connections left") != std::string::npos)
            clean_stop_ = true;
    }

    ServerRun run_;
    std::uint16_t port_ = 0;
    std::string last_line_;
    bool clean_stop_ = false;
    bool stopped_ = false;
};

// ---- the /stats watcher -----------------------------------------------------------------------------------
// Asks a server for /stats on a connection of its own every quarter second and keeps the largest figures. It
// reads everything that arrives, all the time: under a broadcast load this connection is sent every /all too,
// and a watcher that stopped reading would become the slow client the server has to queue for.
class StatsWatcher {
public:
    StatsWatcher(std::uint16_t port, ServerFigures& figures) : figures_(figures) {
        std::string error;
        socket_ = net::connect_tcp("127.0.0.1", port, error);
        if (socket_.valid()) thread_ = std::thread([this] { watch(); });
    }
    ~StatsWatcher() { finish(); }

    // Stops watching after one last /stats: CPU time and peak memory at the end of the run.
    void finish() {
        if (!thread_.joinable()) return;
        stop_ = true;
        thread_.join();
        ask_and_wait(std::chrono::seconds(5));
    }

private:
    void watch() {
        auto next_ask = Clock::now();
        while (!stop_) {
            if (Clock::now() >= next_ask) {
                if (!net::send_all(socket_, "/stats\n", 7)) return;
                next_ask = Clock::now() + std::chrono::milliseconds(250);
            }
            if (!read_for(10)) return;
        }
    }

    void ask_and_wait(Clock::duration limit) {
        if (!net::send_all(socket_, "/stats\n", 7)) return;
        const std::uint64_t before = answers_;
        auto deadline = Clock::now() + limit;
        while (answers_ == before && Clock::now() < deadline)
            if (!read_for(50)) return;
    }

    // Reads whatever arrives within timeout_ms; false once the connection is gone.
    bool read_for(int timeout_ms) {
        net::PollEntry entry{socket_.native(), net::poll_in(), 0};
        if (net::poll(&entry, 1, timeout_ms) <= 0) return true;
        char buffer[65536];
        long received = net::receive_some(socket_, buffer, sizeof buffer);
        if (received <= 0) return false;
        pending_.append(buffer, static_cast<std::size_t>(received));
        std::size_t begin = 0, end;
        while ((end = pending_.find('\n', begin)) != std::string::npos) {
            std::string_view line(pending_.data() + begin, end - begin);
            if (line.rfind("OK stats ", 0) == 0) take(std::string(line));
            begin = end + 1;
        }
        pending_.erase(0, begin);
        return true;
    }

    // "OK stats model=iocp connections=3 most=5 ... threads=8 cpu_ms=20"
    void take(const std::string& line) {
        std::map<std::string, double> fields;
        std::istringstream words(line);
        std::string word;
        while (words >> word)
            if (auto equals = word.find('='); equals != std::string::npos)
                fields[word.substr(0, equals)] = std::atof(word.c_str() + equals + 1);
        figures_.threads_most = std::max(figures_.threads_most, static_cast<unsigned>(fields["threads"]));
        figures_.connections_most = std::max<std::uint64_t>(
            figures_.connections_most, static_cast<std::uint64_t>(std::max(0.0, fields["most"] - 1)));
        figures_.peak_working_set_mib = std::max(figures_.peak_working_set_mib, fields["peak_working_set_kb"] / 1024);
        figures_.cpu_seconds = std::max(figures_.cpu_seconds, fields["cpu_ms"] / 1000);
        ++answers_;
    }

    ServerFigures& figures_;
    net::Socket socket_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::string pending_;
    std::uint64_t answers_ = 0;
};

// In the system's temporary folder (/tmp, or %TEMP% on Windows), named after this process so that two
// comparisons running at once do not write into each other's trace.
std::string temporary_trace_path(const std::string& model) {
#ifdef _WIN32
    const int process_id = _getpid();
#else
    const int process_id = static_cast<int>(getpid());
#endif
    std::error_code error;
    std::filesystem::path folder = std::filesystem::temp_directory_path(error);
    if (error) folder = std::filesystem::current_path();
    const std::string name = "socklab-measure-" + model + "-" + std::to_string(process_id) + ".sltrace";
    return (folder / name).string();
}

}  // namespace

// ---- load -------------------------------------------------------------------------------------------------
LoadMeasurement measure_load(const std::string& model, const load::Options& options, bool traced,
                             const ProgressReport& progress) {
    LoadMeasurement measurement;
    measurement.model = model;
    const std::string trace_path = temporary_trace_path(model);
    std::vector<std::string> extra;
    if (traced) extra = {"--trace-file", trace_path};
    progress("starting the server" + runs_where(model), 0);
    ModelServer server;
    if (server.start(measurement, extra)) {
        load::Options these = options;
        these.port = server.port();
        StatsWatcher watcher(server.port(), measurement.server);
        measurement.load = load::run(these, [&](const load::Progress& now) {
            progress(std::to_string(static_cast<int>(now.elapsed_seconds)) + " s, " + std::to_string(now.lines_echoed) +
                         " lines",
                     std::min(1.0, now.elapsed_seconds / these.duration_seconds));
        });
        watcher.finish();
    }
    server.stop(measurement);
    std::error_code ignored;  // the trace exists only when traced, and nobody needs it afterwards
    if (traced) std::filesystem::remove(trace_path, ignored);
    return measurement;
}

// ---- capacity ---------------------------------------------------------------------------------------------
unsigned CapacityMeasurement::held() const {
    unsigned most = 0;
    for (const CapacityStep& step : steps)
        if (step.held) most = std::max(most, step.clients);
    return most;
}

std::vector<unsigned> capacity_steps(unsigned cap) {
    std::vector<unsigned> steps;
    for (unsigned clients = 100; clients < cap; clients = clients == 100 ? 250 : clients * 2) steps.push_back(clients);
    steps.push_back(cap);
    return steps;
}

CapacityMeasurement measure_capacity(const std::string& model, const std::vector<unsigned>& steps, unsigned lines_each,
                                     const ProgressReport& progress) {
    CapacityMeasurement measurement;
    measurement.model = model;
    progress("starting the server" + runs_where(model), 0);
    ModelServer server;
    if (server.start(measurement, {})) {
        for (std::size_t index = 0; index < steps.size(); ++index) {
            CapacityStep step;
            step.clients = steps[index];
            load::Options options;
            options.port = server.port();
            options.clients = step.clients;
            options.lines_per_client = lines_each;
            options.line_size = 64;
            options.duration_seconds = 60;  // the bound when lines are counted
            options.drain_seconds = 10;
            {
                StatsWatcher watcher(server.port(), step.server);
                load::Result result = load::run(options, [&](const load::Progress& now) {
                    progress(std::to_string(now.clients_connected) + " clients, " + std::to_string(now.lines_echoed) +
                                 " lines",
                             (index + static_cast<double>(now.lines_echoed) /
                                          std::max<double>(1, static_cast<double>(step.clients) * lines_each)) /
                                 static_cast<double>(steps.size()));
                });
                watcher.finish();
                step.held = result.ok() && result.clients_connected == step.clients;
                if (!step.held)
                    step.problem = result.problems.empty() ? std::to_string(result.lines_echoed) + " of " +
                                                                 std::to_string(result.lines_sent) + " lines echoed"
                                                           : result.problems.front();
            }
            measurement.steps.push_back(step);
            if (!step.held) break;
        }
    }
    server.stop(measurement);
    return measurement;
}

// ---- tracing overhead -------------------------------------------------------------------------------------
static double mean(const std::vector<double>& values) {
    double total = 0;
    for (double value : values) total += value;
    return values.empty() ? 0 : total / static_cast<double>(values.size());
}

double OverheadMeasurement::mean_off() const { return mean(off); }
double OverheadMeasurement::mean_on() const { return mean(on); }

// Segments are of equal length, so the ratio of the means is the ratio of the sums.
double OverheadMeasurement::cost_percent() const { return mean_off() > 0 ? 100.0 * (1.0 - mean_on() / mean_off()) : 0; }

std::vector<double> OverheadMeasurement::pair_costs() const {
    std::vector<double> costs;
    for (std::size_t i = 0; i < std::min(off.size(), on.size()); ++i)
        if (off[i] > 0) costs.push_back(100.0 * (1.0 - on[i] / off[i]));
    return costs;
}

OverheadMeasurement measure_overhead(const std::string& model, const load::Options& segment, unsigned pairs,
                                     const ProgressReport& progress) {
    OverheadMeasurement measurement;
    measurement.model = model;
    Measured traced_side = measurement;
    const std::string trace_path = temporary_trace_path(model);
    progress("starting two servers" + runs_where(model), 0);
    ModelServer plain, recording;
    if (plain.start(measurement, {}) && recording.start(traced_side, {"--trace-file", trace_path})) {
        unsigned segments_done = 0;
        for (unsigned pair = 0; pair < pairs; ++pair) {
            // off-on, on-off, off-on ...: a drift in the machine's speed lands on both halves alike.
            for (bool traced : pair % 2 == 0 ? std::vector<bool>{false, true} : std::vector<bool>{true, false}) {
                load::Options options = segment;
                options.port = traced ? recording.port() : plain.port();
                progress(std::string("pair ") + std::to_string(pair + 1) + (traced ? ", recording" : ", not recording"),
                         segments_done++ / (2.0 * pairs));
                load::Result result = load::run(options);
                (traced ? measurement.on : measurement.off).push_back(result.lines_per_second);
                if (!result.ok() && measurement.problem.empty())
                    measurement.problem = result.problems.empty() ? "lines lost" : result.problems.front();
            }
        }
    }
    plain.stop(measurement);
    recording.stop(traced_side);
    if (measurement.failure.empty() && !traced_side.failure.empty())
        measurement.failure = "with recording on: " + traced_side.failure;
    std::error_code ignored;
    std::filesystem::remove(trace_path, ignored);
    return measurement;
}

// ---- titles -----------------------------------------------------------------------------------------------
std::string runtime_of(const std::vector<const Measured*>& measured) {
    std::vector<std::string> runtimes;
    for (const Measured* one : measured)
        if (one->started && !one->runtime.empty() &&
            std::find(runtimes.begin(), runtimes.end(), one->runtime) == runtimes.end())
            runtimes.push_back(one->runtime);
    if (runtimes.empty()) return "unknown runtime";
    std::string joined;
    for (const std::string& runtime : runtimes) joined += (joined.empty() ? "" : " and ") + runtime;
    return joined;
}

bool is_native_linux(const std::string& runtime) { return runtime.rfind("Linux", 0) == 0; }

std::string measured_where(const std::string& runtime) {
    const auto and_at = runtime.find(" and ");
    if (and_at != std::string::npos) {
        std::string wine = runtime.substr(0, and_at), native = runtime.substr(and_at + 5);
        if (is_native_linux(wine)) std::swap(wine, native);
        if (is_wine(wine) && is_native_linux(native))
            return "measured under " + wine + " (the Windows models) and natively on " + native +
                   " (the Linux models), not on Windows";
        return "measured under " + runtime;
    }
    if (is_wine(runtime)) return "measured under " + runtime + " on Linux, not Windows";
    if (is_native_linux(runtime)) return "measured natively on " + runtime;
    return "measured under " + runtime;
}

bool is_wine(const std::string& runtime) { return viz::classify_runtime(runtime) == viz::RuntimeKind::wine; }

}  // namespace socklab::cli
