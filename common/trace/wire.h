// common/trace/wire.h — the trace wire format, shared by the file sink, the live TCP sink and the reader.
//
// A trace file is the live stream saved byte for byte. Both are:
//
//   header   8 bytes magic "SLTRACE\0", u32 version (= kVersion), u32 event size (= sizeof(Event) = 32)
//   records  u32 type, u32 payload length, payload, repeated until the end
//
// All integers are little-endian (every platform the suite runs on is). Record types:
//
//   events   payload = N whole 32-byte Event structs, as laid out in event.h
//   site     u16 id, u16 zero, u32 line, file path (NUL-terminated), label (NUL-terminated)
//   thread   u16 index, u16 zero, u32 operating-system thread id, role name (NUL-terminated)
//   info     key (NUL-terminated), value (NUL-terminated): model, runtime, processors, concurrency, ...
//   dropped  u64 events lost because a thread's buffer was full, since the previous dropped record
//
// A site or thread record always precedes the first event that refers to it. Readers skip record types they
// do not know, so a new type does not need a new version; changing Event or a known record does.
#pragma once

#include <cstdint>

#include "common/trace/event.h"

namespace socklab::trace::wire {

inline constexpr char kMagic[8] = {'S', 'L', 'T', 'R', 'A', 'C', 'E', '\0'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::uint32_t kHeaderSize = 16;
inline constexpr std::uint32_t kRecordHeaderSize = 8;
// Bounds a reader accepts, so a corrupt length cannot make it allocate without limit.
inline constexpr std::uint32_t kMaxRecordPayload = 16u << 20;

enum class RecordType : std::uint32_t { events = 1, site = 2, thread = 3, info = 4, dropped = 5 };

}  // namespace socklab::trace::wire
