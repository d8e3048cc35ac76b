// visualizer/model/trace_writer.h — writes the trace wire format (common/trace/wire.h) from the viewer's side.
//
// The visualizer records a live run by writing what it decoded back out in the same format, rather than
// copying raw bytes: a recording started in the middle of a run then still begins with a header and
// carries every site, thread and info record it needs. Tests use it too, to build trace files event by event.
#pragma once

#include <cstdint>
#include <string>

#include "common/trace/event.h"
#include "common/trace/reader.h"
#include "common/trace/writer.h"

namespace socklab::viz {

class TraceModel;

// The viewer writes the wire format with the one encoder of common/trace.
using TraceWriter = trace::WireWriter;

// Header, then the model's metadata and whole history: a complete trace of what the model holds.
void write_snapshot(TraceWriter& writer, const TraceModel& model);

// Writes a whole model as a trace file. False with a message naming the file when it cannot be written.
bool write_trace_file(const std::string& path, const TraceModel& model, std::string& error);

}  // namespace socklab::viz
