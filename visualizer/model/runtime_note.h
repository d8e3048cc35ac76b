// visualizer/model/runtime_note.h — what the conformance panel says about the runtime, in words.
//
// docs/design.md §1: the suite measures what the runtime did, never assumes it, and says plainly when the runtime
// differs from Windows. Kept in the model (not the panel) so tests and --dump-model check the same sentence.
#pragma once

#include <string>
#include <string_view>

namespace socklab::viz {

class TraceModel;

// What a runtime string names. A server says "Wine 8.0" under Wine and "Windows 10.0.19045" on Windows
// (common/win/winsock.cpp, runtime_name()), a Linux model's "Linux 6.1.0-28-amd64" (common/posix/sockets.cpp); the
// reference model says "reference model of the documented Windows rules"; the visualizer's own traces say
// "synthetic ...". Only a trace whose runtime says it is Windows is held
// to the documented Windows rules: the suite never assumes a runtime from the system it happens to run on.
enum class RuntimeKind {
    windows,       // a server that ran on Windows
    wine,          // a server that ran under Wine
    linux_native,  // a Linux model's server, natively: "Linux <release>" (common/posix/sockets.cpp)
    reference,     // common/kernel_queue's model of the documented rules: not a measurement of a runtime
    synthetic,     // made up by socklab-viz for a demonstration: not a measurement either
    unnamed,       // the trace does not say
    other,         // named, but none of the above
};

// Inline, so that the socklab CLI can classify what its servers report without linking the visualizer's model:
// the Windows build of the CLI has no visualizer.
inline RuntimeKind classify_runtime(std::string_view runtime) {
    if (runtime.empty()) return RuntimeKind::unnamed;
    // Wine first: a Wine runtime string may mention the Windows version it imitates.
    if (runtime.find("Wine") != std::string_view::npos || runtime.find("wine") != std::string_view::npos)
        return RuntimeKind::wine;
    if (runtime.rfind("reference model", 0) == 0) return RuntimeKind::reference;
    if (runtime.find("synthetic") != std::string_view::npos) return RuntimeKind::synthetic;
    if (runtime.rfind("Windows", 0) == 0) return RuntimeKind::windows;
    if (runtime.rfind("Linux", 0) == 0) return RuntimeKind::linux_native;
    return RuntimeKind::other;
}

// The sentence shown under the runtime's name: a warning for Wine, a label for synthetic traces, or "".
std::string runtime_note(const TraceModel& model);

}  // namespace socklab::viz
