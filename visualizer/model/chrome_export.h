// visualizer/model/chrome_export.h — a model as Chrome trace JSON, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open.
//
// What the file holds, one process (the server) with one track per thread:
//   - the thread's states as slices (waiting, running, blocked, held at the gate);
//   - a "handling" slice around what a worker did with a completion packet, from taking it to waiting again,
//     with the states of that stretch nested inside;
//   - every other event as a marker whose args are named for what they mean (bytes_asked, io_id, port,
//     stack_position, error_code ...; one table in chrome_export.cpp names them for every kind);
//   - an arrow for each I/O: from its io_posted, through its packet_posted (where the trace records posts) and
//     the packet_dequeued of the worker that took it, to that worker's handling slice; matched by the I/O id
//     the events carry (a completion routine's arrow ends on its apc_run);
//   - counters for each completion port's queue: the depth the server sampled, and the count of packets
//     posted minus dequeued where the trace records posts. A counter that never changes is not drawn; its
//     value is named in otherData instead.
// Format: "Trace Event Format", Google, the JSON Object form with "ph" phases M (metadata), X (complete) and
// C (counter); arrows are "flow v2" fields on complete events (bind_id with flow_out / flow_in).
#pragma once

#include <ostream>
#include <string>

namespace socklab::viz {

class TraceModel;

void write_chrome_trace(const TraceModel& model, std::ostream& out);
// False with a message naming the file when it cannot be written.
bool export_chrome_trace(const TraceModel& model, const std::string& path, std::string& error);

}  // namespace socklab::viz
