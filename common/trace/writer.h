// common/trace/writer.h — writes the trace wire format (wire.h), record by record, into a byte string.
//
// The one encoder of the format: the recorder uses it for what servers stream and save, the visualizer for
// recordings and snapshots, tests to build trace files event by event. The caller decides where bytes go.
#pragma once

#include <cstdint>
#include <string>

#include "common/trace/event.h"
#include "common/trace/reader.h"

namespace socklab::trace {

class WireWriter {
public:
    void header();
    void site(const SiteInfo& site);
    void thread(const ThreadInfo& thread);
    void info(const std::string& key, const std::string& value);
    // As many events records as needed (each within what a reader accepts).
    void events(const Event* events, std::size_t count);
    void dropped(std::uint64_t count);

    std::string& bytes() { return bytes_; }
    // Starts over, keeping the buffer's memory: the recorder writes every drain into one writer, so a drain does
    // not allocate (and, for a large one, map and fault in) a new buffer.
    void clear() { bytes_.clear(); }
    // Hands over what was written so far and starts a new buffer.
    std::string take_bytes();

private:
    void record(std::uint32_t type, const std::string& payload);
    std::string bytes_;
};

}  // namespace socklab::trace
