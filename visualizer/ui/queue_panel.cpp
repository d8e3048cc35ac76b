// visualizer/ui/queue_panel.cpp — the completion queue: how many packets wait, over time and at the cursor,
// and which ones (I/O id, connection, how long they have waited).
#include <cstdio>
#include <vector>

#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

void draw_queue(TracedRun& run, RunView& view) {
    const TraceModel& model = run.trace_model();
    section_heading("Completion queue",
                    "Packets queued on the port and not yet taken by a waiter. Counted from the trace's "
                    "packet_posted and packet_dequeued events; 'sampled' is what the server read from the kernel "
                    "(NtQueryIoCompletion) when it recorded queue_depth. The kernel hands packets out in the order "
                    "they arrived (FIFO).");
    if (model.ports().empty()) {
        ImGui::TextDisabled("No completion port in this trace.");
        return;
    }
    const std::uint64_t now = run.cursor_ns();
    const std::int64_t sampled = model.sampled_depth_at(view.shown_port, now);
    const bool counted = model.posts_recorded(view.shown_port);
    ImGui::Text("port #%lld: %u queued", static_cast<long long>(view.shown_port), model.depth_at(view.shown_port, now));
    if (counted && sampled >= 0) {
        ImGui::SameLine();
        ImGui::TextDisabled("(sampled %lld)", static_cast<long long>(sampled));
    }

    // Depth over the timeline's visible range.
    const double begin = std::max(view.view_begin_ns, double(model.first_ns()));
    const double end = std::min(view.view_end_ns, double(model.horizon_ns()));
    if (end > begin) {
        static std::vector<float> depths;
        depths.resize(160);
        float most = 1;
        for (std::size_t i = 0; i < depths.size(); ++i) {
            const auto t = static_cast<std::uint64_t>(begin + (end - begin) * double(i) / double(depths.size() - 1));
            depths[i] = float(model.depth_at(view.shown_port, t));
            most = std::max(most, depths[i]);
        }
        ImGui::PlotLines("##depth", depths.data(), static_cast<int>(depths.size()), 0, "depth over the visible range",
                         0.0f, most * 1.1f, ImVec2(std::min(ImGui::GetContentRegionAvail().x, 360.0f), 50));
        help_marker(
            "Packets queued across the timeline's visible range (left to right). A rising line means "
            "packets arrive faster than the waiters released take them.");
    }

    if (!counted) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        ImGui::TextWrapped(
            "This trace records packets only when a thread takes them (the kernel queues them out "
            "of the server's sight), so the depth is the sampled one and the waiting packets "
            "cannot be listed.");
        ImGui::PopStyleColor();
        return;
    }
    const auto waiting = model.packets_waiting_at(view.shown_port, now, 64);
    const std::uint32_t queued = model.counted_depth_at(view.shown_port, now);
    if (waiting.empty()) {
        ImGui::TextDisabled("the queue is empty at the cursor");
        return;
    }
    if (queued > waiting.size()) ImGui::TextDisabled("the newest %zu of %u listed", waiting.size(), queued);
    if (ImGui::BeginTable(
            "packets", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit,
            ImVec2(0, std::min(160.0f, ImGui::GetTextLineHeightWithSpacing() * float(waiting.size() + 1) + 4)))) {
        ImGui::TableSetupColumn("I/O id");
        ImGui::TableSetupColumn("connection");
        ImGui::TableSetupColumn("waited");
        ImGui::TableHeadersRow();
        for (auto index : waiting) {
            const StoredEvent& post = model.events()[index];
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::PushID(static_cast<int>(index));
            if (ImGui::Selectable(post.arg1 ? std::to_string(post.arg1).c_str() : "by hand",
                                  view.selected_event == index, ImGuiSelectableFlags_SpanAllColumns)) {
                view.selected_event = index;
                view.scroll_source_to_selection = true;
            }
            ImGui::PopID();
            ImGui::TableNextColumn();
            ImGui::Text("%u", post.connection);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(format_duration(double(now - post.time_ns)).c_str());
        }
        ImGui::EndTable();
    }
}

}  // namespace socklab::viz::ui
