// visualizer/ui/waiters_panel.cpp — a completion port's waiting threads as a stack, most recent on top, and
// the stack position each recent wake took (0 = top = LIFO, the Windows rule; the bottom = FIFO, Wine 8.0).
#include <cstdio>

#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

namespace {

void choose_port(const TraceModel& model, RunView& view) {
    if (model.ports().size() <= 1) {
        if (!model.ports().empty()) view.shown_port = model.ports().front().index;
        return;
    }
    ImGui::SetNextItemWidth(120);
    if (ImGui::BeginCombo("port", ("#" + std::to_string(view.shown_port)).c_str())) {
        for (const auto& port : model.ports())
            if (ImGui::Selectable(("#" + std::to_string(port.index)).c_str(), port.index == view.shown_port))
                view.shown_port = port.index;
        ImGui::EndCombo();
    }
    help_marker("This trace has more than one completion port; the waiters and queue panels show one.");
}

}  // namespace

void draw_waiters(TracedRun& run, RunView& view) {
    const TraceModel& model = run.trace_model();
    section_heading("Waiters stack",
                    "The threads blocked in GetQueuedCompletionStatus on this port at the cursor, the most recent "
                    "waiter on top. Windows releases the top one first (LIFO), so a few hot threads do all the "
                    "work while the rest stay asleep with their stacks paged out. Wine 8.0 releases the bottom "
                    "one (FIFO).");
    if (model.ports().empty()) {
        ImGui::TextDisabled("No completion port in this trace (this model waits another way).");
        return;
    }
    choose_port(model, view);
    const std::uint64_t now = run.cursor_ns();
    const auto waiters = model.waiters_at(view.shown_port, now);
    if (waiters.empty()) ImGui::TextDisabled("nobody waiting at the cursor");

    ImDrawList* draw = ImGui::GetWindowDrawList();
    const float box_width = std::min(ImGui::GetContentRegionAvail().x, 380.0f);
    const float box_height = ImGui::GetTextLineHeight() + 6;
    for (std::size_t i = waiters.size(); i-- > 0;) {  // the top of the stack first
        const PortWaiter& waiter = waiters[i];
        const std::size_t position = waiters.size() - 1 - i;
        const ImVec2 at = ImGui::GetCursorScreenPos();
        const ImU32 fill = position == 0 ? IM_COL32(50, 110, 60, 255)
                                         : (i == 0 ? IM_COL32(120, 80, 30, 255) : IM_COL32(55, 70, 90, 255));
        draw->AddRectFilled(at, ImVec2(at.x + box_width, at.y + box_height), fill, 3.0f);
        char text[160];
        std::snprintf(text, sizeof text, "%zu  %s   waiting %s%s", position, thread_name(model, waiter.thread).c_str(),
                      format_duration(double(now - waiter.since_ns)).c_str(),
                      position == 0 ? "   <- LIFO next" : (i == 0 ? "   <- FIFO next" : ""));
        draw->AddText(ImVec2(at.x + 6, at.y + 3), IM_COL32(235, 235, 235, 255), text);
        ImGui::Dummy(ImVec2(box_width, box_height + 2));
        if (ImGui::IsItemClicked()) {
            view.selected_event = waiter.wait_event;
            view.scroll_source_to_selection = true;
        }
    }

    ImGui::Spacing();
    section_heading("Recent wakes",
                    "Each time a waiter was released by a packet: which thread, and the stack position it was "
                    "taken from, out of how many waiting. Position 0 means the most recent waiter (LIFO). Click "
                    "a line to select the wake.");
    const auto wakes = model.recent_wakes(view.shown_port, now, 10);
    if (wakes.empty()) ImGui::TextDisabled("no wake yet");
    for (std::size_t k = wakes.size(); k-- > 0;) {
        const StoredEvent& wake = model.events()[wakes[k]];
        // How many were waiting just before: the stack at the wake's time, plus the one that left.
        const std::size_t waiting = model.waiters_at(view.shown_port, wake.time_ns > 0 ? wake.time_ns - 1 : 0).size();
        const bool lifo = wake.derived == 0;
        const bool fifo = waiting > 1 && wake.derived + 1u == waiting;
        ImGui::PushID(static_cast<int>(wakes[k]));
        char text[160];
        std::snprintf(text, sizeof text, "%s  %s took position %u of %zu%s",
                      format_duration(double(wake.time_ns - model.origin_ns())).c_str(),
                      thread_name(model, wake.thread).c_str(), unsigned(wake.derived), waiting,
                      waiting <= 1 ? "" : (lifo ? "  (LIFO)" : (fifo ? "  (FIFO)" : "")));
        ImGui::PushStyleColor(ImGuiCol_Text, waiting <= 1
                                                 ? ImVec4(0.8f, 0.8f, 0.8f, 1)
                                                 : (lifo ? ImVec4(0.6f, 1, 0.6f, 1) : ImVec4(1, 0.75f, 0.35f, 1)));
        if (ImGui::Selectable(text, view.selected_event == wakes[k])) {
            view.selected_event = wakes[k];
            view.scroll_source_to_selection = true;
        }
        ImGui::PopStyleColor();
        ImGui::PopID();
    }
}

}  // namespace socklab::viz::ui
