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

// One run of the made-up server, phase by phase: threads and connections start; lines arrive as packets, and
// waiting workers take them under the two rules, handle them and wait again; the connections close.
class SyntheticRun {
public:
    SyntheticRun(const SyntheticOptions& options, trace::Trace& trace)
        : options_(options), trace_(trace), out_(trace), random_{options.seed * 0x9E3779B97F4A7C15ull + 1} {}

    // The server's facts, the acceptor, then the workers waiting on the port one after another (worker
    // `workers` waits last: the top of the stack), then the connections with a receive posted on each.
    void start() {
        trace_.info["model"] = options_.model;
        trace_.info["runtime"] = options_.runtime;
        trace_.info["concurrency"] = std::to_string(options_.concurrency);
        trace_.threads[kAcceptor] = {kAcceptor, 1000, "acceptor"};
        out_.emit(0, kAcceptor, Kind::server_start, 0, 2, options_.concurrency, 0, __LINE__);
        out_.emit(100, kAcceptor, Kind::thread_start, 0, 0, 0, 0, __LINE__);
        for (unsigned w = 1; w <= options_.workers; ++w) {
            const auto thread = static_cast<std::uint16_t>(w);
            trace_.threads[thread] = {thread, 1000 + w, "worker"};
            out_.emit(1000 * w, thread, Kind::thread_start, 0, 0, 0, 0, __LINE__);
            out_.emit(1000 * w + 500, thread, Kind::wait_begin, u8(trace::WaitOn::completion_port), 0, 0, 0, __LINE__);
            waiters_.push_back(thread);
        }
        now_ = 1000 * options_.workers + 10'000;
        for (unsigned c = 1; c <= options_.connections; ++c) {
            out_.emit(now_, kAcceptor, Kind::connection_open, 0, 50000 + c, 0, c, __LINE__);
            out_.emit(now_ + 200, kAcceptor, Kind::io_posted, u8(trace::IoOp::receive), 4096, c * 2, c, __LINE__);
            now_ += 5'000;
        }
        next_arrival_ = now_;
    }

    // Until every line has been handled: the next event in time order (a line arriving, or a worker that
    // finished going back to the port), then the kernel's decisions.
    void serve_lines() {
        while (posted_ < options_.lines || !queue_.empty() || !busy_.empty()) {
            std::sort(busy_.begin(), busy_.end());
            const bool arrival_next =
                posted_ < options_.lines && (busy_.empty() || next_arrival_ < busy_.front().first);
            if (arrival_next) arrive();
            else if (!busy_.empty()) wait_again();
            else break;  // nothing left: every line handled
            release_waiters();
            out_.emit(now_ + 2, kAcceptor, Kind::queue_depth, 0, 0, static_cast<std::uint32_t>(queue_.size()), 0,
                      __LINE__);
        }
    }

    void close_connections() {
        now_ += 100'000;
        for (unsigned c = 1; c <= options_.connections; ++c)
            out_.emit(now_ + c * 1000, kAcceptor, Kind::connection_close, u8(trace::CloseReason::peer_closed), 0, 0, c,
                      __LINE__);
    }

private:
    struct Packet {
        std::uint32_t io_id;
        std::uint32_t connection;
    };
    static constexpr std::uint16_t kAcceptor = 0;
    template <typename T>
    static std::uint8_t u8(T value) {
        return static_cast<std::uint8_t>(value);
    }

    // A line arrives: its receive completes and the packet is queued.
    void arrive() {
        now_ = std::max(now_, next_arrival_);
        const auto connection = static_cast<std::uint32_t>(1 + random_.next() % options_.connections);
        // Each receive has its own I/O id (a server reuses an OVERLAPPED only after its packet is taken).
        const auto io_id = static_cast<std::uint32_t>(1000 + posted_);
        queue_.push_back({io_id, connection});
        ++posted_;
        out_.emit(now_, kAcceptor, Kind::packet_posted, 0, 0, io_id, connection, __LINE__);
        out_.emit(now_ + 1, kAcceptor, Kind::queue_depth, 0, 0, static_cast<std::uint32_t>(queue_.size()), 0, __LINE__);
        next_arrival_ = now_ + random_.between(5'000, 60'000);
    }

    // The worker that finished first goes back to the port.
    void wait_again() {
        auto [time, worker] = busy_.front();
        busy_.erase(busy_.begin());
        now_ = std::max(now_, time);
        out_.emit(now_, worker, Kind::wait_begin, u8(trace::WaitOn::completion_port), 0, 0, 0, __LINE__);
        waiters_.push_back(worker);
    }

    // The kernel hands queued packets to waiters while fewer than `concurrency` workers run: the most recent
    // waiter (LIFO, as Windows) or the oldest (FIFO, as Wine).
    void release_waiters() {
        while (!queue_.empty() && !waiters_.empty() && busy_.size() < options_.concurrency) {
            const Packet packet = queue_.front();
            queue_.pop_front();
            std::uint16_t worker;
            if (options_.lifo) {
                worker = waiters_.back();
                waiters_.pop_back();
            } else {
                worker = waiters_.front();
                waiters_.erase(waiters_.begin());
            }
            ++wakes_;
            // The clock only moves forward between decisions, so the trace shows each wake in the order the
            // kernel decided it, against the stack as it was then.
            now_ += random_.between(2'000, 8'000);
            handle(worker, packet);
        }
    }

    // A worker takes the packet and handles its line (held at the gate, or blocked in /work, now and then),
    // answers, and posts the next receive; it waits again later (busy_).
    void handle(std::uint16_t worker, const Packet& packet) {
        std::uint64_t t = now_;
        out_.emit(t, worker, Kind::wait_end, u8(trace::Wake::completion), 64, 0, packet.connection, __LINE__);
        out_.emit(t + 100, worker, Kind::packet_dequeued, 0, 0, packet.io_id, packet.connection, __LINE__);
        out_.emit(t + 150, worker, Kind::io_completed, u8(trace::IoOp::receive), 64, 0, packet.connection, __LINE__);
        t += 200;
        if (options_.gate_every && wakes_ % options_.gate_every == 0) {
            out_.emit(t, worker, Kind::gate_hold, 0, 0, 0, packet.connection, __LINE__);
            t += random_.between(100'000, 300'000);
            out_.emit(t, worker, Kind::gate_release, 0, 0, 0, packet.connection, __LINE__);
        }
        out_.emit(t + 300, worker, Kind::line_in, 0, 63, 0, packet.connection, __LINE__);
        t += random_.between(3'000, 20'000);
        if (options_.work_every && wakes_ % options_.work_every == 0) {
            out_.emit(t, worker, Kind::block_begin, 0, 1, 0, packet.connection, __LINE__);
            t += 300'000;  // a short Sleep in /work
            out_.emit(t, worker, Kind::block_end, 0, 0, 0, packet.connection, __LINE__);
        }
        out_.emit(t + 500, worker, Kind::line_out, 0, 64, 0, packet.connection, __LINE__);
        out_.emit(t + 600, worker, Kind::io_posted, u8(trace::IoOp::send), 64, packet.io_id + 1'000'000,
                  packet.connection, __LINE__);
        out_.emit(t + 700, worker, Kind::io_posted, u8(trace::IoOp::receive), 4096, packet.io_id, packet.connection,
                  __LINE__);
        busy_.emplace_back(t + 1'000, worker);
    }

    const SyntheticOptions& options_;
    trace::Trace& trace_;
    SyntheticWriter out_;
    Random random_;
    std::uint64_t now_ = 0;
    std::uint64_t next_arrival_ = 0;
    std::size_t posted_ = 0, wakes_ = 0;
    std::vector<std::uint16_t> waiters_;  // oldest first
    std::deque<Packet> queue_;
    std::vector<std::pair<std::uint64_t, std::uint16_t>> busy_;  // (time it waits again, worker)
};

}  // namespace

trace::Trace make_synthetic_trace(const SyntheticOptions& options) {
    trace::Trace trace;
    SyntheticRun run(options, trace);
    run.start();
    run.serve_lines();
    run.close_connections();
    std::stable_sort(trace.events.begin(), trace.events.end(),
                     [](const Event& a, const Event& b) { return a.time_ns < b.time_ns; });
    return trace;
}

}  // namespace socklab::viz
