// visualizer/model/runtime_note.cpp — see runtime_note.h.
#include "visualizer/model/runtime_note.h"

#include "visualizer/model/trace_model.h"

namespace socklab::viz {

std::string runtime_note(const TraceModel& model) {
    const RuntimeKind kind = classify_runtime(model.runtime());
    if (kind == RuntimeKind::wine)
        return "This runtime (Wine) wakes completion-port waiters FIFO and ignores the concurrency value, whereas "
               "Windows releases the most recent waiter first, and only while fewer threads run than the "
               "concurrency value (\"I/O Completion Ports\"). What you see here is Wine's behaviour, not Windows'; "
               "the reference model shows the Windows rules.";
    if (kind == RuntimeKind::linux_native)
        return "A Linux model, run natively on the kernel named above: it has no completion port, so the Windows "
               "rules below do not apply; what you see is the kernel's own behaviour, with no Wine in between.";
    if (kind == RuntimeKind::synthetic) return "A synthetic trace made by socklab-viz itself: not a measurement.";
    if (kind == RuntimeKind::unnamed) return "The trace does not name its runtime: compare figures only with care.";
    return "";
}

}  // namespace socklab::viz
