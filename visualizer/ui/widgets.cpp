// visualizer/ui/widgets.cpp — the small pieces every panel uses: help markers, colours, number formats.
#include <cstdio>

#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

void help_marker(const char* text) {
    ImGui::SameLine();
    ImGui::TextDisabled("(?)");
    if (ImGui::IsItemHovered()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32.0f);
        ImGui::TextUnformatted(text);
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
    }
}

void section_heading(const char* title, const char* help) {
    ImGui::TextColored(ImVec4(0.95f, 0.85f, 0.45f, 1.0f), "%s", title);
    help_marker(help);
}

// Colours chosen to stay apart on a projector and for the common colour-vision deficiencies: running is
// green, waiting a quiet blue-grey, blocked orange, held at the gate a strong magenta, slow motion violet.
ImU32 state_colour(LaneState state, bool busy) {
    ImU32 colour;
    switch (state) {
        case LaneState::running:
            colour = IM_COL32(76, 175, 80, 255);
            break;
        case LaneState::waiting:
            colour = IM_COL32(84, 110, 140, 255);
            break;
        case LaneState::blocked:
            colour = IM_COL32(245, 150, 40, 255);
            break;
        case LaneState::held:
            colour = IM_COL32(220, 60, 200, 255);
            break;
        case LaneState::slowed:
            colour = IM_COL32(150, 120, 230, 255);
            break;
        default:
            colour = IM_COL32(60, 60, 60, 255);
            break;
    }
    if (!busy) return colour;
    // A pixel that hides several changes: lighter, so a busy stretch reads as busy at any zoom.
    ImVec4 c = ImGui::ColorConvertU32ToFloat4(colour);
    return ImGui::ColorConvertFloat4ToU32(ImVec4(c.x * 0.6f + 0.4f, c.y * 0.6f + 0.4f, c.z * 0.6f + 0.4f, 1.0f));
}

ImU32 run_colour(std::size_t index) {
    static const ImU32 palette[] = {IM_COL32(230, 159, 0, 255), IM_COL32(86, 180, 233, 255),
                                    IM_COL32(0, 158, 115, 255), IM_COL32(240, 228, 66, 255),
                                    IM_COL32(213, 94, 0, 255),  IM_COL32(204, 121, 167, 255),
                                    IM_COL32(0, 114, 178, 255), IM_COL32(200, 200, 200, 255)};
    return palette[index % (sizeof palette / sizeof palette[0])];
}

const char* state_meaning(LaneState state) {
    switch (state) {
        case LaneState::running:
            return "running: the thread is doing work (its wait returned)";
        case LaneState::waiting:
            return "waiting: blocked in the model's wait call (GetQueuedCompletionStatus, select, ...)";
        case LaneState::blocked:
            return "blocked for another reason (Sleep in a /work handler): the kernel lets another waiter run";
        case LaneState::held:
            return "held at the step gate: its wait returned, so the kernel counts it as running";
        case LaneState::slowed:
            return "paused by slow motion (] and [, --slow): it sleeps after its wait, so the kernel counts it as "
                   "blocked and may release another waiter";
        case LaneState::exited:
            return "exited";
        default:
            return "not started yet (or the trace began later)";
    }
}

std::string format_duration(double ns) {
    char text[32];
    const double magnitude = ns < 0 ? -ns : ns;
    if (magnitude < 1e3) std::snprintf(text, sizeof text, "%.0f ns", ns);
    else if (magnitude < 1e6) std::snprintf(text, sizeof text, "%.2f us", ns / 1e3);
    else if (magnitude < 1e9) std::snprintf(text, sizeof text, "%.2f ms", ns / 1e6);
    else std::snprintf(text, sizeof text, "%.3f s", ns / 1e9);
    return text;
}

std::string format_count(std::uint64_t count) {
    std::string digits = std::to_string(count), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string thread_name(const TraceModel& model, std::uint16_t thread) {
    const ThreadLane* lane = model.lane(thread);
    const std::string role = lane && !lane->role.empty() ? lane->role : "thread";
    return role + " " + std::to_string(thread);
}

}  // namespace socklab::viz::ui
