// visualizer/ui/conformance_panel.cpp — what the runtime really did, set against the rules Microsoft documents
// for completion ports ("I/O Completion Ports", learn.microsoft.com): waiters are released LIFO, and a packet
// goes to a waiter only while fewer threads run than the port's concurrency value. Measured, never assumed
// (docs/design.md §1): the runtime is named, and Wine's known difference is said plainly.
#include <cstdio>

#include "visualizer/model/runtime_note.h"
#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

void draw_conformance(TracedRun& run, RunView& view) {
    (void)view;
    const TraceModel& model = run.trace_model();
    const ConformanceFigures& figures = model.conformance();
    section_heading("Conformance",
                    "The trace measured against the documented Windows rules for a completion port. Only wakes "
                    "with two or more threads waiting can tell LIFO from FIFO, so only those are counted in the "
                    "share.");

    const std::string runtime = model.runtime().empty() ? "unknown (the trace does not say)" : model.runtime();
    ImGui::Text("runtime: %s", runtime.c_str());
    if (!model.io_model().empty()) {
        ImGui::SameLine();
        ImGui::TextDisabled("  model: %s", model.io_model().c_str());
    }
    if (const std::string note = runtime_note(model); !note.empty()) {
        // Wine's difference is a warning; anything else is a quiet remark.
        ImGui::PushStyleColor(ImGuiCol_Text, model.runtime_is_wine() ? ImVec4(1.0f, 0.8f, 0.4f, 1.0f)
                                                                     : ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        ImGui::TextWrapped("%s", note.c_str());
        ImGui::PopStyleColor();
    }

    if (model.ports().empty()) {
        ImGui::TextDisabled("No completion port in this trace: these rules do not apply to this model.");
        return;
    }

    ImGui::Separator();
    ImGui::Text("wakes by a packet: %s   with a choice: %s", format_count(figures.wakes).c_str(),
                format_count(figures.wakes_with_choice).c_str());
    const double share = figures.lifo_share();
    if (share < 0) {
        ImGui::TextDisabled("LIFO share: no wake yet had two or more threads to choose from");
    } else {
        char overlay[64];
        std::snprintf(overlay, sizeof overlay, "%.0f%% took the most recent waiter", share * 100);
        ImGui::ProgressBar(float(share), ImVec2(std::min(ImGui::GetContentRegionAvail().x, 360.0f), 0), overlay);
        help_marker(
            "Windows: 100% (the most recent waiter is released first, so its stack and cache are warm). "
            "Wine 8.0: 0%, with the oldest waiter taken every time.");
        ImGui::Text("LIFO %s   FIFO (oldest) %s   other %s", format_count(figures.lifo_wakes).c_str(),
                    format_count(figures.fifo_wakes).c_str(),
                    format_count(figures.wakes_with_choice - figures.lifo_wakes - figures.fifo_wakes).c_str());
    }
    float positions[16];
    std::uint64_t most = 1;
    for (std::size_t i = 0; i < 16; ++i) most = std::max<std::uint64_t>(most, figures.positions[i]);
    for (std::size_t i = 0; i < 16; ++i) positions[i] = float(figures.positions[i]);
    ImGui::PlotHistogram("##positions", positions, 16, 0, "wakes by stack position (0 = top)", 0.0f, float(most),
                         ImVec2(std::min(ImGui::GetContentRegionAvail().x, 360.0f), 45));
    help_marker(
        "How many wakes took each stack position, 0 (most recent waiter) on the left. LIFO puts every "
        "bar at 0.");

    ImGui::Separator();
    if (figures.concurrency)
        ImGui::Text("most threads running at once: %u   concurrency value: %u", figures.most_running,
                    figures.concurrency);
    else ImGui::Text("most threads running at once: %u   concurrency value: not in the trace", figures.most_running);
    help_marker(
        "Threads that came out of the port's wait and are running or held at the gate (a held thread is "
        "running as far as the kernel knows). Windows may exceed the value briefly when a blocked thread "
        "resumes, but never releases a waiter while the value is reached.");
    if (figures.concurrency) {
        const bool broken = figures.wakes_at_or_over_concurrency > 0;
        ImGui::PushStyleColor(ImGuiCol_Text, broken ? ImVec4(1, 0.55f, 0.4f, 1) : ImVec4(0.6f, 1, 0.6f, 1));
        ImGui::TextWrapped("waiters released while %u already ran: %s%s", figures.concurrency,
                           format_count(figures.wakes_at_or_over_concurrency).c_str(),
                           broken ? "  (the documented rule forbids this)" : "  (as documented)");
        ImGui::PopStyleColor();
    }
}

}  // namespace socklab::viz::ui
