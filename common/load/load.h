// common/load/load.h — the load generator: many clients, every echoed byte checked.
//
// Each client sends lines of a fixed size whose content is a function of (client, sequence number), so every
// echo can be checked byte for byte without storing what was sent. Closed loop (the default) keeps a fixed
// number of lines in flight per client; open loop (a target rate) sends on a schedule whatever the replies do.
// One thread drives every client with non-blocking sockets and poll(), on Linux and on Windows alike.
//
// Broadcast mode sends "/all <text>" instead, where text is the line without its "\n". Every other client then
// receives "<conn-id>: <text>", interleaved with its own replies; because text is a function of (sender,
// sequence), each receiver checks each sender's deliveries byte for byte and in order, without gaps. A client
// connected at TCP level may not be registered with the server yet, and would miss deliveries: so each client
// first sends one plain line and waits for its echo, and nobody broadcasts until every client has had it.
// The run ends when sending is over and every acknowledged broadcast has reached every other open client.
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
    double drain_seconds = 10;           // after sending stops: how long to wait for the last replies/deliveries
    // A slow-handler mix: every work_every-th line of a client is "/work <work_cpu_ms> <work_block_ms>" (and its
    // reply "OK work ..." is checked) instead of an echo. 0 = echo only.
    unsigned work_every = 0;
    unsigned work_cpu_ms = 0;
    unsigned work_block_ms = 0;
    // Each line is "/all <text>" (reply "OK all <n>", n at least the number of other load clients: the server may
    // have other connections too) and every delivery to every other client is checked. Memory: 4 bytes per pair
    // of clients. Combines with work_every (the /work lines are not broadcast).
    bool broadcast = false;
};

struct Progress {
    double elapsed_seconds = 0;
    std::uint64_t lines_echoed = 0;
    unsigned clients_connected = 0;
    std::uint64_t deliveries_received = 0;  // broadcast mode
};

struct Result {
    unsigned clients_connected = 0;
    std::uint64_t lines_sent = 0;
    std::uint64_t lines_echoed = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t mismatches = 0;       // replies or deliveries that differ from what was sent (deliveries included)
    std::uint64_t errors = 0;           // failed connects, resets, closes, lines never echoed, deliveries never made
    std::vector<std::string> problems;  // the first few mismatches and errors, described
    double seconds = 0;                 // from the first send to the last reply or delivery
    double lines_per_second = 0;
    // Round-trip latency of a line, in microseconds: every request, /work lines included.
    double latency_p50_us = 0, latency_p90_us = 0, latency_p99_us = 0, latency_max_us = 0;
    // The same split in two, for a slow-handler mix (work_every > 0). "echo" is every request that is not /work
    // (plain echoes, or the "/all" lines in broadcast mode), "work" the /work lines, which take block_ms by design.
    // The question such a run answers is "does one slow handler stall everyone else?": that is the echo figures.
    // Without a mix, echo_* equal the overall figures and work_* are 0.
    double echo_latency_p50_us = 0, echo_latency_p90_us = 0, echo_latency_p99_us = 0, echo_latency_max_us = 0;
    double work_latency_p50_us = 0, work_latency_p99_us = 0, work_latency_max_us = 0;

    // Broadcast mode. Expected: for each client open at the end, the acknowledged broadcasts of every other
    // client. Received: deliveries that arrived byte-exact and in their sender's order, with no gap before them.
    // Missing: expected deliveries not made by the end of the drain (also counted in errors). A delivery out of
    // order, after a gap, or with a wrong byte is a delivery mismatch (also counted in mismatches).
    std::uint64_t deliveries_expected = 0;
    std::uint64_t deliveries_received = 0;
    std::uint64_t deliveries_missing = 0;
    std::uint64_t delivery_mismatches = 0;
    double deliveries_per_second = 0;  // deliveries_received over seconds

    bool ok() const {
        return mismatches == 0 && errors == 0 && lines_echoed == lines_sent && deliveries_missing == 0 &&
               delivery_mismatches == 0;
    }
};

// The exact bytes client `client` sends as its line number `sequence` (size bytes, ending in "\n").
std::string line_for(unsigned client, std::uint64_t sequence, unsigned size);
// What the client sends as line `sequence` under these options, and the reply it must get back. In broadcast
// mode the reply to "/all" is "OK all " followed by a count that varies: reply_for gives "OK all " alone.
std::string request_for(const Options& options, unsigned client, std::uint64_t sequence);
std::string reply_for(const Options& options, unsigned client, std::uint64_t sequence);
// Broadcast mode: what every other client must receive when `client` broadcasts line `sequence`, after the
// "<conn-id>: " the server puts first (no "\n").
std::string broadcast_text_for(const Options& options, unsigned client, std::uint64_t sequence);

// Runs the load; calls progress about four times a second when given. Never throws on network trouble:
// everything that went wrong is counted and described in the result.
Result run(const Options& options, const std::function<void(const Progress&)>& progress = {});

// A one-paragraph summary for people: clients, lines, throughput, latency, and every problem.
std::string describe(const Options& options, const Result& result);

}  // namespace socklab::load
