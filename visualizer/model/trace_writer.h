// visualizer/model/trace_writer.h — writes the trace wire format (common/trace/wire.h) from the viewer's side.
//
// The visualizer records a live session by writing what it decoded back out in the same format, rather than
// copying raw bytes: a recording started in the middle of a session then still begins with a header and
// carries every site, thread and info record it needs. Tests use it too, to build trace files event by event.
#pragma once

#include <cstdint>
#include <string>

#include "common/trace/event.h"
#include "common/trace/reader.h"

namespace socklab::viz {

class TraceModel;

// Appends wire records to a byte string; the caller decides where the bytes go.
class TraceWriter {
public:
    void header();
    void site(const trace::SiteInfo& site);
    void thread(const trace::ThreadInfo& thread);
    void info(const std::string& key, const std::string& value);
    void events(const trace::Event* events, std::size_t count);
    void dropped(std::uint64_t count);
    // Header, then the model's metadata and whole history: a complete trace of what the model holds.
    void snapshot(const TraceModel& model);

    std::string& bytes() { return bytes_; }
    // Hands over what was written so far and starts a new buffer.
    std::string take_bytes();

private:
    void record(std::uint32_t type, const std::string& payload);
    std::string bytes_;
};

// Writes a whole model as a trace file. False with a message naming the file when it cannot be written.
bool write_trace_file(const std::string& path, const TraceModel& model, std::string& error);

}  // namespace socklab::viz
