// visualizer/model/chrome_export.h — a model as Chrome trace JSON, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open.
//
// What the file holds: one process (the server) with one track per thread, the thread's states as slices
// (waiting, running, blocked, held at the gate), every other event as an instant with its fields as args,
// a flow arrow from each packet_posted to the packet_dequeued that took it (flow id = the I/O id), and the
// completion queue's depth as counter tracks. Format: "Trace Event Format", Google, the JSON Array/Object
// form with "ph" phases M (metadata), X (complete), i (instant), s/f (flow), C (counter).
#pragma once

#include <ostream>
#include <string>

namespace socklab::viz {

class TraceModel;

void write_chrome_trace(const TraceModel& model, std::ostream& out);
// False with a message naming the file when it cannot be written.
bool export_chrome_trace(const TraceModel& model, const std::string& path, std::string& error);

}  // namespace socklab::viz
