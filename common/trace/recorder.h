// common/trace/recorder.h — the instrumentation API every model uses, and the recorder behind it.
//
// A model reports what its threads do with one macro:
//
//     TRACE(wait_begin, 0, WaitOn::completion_port, port_index, 0);
//     TRACE(kind, connection, detail, arg0, arg1)
//
// and names each thread once with trace::name_thread("worker"). An API failure is reported with
//
//     TRACE_ERROR("WSARecv", error_code, connection);
//
// Cost: when nobody records, TRACE is one predictable branch on a global flag (a relaxed load of a byte). When
// recording, it reads the time-stamp counter and writes 32 bytes into the calling thread's own ring buffer, inline:
// no call, no lock, no read-modify-write, no system call. A collector thread drains every ring into the sinks
// (file, live TCP). trace-bench measures both (docs/design.md §10).
//
// Defining SOCKLAB_TRACE_DISABLED (the CMake option of that name, preset mingw-trace-off) compiles every TRACE and
// TRACE_ERROR, trace::name_thread, trace::thread_exiting and trace::gate_point to nothing (and the queue-depth
// sampling of common/win/winsock.h): their arguments are still type-checked, so a model compiles the same in both
// builds, but nothing is evaluated and nothing is emitted. recording() is then a constant false. The recorder itself
// (start, stop, sinks, set_info) still links, so a server can be built unchanged; its traces hold no events.
//
// The step gate and slow motion (docs/design.md §4) live here too, because the live connection that controls them
// is the trace connection: a model calls trace::gate_point(connection) right after each wait returns.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/trace/event.h"

#if defined(_MSC_VER) && defined(_M_X64)
#include <intrin.h>  // __rdtsc
#endif

namespace socklab::trace {

namespace detail {
extern std::atomic<bool> g_recording;
std::uint16_t register_site(const char* file, int line, const char* label);

// ---- the hot path, inline at every TRACE ---------------------------------------------------------------
// Recording an event is a clock read, a 32-byte store into the calling thread's ring and a release store of the
// ring's head; inline, the kind, site and constants go straight into the stores, with no call and no registers
// saved. Everything else (a thread's first event, a full ring) is out of line in recorder.cpp.

// The recorder's clock, in raw ticks: the time-stamp counter where there is one (x86-64: invariant on every
// machine the suite targets, a few cycles, no system call, the same on Windows and Linux), else the steady
// clock's count. Events carry ticks until the collector turns them into nanoseconds since the recorder started
// (now_ns()), so what a reader sees is nanoseconds either way. The counter costs ~10 ns on the 2-core VM the
// figures come from: the floor of one event there (trace-bench prints it).
inline std::uint64_t clock_ticks() noexcept {
#if defined(_MSC_VER) && defined(_M_X64)
    return __rdtsc();
#elif defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

// What a thread's ring holds that the thread itself reads and writes on every event: one cache line of its own.
// The collector's side (its tail, drops, the thread's name) is on another line (ThreadRing in recorder.cpp), so
// the collector's stores never take this line away from the recording thread.
#ifdef _MSC_VER
#pragma warning(push)
#pragma warning(disable : 4324)  // "structure was padded due to alignment specifier": the padding is the point
#endif
struct alignas(64) RingHead {
    Event* events = nullptr;             // 64-byte aligned: a 32-byte event never straddles two cache lines
    std::uint32_t mask = 0;              // capacity - 1; the capacity is a power of two
    std::uint16_t index = 0;             // the thread index stamped into its events
    std::uint64_t tail_seen = 0;         // the owner's copy of the collector's tail; the shared one is read only when
                                         // this one says the ring is full
    std::atomic<std::uint64_t> head{0};  // the next slot the owner writes; only the owner stores it
};
#ifdef _MSC_VER
#pragma warning(pop)
#endif

// The calling thread's ring, or null before its first event.
#ifdef _WIN32
RingHead* current_ring() noexcept;  // a TLS index (TlsGetValue): see recorder.cpp for why not thread_local
#else
// A plain pointer, constant-initialized and without a destructor, so reading it is one %fs-relative load: no
// TLS wrapper call (constinit), and initial-exec even if this code ends up in a shared library.
extern thread_local constinit RingHead* t_ring __attribute__((tls_model("initial-exec")));
inline RingHead* current_ring() noexcept { return t_ring; }
#endif

// Writes the event into slot `head` and publishes it: the release store of head pairs with the collector's
// acquire load, so the collector sees every field before it reads the slot. Only the owner writes its ring.
inline void write_event(RingHead& ring, std::uint64_t head, Kind kind, std::uint16_t site, std::uint32_t connection,
                        std::uint8_t detail, std::int64_t arg0, std::uint32_t arg1) noexcept {
    Event& event = ring.events[head & ring.mask];
    event.time_ns = clock_ticks();  // raw ticks; the collector converts
    event.arg0 = arg0;
    event.arg1 = arg1;
    event.connection = connection;
    event.thread = ring.index;
    event.site = site;
    event.kind = kind;
    event.detail = detail;
    event.reserved = 0;
    ring.head.store(head + 1, std::memory_order_release);
}

// A thread's first event (it gets a ring), or a ring that looked full: out of line, rare.
void record_slow(Kind kind, std::uint16_t site, std::uint32_t connection, std::uint8_t detail, std::int64_t arg0,
                 std::uint32_t arg1) noexcept;

inline void record(Kind kind, std::uint16_t site, std::uint32_t connection, std::uint8_t detail, std::int64_t arg0,
                   std::uint32_t arg1) noexcept {
    if (RingHead* ring = current_ring()) [[likely]] {
        const std::uint64_t head = ring->head.load(std::memory_order_relaxed);  // only this thread stores it
        if (head - ring->tail_seen <= ring->mask) [[likely]] {
            write_event(*ring, head, kind, site, connection, detail, arg0, arg1);
            return;
        }
    }
    record_slow(kind, site, connection, detail, arg0, arg1);
}
}  // namespace detail

// Whether this build records at all: false with SOCKLAB_TRACE_DISABLED, where recording() is a constant false.
#ifdef SOCKLAB_TRACE_DISABLED
inline constexpr bool compiled_in = false;
constexpr bool recording() noexcept { return false; }
#else
inline constexpr bool compiled_in = true;
inline bool recording() noexcept { return detail::g_recording.load(std::memory_order_relaxed); }
#endif

#ifdef SOCKLAB_TRACE_DISABLED
inline void name_thread(const char*) noexcept {}
inline void thread_exiting() noexcept {}
#else
// Names the calling thread ("worker", "acceptor") and records thread_start. Call once, first thing.
void name_thread(const char* role);
// Records thread_exit and hands the calling thread's buffer back (drained, then reused by a new thread).
// Every thread that recorded calls it last thing; a thread that does not keeps its buffer until the end.
void thread_exiting();
#endif

// Facts about the run, shown in every viewer's header: model, runtime, processors, concurrency, ...
void set_info(const std::string& key, const std::string& value);

// ---- the step gate and slow motion ----------------------------------------------------------------------
// Called by a model right after a wait returns, before it handles what woke it. Returns at once unless a
// viewer turned the gate on (then it holds the thread until released) or set a slow-motion delay. With
// SOCKLAB_TRACE_DISABLED it is nothing: the gate below can still be switched, but no thread ever stops at it.
#ifdef SOCKLAB_TRACE_DISABLED
inline void gate_point(std::uint32_t) noexcept {}
#else
void gate_point(std::uint32_t connection) noexcept;
#endif
void gate_enable(bool on);  // off releases everyone held
void gate_step();           // releases the thread held longest
void gate_run();            // releases everyone held (the gate stays on)
void set_slow_motion(unsigned milliseconds);
unsigned gate_held_count();
// Releases everyone and disables the gate for good: called by a server that is shutting down.
void gate_shutdown();
// Back to the initial state (gate off, no slow motion): called by a server as it starts.
void gate_reset();
// Applies one control line from a viewer: "gate on", "gate off", "step", "run", "slow <ms>". False if unknown.
bool apply_control(const std::string& line);

// ---- sinks and the recorder -----------------------------------------------------------------------------
class Sink {
public:
    virtual ~Sink() = default;
    // Bytes of the wire format (wire.h). The first call of every sink carries the header.
    virtual void write(const char* data, std::size_t size) = 0;
    virtual void flush() {}
};

// Writes the stream to a file. Throws std::runtime_error naming the file if it cannot be created.
std::unique_ptr<Sink> make_file_sink(const std::string& path);
// Listens on address:port (loopback unless told otherwise) for viewers; each gets the metadata so far and
// every event from then on, and may send control lines back. Port 0 picks a free port (see live_port()).
std::unique_ptr<Sink> make_live_sink(const std::string& address, std::uint16_t port);
// The port a live sink actually listens on, or 0.
std::uint16_t live_port();

struct RecorderOptions {
    std::vector<std::unique_ptr<Sink>> sinks;
    // The collector's pace while events come; with every ring nearly empty it waits longer, up to 16 ms
    // (recorder.cpp, next_wait_ms).
    unsigned drain_interval_ms = 2;
    std::uint32_t ring_events = 1u << 14;  // per thread; a full ring drops and counts (a dropped record)
};

// Starts recording into the sinks. Only one recorder runs at a time in a process.
void start(RecorderOptions options);
// Stops recording, drains every buffer into the sinks, flushes them and closes them.
void stop();

// Nanoseconds on the recorder's clock (also usable when not recording).
std::uint64_t now_ns() noexcept;

}  // namespace socklab::trace

#ifdef SOCKLAB_TRACE_DISABLED
// Nothing runs and nothing is emitted (the branch is a constant false), yet every argument is compiled as in the
// recording build: a wrong kind or argument type fails here too, and a variable that exists only to be traced
// does not become an unused-variable warning.
#define TRACE(KIND, CONNECTION, DETAIL, ARG0, ARG1)       \
    do {                                                  \
        if (false) {                                      \
            (void)::socklab::trace::Kind::KIND;           \
            (void)static_cast<std::uint32_t>(CONNECTION); \
            (void)static_cast<std::uint8_t>(DETAIL);      \
            (void)static_cast<std::int64_t>(ARG0);        \
            (void)static_cast<std::uint32_t>(ARG1);       \
        }                                                 \
    } while (false)
#define TRACE_ERROR(API, CODE, CONNECTION)                \
    do {                                                  \
        if (false) {                                      \
            (void)static_cast<const char*>(API);          \
            (void)static_cast<std::int64_t>(CODE);        \
            (void)static_cast<std::uint32_t>(CONNECTION); \
        }                                                 \
    } while (false)
#else
// The site id is registered once per call site (a function-local static), then reused.
#define TRACE(KIND, CONNECTION, DETAIL, ARG0, ARG1)                                                                    \
    do {                                                                                                               \
        if (::socklab::trace::recording()) {                                                                           \
            static const std::uint16_t trace_site_ =                                                                   \
                ::socklab::trace::detail::register_site(__FILE__, __LINE__, #KIND);                                    \
            ::socklab::trace::detail::record(                                                                          \
                ::socklab::trace::Kind::KIND, trace_site_, static_cast<std::uint32_t>(CONNECTION),                     \
                static_cast<std::uint8_t>(DETAIL), static_cast<std::int64_t>(ARG0), static_cast<std::uint32_t>(ARG1)); \
        }                                                                                                              \
    } while (false)
#define TRACE_ERROR(API, CODE, CONNECTION)                                                                             \
    do {                                                                                                               \
        if (::socklab::trace::recording()) {                                                                           \
            static const std::uint16_t trace_site_ = ::socklab::trace::detail::register_site(__FILE__, __LINE__, API); \
            ::socklab::trace::detail::record(::socklab::trace::Kind::error, trace_site_,                               \
                                             static_cast<std::uint32_t>(CONNECTION), 0,                                \
                                             static_cast<std::int64_t>(CODE), 0);                                      \
        }                                                                                                              \
    } while (false)
#endif
