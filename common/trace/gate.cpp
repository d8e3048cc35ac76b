// common/trace/gate.cpp — the step gate and slow motion (docs/design.md §4).
//
// A thread held here has returned from its wait: as far as the kernel knows it is running. That is the point —
// an instructor can hold every worker of a completion port and show that the port counts them as running.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common/trace/recorder.h"

namespace socklab::trace {

namespace {

struct Gate {
    std::mutex mutex;
    std::condition_variable changed;
    bool enabled = false;
    bool shut_down = false;
    std::uint64_t next_ticket = 0;
    std::deque<std::uint64_t> held;  // tickets of held threads, longest-held first
    std::deque<std::uint64_t> released;
    std::atomic<bool> active{false};  // gate on or slow motion set: the fast path checks only this
    std::atomic<unsigned> slow_ms{0};
};

Gate& gate() {
    static Gate instance;
    return instance;
}

void update_active(Gate& g) { g.active = (g.enabled && !g.shut_down) || g.slow_ms > 0; }

}  // namespace

#ifndef SOCKLAB_TRACE_DISABLED  // otherwise an empty inline function in recorder.h: no thread stops here
void gate_point(std::uint32_t connection) noexcept {
    Gate& g = gate();
    if (!g.active.load(std::memory_order_relaxed)) return;
    if (unsigned delay = g.slow_ms.load(std::memory_order_relaxed)) {
        // Recorded as a block of its own reason: the lane shows slow motion, not work, and the kernel (which
        // sees a sleeping thread) may release another waiter meanwhile, as the viewer then shows.
        TRACE(block_begin, connection, static_cast<std::uint8_t>(BlockReason::slow_motion), delay, 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        TRACE(block_end, connection, static_cast<std::uint8_t>(BlockReason::slow_motion), delay, 0);
    }
    std::unique_lock lock(g.mutex);
    if (!g.enabled || g.shut_down) return;
    std::uint64_t ticket = g.next_ticket++;
    g.held.push_back(ticket);
    TRACE(gate_hold, connection, 0, g.held.size(), 0);
    g.changed.wait(lock, [&] {
        if (!g.enabled || g.shut_down) return true;
        for (auto it = g.released.begin(); it != g.released.end(); ++it)
            if (*it == ticket) {
                g.released.erase(it);
                return true;
            }
        return false;
    });
    for (auto it = g.held.begin(); it != g.held.end(); ++it)
        if (*it == ticket) {
            g.held.erase(it);
            break;
        }
    TRACE(gate_release, connection, 0, g.held.size(), 0);
}
#endif

void gate_enable(bool on) {
    Gate& g = gate();
    std::lock_guard lock(g.mutex);
    g.enabled = on;
    if (!on) g.released.clear();
    update_active(g);
    g.changed.notify_all();
}

void gate_step() {
    Gate& g = gate();
    std::lock_guard lock(g.mutex);
    // Release the longest-held thread that has not been released already.
    for (std::uint64_t ticket : g.held) {
        bool already = false;
        for (std::uint64_t done : g.released) already = already || done == ticket;
        if (!already) {
            g.released.push_back(ticket);
            break;
        }
    }
    g.changed.notify_all();
}

void gate_run() {
    Gate& g = gate();
    std::lock_guard lock(g.mutex);
    for (std::uint64_t ticket : g.held) g.released.push_back(ticket);
    g.changed.notify_all();
}

void set_slow_motion(unsigned milliseconds) {
    Gate& g = gate();
    std::lock_guard lock(g.mutex);
    g.slow_ms = std::min(milliseconds, 5000u);
    update_active(g);
}

unsigned gate_held_count() {
    Gate& g = gate();
    std::lock_guard lock(g.mutex);
    return static_cast<unsigned>(g.held.size());
}

void gate_shutdown() {
    Gate& g = gate();
    std::lock_guard lock(g.mutex);
    g.shut_down = true;
    g.slow_ms = 0;
    update_active(g);
    g.changed.notify_all();
}

void gate_reset() {
    Gate& g = gate();
    std::lock_guard lock(g.mutex);
    g.enabled = false;
    g.shut_down = false;
    g.slow_ms = 0;
    g.held.clear();
    g.released.clear();
    update_active(g);
}

bool apply_control(const std::string& line) {
    if (line == "gate on") gate_enable(true);
    else if (line == "gate off") gate_enable(false);
    else if (line == "step") gate_step();
    else if (line == "run") gate_run();
    else if (line.rfind("slow ", 0) == 0) {
        try {
            set_slow_motion(static_cast<unsigned>(std::stoul(line.substr(5))));
        } catch (const std::exception&) {
            return false;
        }
    } else return false;
    return true;
}

}  // namespace socklab::trace
