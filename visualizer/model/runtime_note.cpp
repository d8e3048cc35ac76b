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
        return "A Linux model, run natively on the kernel named above, with no Wine in between: the Windows "
               "completion-port rules below are not its rules, so what you see (for epoll, the order in which the "
               "kernel wakes the workers waiting in epoll_wait) is this kernel's own behaviour, measured.";
    if (kind == RuntimeKind::synthetic) return "A synthetic trace made by socklab-viz itself: not a measurement.";
    if (kind == RuntimeKind::unnamed) return "The trace does not name its runtime: compare figures only with care.";
    return "";
}

}  // namespace socklab::viz
