// common/server/accounting.h — the counts a test reads to prove that a shutdown left nothing behind, and the ids
// that name connections in a trace. The same on every platform: the Windows models (common/win) and the Linux
// models (common/posix) count into the same struct.
#pragma once

#include <atomic>
#include <cstdint>

namespace socklab::server {

// Every socket a model accepts and every per-I/O object it allocates is counted, so a test can prove that a
// shutdown leaves zero behind.
struct Accounting {
    std::atomic<long> sockets{0};
    std::atomic<long> io_objects{0};
    std::atomic<long> connections{0};
    std::atomic<long> threads{0};
};
Accounting& accounting();

// A per-I/O object derives from CountedIoObject<...> and is counted from construction to destruction.
template <class Derived>
struct CountedIoObject {
    CountedIoObject() { accounting().io_objects.fetch_add(1, std::memory_order_relaxed); }
    ~CountedIoObject() { accounting().io_objects.fetch_sub(1, std::memory_order_relaxed); }
    CountedIoObject(const CountedIoObject&) = delete;
    CountedIoObject& operator=(const CountedIoObject&) = delete;
};

// Connection ids start at 1 in every server run; 0 means "no connection" in traces.
std::uint32_t next_connection_id();
void reset_connection_ids();

}  // namespace socklab::server
