// cli/load_command.cpp — `socklab load`: drive a server with clients and check every echoed byte (and, with
// --broadcast, every delivery of every /all to every other client).
#include "cli/load_command.h"

#include <cstdio>

#include "cli/commands.h"
#include "cli/terminal.h"

namespace socklab::cli {

namespace {

// The flags as read: whole numbers as the flag reader gives them, converted into load::Options once checked.
struct LoadFlags {
    std::uint64_t port, clients, lines = 0, size, in_flight, work_every = 0, work_cpu = 0, work_block = 0;
    double rate = 0, duration, drain;
    bool broadcast = false;

    explicit LoadFlags(const load::Options& defaults)
        : port(defaults.port),
          clients(defaults.clients),
          size(defaults.line_size),
          in_flight(defaults.in_flight),
          duration(defaults.duration_seconds),
          drain(defaults.drain_seconds) {}

    void declare(Flags& flags, LoadRequest& request) {
        flags.set_synopsis(
            "[options]\n\nRuns clients against a socklab server: each sends lines and checks that "
            "every byte comes back,\nthen prints throughput and latency. Exits 1 on any wrong byte or "
            "error.");
        flags.text("host", request.options.host, "server address");
        flags.count("port", port, 1, 65535, "server port");
        flags.count("clients", clients, 1, 20000, "concurrent clients");
        flags.count("lines", lines, 0, 1u << 30, "lines per client; 0 = send for --duration");
        flags.count("size", size, 2, 1 << 20, "bytes per line, newline included");
        flags.count("in-flight", in_flight, 1, 1000, "closed loop: lines outstanding per client");
        flags.number("rate", rate, 0, 1e9, "open loop: lines per second over all clients; 0 = closed loop");
        flags.number("duration", duration, 0.1, 86400, "seconds to send (also the bound when --lines is set)");
        flags.number("drain", drain, 0, 3600, "seconds to wait, after sending, for the last replies and deliveries");
        flags.toggle("broadcast", broadcast,
                     "send each line as \"/all <line>\" and check its delivery to every other client, in order "
                     "(at most 4096 clients; --size at least 24)");
        flags.count("work-every", work_every, 0, 1u << 30,
                    "slow-handler mix: every n-th line is /work (latency is then also shown without them); 0 = none");
        flags.count("work-cpu", work_cpu, 0, 10000, "/work lines: milliseconds of CPU the handler burns");
        flags.count("work-block", work_block, 0, 10000, "/work lines: milliseconds the handler then blocks");
        flags.toggle("quiet", request.quiet, "no progress line");
    }

    void into(load::Options& options) const {
        options.port = static_cast<std::uint16_t>(port);
        options.clients = static_cast<unsigned>(clients);
        options.lines_per_client = lines;
        options.line_size = static_cast<unsigned>(size);
        options.in_flight = static_cast<unsigned>(in_flight);
        options.rate = rate;
        options.duration_seconds = duration;
        options.drain_seconds = drain;
        options.broadcast = broadcast;
        options.work_every = static_cast<unsigned>(work_every);
        options.work_cpu_ms = static_cast<unsigned>(work_cpu);
        options.work_block_ms = static_cast<unsigned>(work_block);
    }
};

}  // namespace

Parsed<LoadRequest> parse_load_command(const Arguments& arguments) {
    Parsed<LoadRequest> parsed;
    LoadFlags values(parsed.request.options);
    Flags flags("load");
    values.declare(flags, parsed.request);
    if (!flags.parse(arguments)) return parsed.stop(flags.early_exit());
    values.into(parsed.request.options);
    // Broadcast checking keeps 4 bytes per pair of clients, and the traffic grows with the square of them.
    if (values.broadcast && values.clients > 4096)
        return parsed.stop(EarlyExit::usage_error("load", "--broadcast takes at most 4096 clients"));
    if (values.broadcast && values.size < 24)
        return parsed.stop(EarlyExit::usage_error("load",
                                                  "--broadcast needs --size 24 or more, so that each line "
                                                  "names its sender and sequence whole"));
    return parsed;
}

std::string load_progress_line(const load::Progress& now, bool broadcast) {
    char text[160];
    std::snprintf(text, sizeof text, "\r  %5.1f s  %u clients  %llu lines echoed  ", now.elapsed_seconds,
                  now.clients_connected, static_cast<unsigned long long>(now.lines_echoed));
    std::string line = text;
    if (broadcast) {
        std::snprintf(text, sizeof text, "%llu deliveries  ", static_cast<unsigned long long>(now.deliveries_received));
        line += text;
    }
    return line;
}

std::string load_verdict(const load::Result& result) {
    if (result.ok()) return "socklab load: every byte checked, all correct\n";
    return "socklab load: FAILED: " + std::to_string(result.mismatches) + " wrong lines or deliveries, " +
           std::to_string(result.errors) + " errors\n";
}

int load_command(const Arguments& arguments) {
    const Parsed<LoadRequest> parsed = parse_load_command(arguments);
    if (parsed.early_exit) return parsed.early_exit->print();
    const load::Options& options = parsed.request.options;
    // One line redrawn in place ("\r" returns to its start on a Linux terminal and a Windows console alike);
    // never into a pipe or a file, where every update would pile up.
    const bool show_progress = !parsed.request.quiet && is_terminal(stderr);
    auto progress = [&](const load::Progress& now) {
        if (!show_progress) return;
        std::fputs(load_progress_line(now, options.broadcast).c_str(), stderr);
        std::fflush(stderr);
    };
    std::printf("socklab load: %u clients -> %s:%u\n", options.clients, options.host.c_str(), options.port);
    std::fflush(stdout);
    const load::Result result = load::run(options, progress);
    if (show_progress) std::fputs(progress_clear(static_cast<std::size_t>(terminal_width())).c_str(), stderr);
    std::fputs(load::describe(options, result).c_str(), stdout);
    std::fputs(load_verdict(result).c_str(), stdout);
    return result.ok() ? 0 : 1;
}

}  // namespace socklab::cli
