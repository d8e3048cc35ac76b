// common/load/load.h — the load generator: many clients, every echoed byte checked.
//
// Each client sends lines of a fixed size whose content is a function of (client, sequence number), so every
// echo can be checked byte for byte without storing what was sent. Closed loop (the default) keeps a fixed
// number of lines in flight per client; open loop (a target rate) sends on a schedule whatever the replies do.
// One thread drives every client with non-blocking sockets and poll(), on Linux and on Windows alike.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace socklab::load {

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 5000;
    unsigned clients = 64;
    std::uint64_t lines_per_client = 0;  // 0: send until the duration is over
    unsigned line_size = 64;             // bytes per line, "\n" included (at least 2)
    unsigned in_flight = 1;              // closed loop: lines outstanding per client
    double rate = 0;                     // open loop: lines per second over all clients; 0 = closed loop
    double duration_seconds = 10;        // how long to send (when lines_per_client is 0), and the overall bound
    double drain_seconds = 10;           // after sending stops: how long to wait for the last echoes
    // A slow-handler mix: every work_every-th line of a client is "/work <work_cpu_ms> <work_block_ms>" (and its
    // reply "OK work ..." is checked) instead of an echo. 0 = echo only.
    unsigned work_every = 0;
    unsigned work_cpu_ms = 0;
    unsigned work_block_ms = 0;
};

struct Progress {
    double elapsed_seconds = 0;
    std::uint64_t lines_echoed = 0;
    unsigned clients_connected = 0;
};

struct Result {
    unsigned clients_connected = 0;
    std::uint64_t lines_sent = 0;
    std::uint64_t lines_echoed = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t mismatches = 0;  // echoed lines that differ from what was sent
    std::uint64_t errors = 0;      // failed connects, resets, closes, lines never echoed
    std::vector<std::string> problems;  // the first few mismatches and errors, described
    double seconds = 0;                 // from the first send to the last echo
    double lines_per_second = 0;
    // Round-trip latency of a line, in microseconds.
    double latency_p50_us = 0, latency_p90_us = 0, latency_p99_us = 0, latency_max_us = 0;

    bool ok() const { return mismatches == 0 && errors == 0 && lines_echoed == lines_sent; }
};

// The exact bytes client `client` sends as its line number `sequence` (size bytes, ending in "\n").
std::string line_for(unsigned client, std::uint64_t sequence, unsigned size);
// What the client sends as line `sequence` under these options, and the reply it must get back.
std::string request_for(const Options& options, unsigned client, std::uint64_t sequence);
std::string reply_for(const Options& options, unsigned client, std::uint64_t sequence);

// Runs the load; calls progress about four times a second when given. Never throws on network trouble:
// everything that went wrong is counted and described in the result.
Result run(const Options& options, const std::function<void(const Progress&)>& progress = {});

// A one-paragraph summary for people: clients, lines, throughput, latency, and every problem.
std::string describe(const Options& options, const Result& result);

}  // namespace socklab::load
