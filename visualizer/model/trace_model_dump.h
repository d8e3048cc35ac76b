// visualizer/model/trace_model_dump.h — the model's derived figures as plain text (socklab-viz --dump-model).
//
// One "key value" pair per line, so tests and scripts can check what the panels would show without a screen.
#pragma once

#include <cstdint>
#include <ostream>

namespace socklab::viz {

class TraceModel;

// The figures at time_ns (the panels' cursor); pass the model's last_ns() for "the end of the trace".
void dump_trace_model(const TraceModel& model, std::uint64_t time_ns, std::ostream& out);

}  // namespace socklab::viz
