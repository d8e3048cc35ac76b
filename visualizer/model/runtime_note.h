// visualizer/model/runtime_note.h — what the conformance panel says about the runtime, in words.
//
// DESIGN.md §1: the suite measures what the runtime did, never assumes it, and says plainly when the runtime
// differs from Windows. Kept in the model (not the panel) so tests and --dump-model check the same sentence.
#pragma once

#include <string>

namespace socklab::viz {

class TraceModel;

// The sentence shown under the runtime's name: a warning for Wine, a label for synthetic traces, or "".
std::string runtime_note(const TraceModel& model);

}  // namespace socklab::viz
