// common/trace/recorder.cpp — per-thread rings, the collector thread, and the wire encoding.
//
// Sections: clock · site registry · thread rings · recording · collector · start and stop.
//
// The hot path (detail::record, inline in recorder.h) touches only the calling thread's ring: one relaxed load of
// the global flag, a timestamp, a 32-byte store and a release store of the ring's head. Everything slow — a
// thread's first event, a full ring, naming sites and threads, sorting, encoding, writing to files and sockets —
// is here, most of it on the collector thread.
#include "common/trace/recorder.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "common/trace/reader.h"
#include "common/trace/writer.h"

#if defined(_M_X64) || defined(__x86_64__)
#define SOCKLAB_HAVE_TSC 1  // detail::clock_ticks() (recorder.h) reads the time-stamp counter
#endif
#ifdef _WIN32
#include <windows.h>
#else
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace socklab::trace {

namespace detail {
std::atomic<bool> g_recording{false};
}

// ---- clock ------------------------------------------------------------------------------------------------
// Events are stamped with detail::clock_ticks() (recorder.h): the raw time-stamp counter (no system call) where
// there is one, converted to nanoseconds by the collector; elsewhere the steady clock's count.
namespace {

struct Clock {
    std::chrono::steady_clock::time_point steady_base = std::chrono::steady_clock::now();
    std::uint64_t tick_base = raw();
    double ns_per_tick = 1.0;

    static std::uint64_t raw() noexcept { return detail::clock_ticks(); }

    Clock() {
#ifdef SOCKLAB_HAVE_TSC
        // Measure the counter's rate against the steady clock for 5 ms: precise to a few parts per million.
        auto start = std::chrono::steady_clock::now();
        std::uint64_t start_ticks = raw();
        while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(5)) {}
        auto elapsed = std::chrono::steady_clock::now() - start;
        std::uint64_t ticks = raw() - start_ticks;
        double ns = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
        ns_per_tick = ticks > 0 ? ns / static_cast<double>(ticks) : 1.0;
#else
        using period = std::chrono::steady_clock::period;
        ns_per_tick = 1e9 * static_cast<double>(period::num) / static_cast<double>(period::den);
#endif
    }

    std::uint64_t to_ns(std::uint64_t ticks) const noexcept {
        if (ticks <= tick_base) return 0;
        return static_cast<std::uint64_t>(static_cast<double>(ticks - tick_base) * ns_per_tick);
    }
};

Clock& clock() {
    static Clock instance;
    return instance;
}

std::uint32_t os_thread_id() {
#ifdef _WIN32
    return static_cast<std::uint32_t>(GetCurrentThreadId());
#else
    return static_cast<std::uint32_t>(syscall(SYS_gettid));
#endif
}

}  // namespace

std::uint64_t now_ns() noexcept { return clock().to_ns(Clock::raw()); }

// ---- site registry ----------------------------------------------------------------------------------------
namespace {

struct Registry {
    std::mutex mutex;
    std::vector<SiteInfo> sites;  // index = site id - 1
    std::map<std::string, std::string> info;
    std::uint64_t info_version = 0;
};

Registry& registry() {
    static Registry instance;
    return instance;
}

}  // namespace

std::uint16_t detail::register_site(const char* file, int line, const char* label) {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    if (r.sites.size() >= 0xFFFF) return 0;  // out of ids: the event still records, without a source line
    SiteInfo site;
    site.id = static_cast<std::uint16_t>(r.sites.size() + 1);
    site.line = static_cast<std::uint32_t>(line);
    site.file = file;
    site.label = label;
    r.sites.push_back(site);
    return site.id;
}

void set_info(const std::string& key, const std::string& value) {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    r.info[key] = value;
    ++r.info_version;
}

// ---- thread rings -----------------------------------------------------------------------------------------
namespace {

// One thread's ring. The owning thread writes events and head (RingHead, recorder.h: its own cache line); the
// collector reads them and writes tail, on the next line, so the collector's stores never take the line the owner
// writes on every event away from it (false sharing).
#ifdef _MSC_VER
#pragma warning(push)
#pragma warning(disable : 4324)  // "structure was padded due to alignment specifier": the padding is the point
#endif
struct ThreadRing : detail::RingHead {
    alignas(64) std::atomic<std::uint64_t> tail{0};  // next slot the collector reads
    std::atomic<std::uint64_t> dropped{0};           // events lost to a full ring, ever; only the owner writes it
    std::uint64_t dropped_reported = 0;              // collector only: dropped already sent in a record
    std::atomic<bool> retired{false};                // the owning thread called thread_exiting()
    std::uint32_t os_thread = 0;
    std::string role;        // guarded by Rings::mutex
    bool announced = false;  // collector only: the thread record was sent

    // The events 64-byte aligned (an array new gives 16): then a 32-byte event never straddles two cache lines.
    explicit ThreadRing(std::uint32_t capacity) {
        events = static_cast<Event*>(::operator new[](sizeof(Event) * capacity, std::align_val_t{64}));
        mask = capacity - 1;
    }
    ~ThreadRing() { ::operator delete[](events, std::align_val_t{64}); }
    ThreadRing(const ThreadRing&) = delete;
    ThreadRing& operator=(const ThreadRing&) = delete;
    std::uint32_t capacity() const { return mask + 1; }
};
#ifdef _MSC_VER
#pragma warning(pop)
#endif

struct Rings {
    std::mutex mutex;
    std::vector<std::unique_ptr<ThreadRing>> live;
    std::vector<std::unique_ptr<ThreadRing>> spare;  // rings of exited threads, reused by new ones
    std::uint16_t next_index = 1;
    std::uint32_t capacity = 1u << 14;
};

Rings& rings() {
    static Rings instance;
    return instance;
}

// The calling thread's ring. A plain pointer per thread, with no destructor: thread-exit destructors (C++
// thread_local objects) proved fragile in MinGW-built programs under Wine when hundreds of threads end at once,
// so a thread hands its ring back explicitly, in thread_exiting(). On Windows the slot is a TLS index.
#ifdef _WIN32
DWORD ring_slot() {
    static const DWORD slot = TlsAlloc();
    return slot;
}
void set_current_ring(ThreadRing* ring) { TlsSetValue(ring_slot(), static_cast<detail::RingHead*>(ring)); }
#else
void set_current_ring(ThreadRing* ring) { detail::t_ring = ring; }
#endif
ThreadRing* own_ring() { return static_cast<ThreadRing*>(detail::current_ring()); }

ThreadRing* attach_current_thread() {
    Rings& r = rings();
    std::lock_guard lock(r.mutex);
    std::unique_ptr<ThreadRing> ring;
    if (!r.spare.empty() && r.spare.back()->capacity() == r.capacity) {
        ring = std::move(r.spare.back());
        r.spare.pop_back();
    } else {
        ring = std::make_unique<ThreadRing>(r.capacity);
    }
    ring->head.store(0);
    ring->tail.store(0);
    ring->tail_seen = 0;
    ring->dropped.store(0);
    ring->dropped_reported = 0;
    ring->retired.store(false);
    ring->announced = false;
    ring->role = "thread";
    ring->index = r.next_index++;
    if (r.next_index == 0) r.next_index = 1;  // wrapped after 65,535 threads: indices are reused
    ring->os_thread = os_thread_id();
    ThreadRing* mine = ring.get();
    set_current_ring(mine);
    r.live.push_back(std::move(ring));
    return mine;
}

}  // namespace

// ---- recording --------------------------------------------------------------------------------------------
// The common case is inline in recorder.h (detail::record); this is the rest.
#ifdef _WIN32
detail::RingHead* detail::current_ring() noexcept { return static_cast<RingHead*>(TlsGetValue(ring_slot())); }
#else
thread_local constinit detail::RingHead* detail::t_ring __attribute__((tls_model("initial-exec"))) = nullptr;
#endif

void detail::record_slow(Kind kind, std::uint16_t site, std::uint32_t connection, std::uint8_t detail_value,
                         std::int64_t arg0, std::uint32_t arg1) noexcept {
    ThreadRing* ring = own_ring();
    if (!ring) ring = attach_current_thread();
    std::uint64_t head = ring->head.load(std::memory_order_relaxed);  // only this thread writes it
    if (head - ring->tail_seen > ring->mask) {
        // Full as far as this thread last knew: look at what the collector has freed since. The acquire pairs
        // with the collector's release of tail, so its reads of those slots are done before they are rewritten.
        ring->tail_seen = ring->tail.load(std::memory_order_acquire);
        if (head - ring->tail_seen > ring->mask) {
            // Full: lose the event, never block the server. A plain increment: the collector only reads it.
            ring->dropped.store(ring->dropped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
            return;
        }
    }
    detail::write_event(*ring, head, kind, site, connection, detail_value, arg0, arg1);
}

#ifndef SOCKLAB_TRACE_DISABLED  // otherwise both are empty inline functions in recorder.h
void name_thread(const char* role) {
    ThreadRing* ring = own_ring() ? own_ring() : attach_current_thread();
    {
        std::lock_guard lock(rings().mutex);
        ring->role = role;
        ring->announced = false;  // send the record again with the new name
    }
    TRACE(thread_start, 0, 0, 0, 0);
}

void thread_exiting() {
    TRACE(thread_exit, 0, 0, 0, 0);
    if (ThreadRing* ring = own_ring()) {
        set_current_ring(nullptr);
        ring->retired.store(true, std::memory_order_release);  // drained one last time, then reused
    }
}
#endif

// ---- collector --------------------------------------------------------------------------------------------
namespace {

struct Collector {
    std::vector<std::unique_ptr<Sink>> sinks;
    unsigned interval_ms = 2;
    std::thread thread;
    std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;

    // Collector-thread state.
    std::string metadata;  // header and every site, thread and info record so far: what a late viewer needs
    std::size_t sites_sent = 0;
    std::uint64_t info_version_sent = ~0ull;
    // Both reused from drain to drain (cleared, their memory kept): a drain allocates nothing once they have grown.
    std::vector<Event> batch;
    WireWriter chunk;
    // Each thread's latest state-setting event (a wait begun, a hold, a block...): a viewer that joins late
    // receives these first, so it knows that a thread has been waiting since before it came.
    std::map<std::uint16_t, Event> latest_state;

    // Drains every ring once; returns the largest share of its ring that one thread had filled (0 to 1).
    double drain_once();
    void run();
};

std::mutex g_collector_mutex;  // guards g_collector across start/stop
std::unique_ptr<Collector> g_collector;

double Collector::drain_once() {
    batch.clear();
    std::uint64_t dropped = 0;
    double fullest = 0;
    WireWriter new_metadata;
    {
        // Events first, then sites: an event's site was registered before the event was recorded, so every
        // site an event below refers to is in the registry by the time it is read.
        Rings& r = rings();
        std::lock_guard lock(r.mutex);
        for (auto it = r.live.begin(); it != r.live.end();) {
            ThreadRing& ring = **it;
            if (!ring.announced) {
                new_metadata.thread({ring.index, ring.os_thread, ring.role});
                ring.announced = true;
            }
            bool retired = ring.retired.load(std::memory_order_acquire);
            std::uint64_t head = ring.head.load(std::memory_order_acquire);
            std::uint64_t tail = ring.tail.load(std::memory_order_relaxed);
            fullest = std::max(fullest, static_cast<double>(head - tail) / ring.capacity());
            for (std::uint64_t i = tail; i < head; ++i) batch.push_back(ring.events[i & ring.mask]);
            ring.tail.store(head, std::memory_order_release);
            std::uint64_t lost = ring.dropped.load(std::memory_order_relaxed);
            dropped += lost - ring.dropped_reported;
            ring.dropped_reported = lost;
            if (retired) {  // drained for the last time: recycle
                r.spare.push_back(std::move(*it));
                it = r.live.erase(it);
            } else {
                ++it;
            }
        }
    }
    {
        Registry& r = registry();
        std::lock_guard lock(r.mutex);
        for (; sites_sent < r.sites.size(); ++sites_sent) new_metadata.site(r.sites[sites_sent]);
        if (info_version_sent != r.info_version) {
            for (auto& [key, value] : r.info) new_metadata.info(key, value);
            info_version_sent = r.info_version;
        }
    }
    metadata += new_metadata.bytes();
    chunk.clear();
    chunk.bytes() += new_metadata.bytes();
    if (!batch.empty()) {
        // Each ring is in order already; sorting merges the threads into one timeline. Stable, so two events of a
        // thread stamped alike (possible with a coarse clock) keep the order they were recorded in. When one thread
        // recorded (or the threads took turns) the batch is in order as it stands, and the check alone is linear.
        auto earlier = [](const Event& a, const Event& b) { return a.time_ns < b.time_ns; };
        if (!std::is_sorted(batch.begin(), batch.end(), earlier)) std::stable_sort(batch.begin(), batch.end(), earlier);
        for (Event& event : batch) {
            event.time_ns = clock().to_ns(event.time_ns);
            if (sets_thread_state(event.kind)) latest_state[event.thread] = event;
        }
        chunk.events(batch.data(), batch.size());
    }
    if (dropped > 0) chunk.dropped(dropped);
    // Written even when empty: a live sink uses the call to bring in viewers that have just connected.
    for (auto& sink : sinks) sink->write(chunk.bytes().data(), chunk.bytes().size());
    return fullest;
}

// How long the collector sleeps between drains. Every wake costs the server something: under Wine each timed wait
// is two wineserver requests (measured: an idle iocp server made ~1,000 a second recording, none not recording),
// and wineserver is what every server thread waits on. So the collector drains at the configured pace while the
// rings fill, and when a drain finds every ring nearly empty it sleeps twice as long, up to kLongestWaitMs: a
// frame of a 60 Hz viewer, in which a ring of the default 16,384 events still holds a million events a second
// from one thread. A ring found an eighth full brings the pace back at once.
constexpr unsigned kLongestWaitMs = 16;

unsigned next_wait_ms(unsigned waited_ms, unsigned interval_ms, double fullest) {
    if (fullest >= 1.0 / 8) return interval_ms;
    if (fullest < 1.0 / 32) return std::min(waited_ms * 2, std::max(interval_ms, kLongestWaitMs));
    return waited_ms;
}

void Collector::run() {
    unsigned wait_ms = interval_ms;
    std::unique_lock lock(mutex);
    while (!stopping) {
        lock.unlock();
        double fullest = drain_once();
        lock.lock();
        wait_ms = next_wait_ms(wait_ms, interval_ms, fullest);
        wake.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return stopping; });
    }
}

std::string header_bytes() {
    WireWriter writer;
    writer.header();
    return writer.take_bytes();
}

}  // namespace

namespace detail {
// What a viewer joining late must receive before the next chunk — the header, every site, thread and info record,
// and each thread's latest state-setting event — called by the live sink, on the collector thread, from inside
// Sink::write.
std::string metadata_so_far() {
    if (!g_collector) return header_bytes();
    WireWriter writer;
    writer.bytes() = g_collector->metadata;
    std::vector<Event> states;
    for (auto& [thread, event] : g_collector->latest_state) states.push_back(event);
    std::sort(states.begin(), states.end(), [](const Event& a, const Event& b) { return a.time_ns < b.time_ns; });
    writer.events(states.data(), states.size());
    return writer.take_bytes();
}
}  // namespace detail

// ---- start and stop ---------------------------------------------------------------------------------------
void start(RecorderOptions options) {
    std::lock_guard guard(g_collector_mutex);
    if (g_collector) return;
    clock();  // calibrate before the first event, not during it
    {
        std::lock_guard lock(rings().mutex);
        rings().capacity = std::max<std::uint32_t>(64, std::bit_ceil(options.ring_events));
        for (auto& ring : rings().live) ring->announced = false;
    }
    auto collector = std::make_unique<Collector>();
    collector->sinks = std::move(options.sinks);
    collector->interval_ms = std::max(1u, options.drain_interval_ms);
    collector->metadata = header_bytes();
    for (auto& sink : collector->sinks) sink->write(collector->metadata.data(), collector->metadata.size());
    g_collector = std::move(collector);
    g_collector->thread = std::thread([c = g_collector.get()] { c->run(); });
    detail::g_recording.store(true, std::memory_order_release);
}

void stop() {
    std::lock_guard guard(g_collector_mutex);
    if (!g_collector) return;
    detail::g_recording.store(false, std::memory_order_release);
    {
        std::lock_guard lock(g_collector->mutex);
        g_collector->stopping = true;
    }
    g_collector->wake.notify_all();
    g_collector->thread.join();
    g_collector->drain_once();  // whatever was recorded up to the flag going down
    for (auto& sink : g_collector->sinks) sink->flush();
    g_collector.reset();  // closes the sinks
}

}  // namespace socklab::trace
