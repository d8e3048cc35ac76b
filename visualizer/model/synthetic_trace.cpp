// visualizer/model/synthetic_trace.cpp — see synthetic_trace.h.
#include "visualizer/model/synthetic_trace.h"

#include <algorithm>
#include <deque>
#include <vector>

namespace socklab::viz {

namespace {

using trace::Event;
using trace::Kind;

class SyntheticWriter {
public:
    explicit SyntheticWriter(trace::Trace& trace) : trace_(trace) {}

    // Records one event; `line` becomes its site, so the source panel opens this file at the emitting line.
    void emit(std::uint64_t time, std::uint16_t thread, Kind kind, std::uint8_t detail, std::int64_t arg0,
              std::uint32_t arg1, std::uint32_t connection, int line) {
        const auto site = static_cast<std::uint16_t>(line);
        if (!trace_.sites.count(site))
            trace_.sites[site] = {site, static_cast<std::uint32_t>(line), "visualizer/model/synthetic_trace.cpp",
                                  std::string(trace::to_string(kind))};
        Event event{};
        event.time_ns = time;
        event.thread = thread;
        event.kind = kind;
        event.detail = detail;
        event.arg0 = arg0;
        event.arg1 = arg1;
        event.connection = connection;
        event.site = site;
        trace_.events.push_back(event);
    }

private:
    trace::Trace& trace_;
};

// A small deterministic generator (xorshift), so a seed always gives the same trace.
struct Random {
    std::uint64_t state;
    std::uint64_t next() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
    std::uint64_t between(std::uint64_t low, std::uint64_t high) { return low + next() % (high - low + 1); }
};

}  // namespace

trace::Trace make_synthetic_trace(const SyntheticOptions& options) {
    trace::Trace trace;
    SyntheticWriter out(trace);
    Random random{options.seed * 0x9E3779B97F4A7C15ull + 1};
    const auto u8 = [](auto value) { return static_cast<std::uint8_t>(value); };
    constexpr std::uint16_t kAcceptor = 0;

    trace.info["model"] = options.model;
    trace.info["runtime"] = options.runtime;
    trace.info["concurrency"] = std::to_string(options.concurrency);
    trace.threads[kAcceptor] = {kAcceptor, 1000, "acceptor"};
    out.emit(0, kAcceptor, Kind::server_start, 0, 2, options.concurrency, 0, __LINE__);
    out.emit(100, kAcceptor, Kind::thread_start, 0, 0, 0, 0, __LINE__);

    // Workers start and wait on the port, one after another: worker `workers` waits last (top of the stack).
    std::vector<std::uint16_t> waiters;  // oldest first
    std::vector<std::uint64_t> free_at(options.workers + 1, 0);
    for (unsigned w = 1; w <= options.workers; ++w) {
        const auto thread = static_cast<std::uint16_t>(w);
        trace.threads[thread] = {thread, 1000 + w, "worker"};
        out.emit(1000 * w, thread, Kind::thread_start, 0, 0, 0, 0, __LINE__);
        out.emit(1000 * w + 500, thread, Kind::wait_begin, u8(trace::WaitOn::completion_port), 0, 0, 0, __LINE__);
        waiters.push_back(thread);
    }
    std::uint64_t now = 1000 * options.workers + 10'000;
    for (unsigned c = 1; c <= options.connections; ++c) {
        out.emit(now, kAcceptor, Kind::connection_open, 0, 50000 + c, 0, c, __LINE__);
        out.emit(now + 200, kAcceptor, Kind::io_posted, u8(trace::IoOp::receive), 4096, c * 2, c, __LINE__);
        now += 5'000;
    }

    // The loop: lines arrive as packets; waiting workers take them under the two rules, handle them, wait again.
    struct Packet { std::uint32_t io_id; std::uint32_t connection; };
    std::deque<Packet> queue;
    std::vector<std::pair<std::uint64_t, std::uint16_t>> busy;  // (time it waits again, worker)
    std::size_t posted = 0, wakes = 0;
    std::uint64_t next_arrival = now;
    while (posted < options.lines || !queue.empty() || !busy.empty()) {
        // Workers that finished go back to the port (the next event in time order).
        std::sort(busy.begin(), busy.end());
        const bool arrival_next = posted < options.lines && (busy.empty() || next_arrival < busy.front().first);
        if (arrival_next) {
            now = std::max(now, next_arrival);
            const auto connection = static_cast<std::uint32_t>(1 + random.next() % options.connections);
            // Each receive has its own I/O id (a server reuses an OVERLAPPED only after its packet is taken).
            const auto io_id = static_cast<std::uint32_t>(1000 + posted);
            queue.push_back({io_id, connection});
            ++posted;
            out.emit(now, kAcceptor, Kind::packet_posted, 0, 0, io_id, connection, __LINE__);
            out.emit(now + 1, kAcceptor, Kind::queue_depth, 0, 0, static_cast<std::uint32_t>(queue.size()), 0,
                     __LINE__);
            next_arrival = now + random.between(5'000, 60'000);
        } else if (!busy.empty()) {
            auto [time, worker] = busy.front();
            busy.erase(busy.begin());
            now = std::max(now, time);
            out.emit(now, worker, Kind::wait_begin, u8(trace::WaitOn::completion_port), 0, 0, 0, __LINE__);
            waiters.push_back(worker);
        } else {
            break;  // nothing left: every line handled
        }

        // The kernel hands queued packets to waiters while fewer than `concurrency` workers run.
        while (!queue.empty() && !waiters.empty() && busy.size() < options.concurrency) {
            const Packet packet = queue.front();
            queue.pop_front();
            std::uint16_t worker;
            if (options.lifo) {
                worker = waiters.back();
                waiters.pop_back();
            } else {
                worker = waiters.front();
                waiters.erase(waiters.begin());
            }
            ++wakes;
            // The clock only moves forward between decisions, so the trace shows each wake in the order the
            // kernel decided it, against the stack as it was then.
            now += random.between(2'000, 8'000);
            std::uint64_t t = now;
            out.emit(t, worker, Kind::wait_end, u8(trace::Wake::completion), 64, 0, packet.connection, __LINE__);
            out.emit(t + 100, worker, Kind::packet_dequeued, 0, 0, packet.io_id, packet.connection, __LINE__);
            out.emit(t + 150, worker, Kind::io_completed, u8(trace::IoOp::receive), 64, 0, packet.connection,
                     __LINE__);
            t += 200;
            if (options.gate_every && wakes % options.gate_every == 0) {
                out.emit(t, worker, Kind::gate_hold, 0, 0, 0, packet.connection, __LINE__);
                t += random.between(100'000, 300'000);
                out.emit(t, worker, Kind::gate_release, 0, 0, 0, packet.connection, __LINE__);
            }
            out.emit(t + 300, worker, Kind::line_in, 0, 63, 0, packet.connection, __LINE__);
            t += random.between(3'000, 20'000);
            if (options.work_every && wakes % options.work_every == 0) {
                out.emit(t, worker, Kind::block_begin, 0, 1, 0, packet.connection, __LINE__);
                t += 300'000;  // a short Sleep in /work
                out.emit(t, worker, Kind::block_end, 0, 0, 0, packet.connection, __LINE__);
            }
            out.emit(t + 500, worker, Kind::line_out, 0, 64, 0, packet.connection, __LINE__);
            out.emit(t + 600, worker, Kind::io_posted, u8(trace::IoOp::send), 64, packet.io_id + 1'000'000,
                     packet.connection, __LINE__);
            out.emit(t + 700, worker, Kind::io_posted, u8(trace::IoOp::receive), 4096, packet.io_id,
                     packet.connection, __LINE__);
            busy.emplace_back(t + 1'000, worker);
        }
        out.emit(now + 2, kAcceptor, Kind::queue_depth, 0, 0, static_cast<std::uint32_t>(queue.size()), 0, __LINE__);
    }

    now += 100'000;
    for (unsigned c = 1; c <= options.connections; ++c)
        out.emit(now + c * 1000, kAcceptor, Kind::connection_close, u8(trace::CloseReason::peer_closed), 0, 0, c,
                 __LINE__);
    std::stable_sort(trace.events.begin(), trace.events.end(),
                     [](const Event& a, const Event& b) { return a.time_ns < b.time_ns; });
    return trace;
}

}  // namespace socklab::viz
