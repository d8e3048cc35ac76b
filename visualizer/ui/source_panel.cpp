// visualizer/ui/source_panel.cpp — the selected event in full, and the line of the model's source that
// emitted it. Sites name their file relative to the repository root (the build strips the checkout's path),
// so the panel reads the file from the repository this program was built from, or from --repo.
#include <fstream>
#include <map>
#include <vector>

#include "common/trace/reader.h"
#include "visualizer/model/lesson.h"
#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

namespace {

struct SourceFile {
    bool found = false;
    std::vector<std::string> lines;
};

// Files are read once and kept: a lesson flips between a handful of them.
const SourceFile& load_source(const std::string& repo_root, const std::string& relative) {
    static std::map<std::string, SourceFile> cache;
    auto [entry, inserted] = cache.try_emplace(relative);
    if (inserted) {
        std::ifstream in(relative.empty() || relative[0] == '/' ? relative : repo_root + "/" + relative);
        for (std::string line; std::getline(in, line);) entry->second.lines.push_back(line);
        entry->second.found = !entry->second.lines.empty();
    }
    return entry->second;
}

void draw_event_details(const TraceModel& model, const StoredEvent& event, std::uint32_t index) {
    ImGui::Text("%s", std::string(trace::to_string(event.kind)).c_str());
    const std::string detail(trace::detail_name(to_wire(event)));
    if (!detail.empty()) {
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(0.6f, 0.85f, 1, 1), "%s", detail.c_str());
    }
    ImGui::SameLine();
    ImGui::TextDisabled("event #%u", index);
    ImGui::Text("at %s   on %s", format_duration(double(event.time_ns - model.origin_ns())).c_str(),
                thread_name(model, event.thread).c_str());
    ImGui::Text("connection %u   arg0 %lld   arg1 %u", event.connection, static_cast<long long>(event.arg0),
                event.arg1);
    help_marker(
        "arg0 and arg1 mean what common/trace/event.h says for this kind: bytes, a port index, an I/O id, "
        "a queue depth, an error code...");
    if (event.derived != kNoDerived && (event.kind == Kind::wait_end || event.kind == Kind::thread_wake))
        ImGui::Text("woke from stack position %u (0 = most recent waiter)", unsigned(event.derived));
    if (event.kind == Kind::packet_posted || event.kind == Kind::packet_dequeued || event.kind == Kind::queue_depth) {
        // The same figure the queue panel and the timeline show (depth_at): counted where the trace records
        // posts, sampled where the kernel queues packets out of the server's sight.
        ImGui::Text("port #%lld: %u queued just after it", static_cast<long long>(event.arg0),
                    model.depth_at(event.arg0, event.time_ns));
    }
    if (event.kind == Kind::packet_dequeued) {
        const std::uint32_t post = model.post_of(index);
        if (post != kNoEvent)
            ImGui::Text("posted %s earlier by %s",
                        format_duration(double(event.time_ns - model.events()[post].time_ns)).c_str(),
                        thread_name(model, model.events()[post].thread).c_str());
    }
}

}  // namespace

void draw_source(TracedRun& run, RunView& view, const std::string& repo_root) {
    const TraceModel& model = run.trace_model();
    section_heading("Event & source",
                    "Click an event on the timeline (or a waiter, a wake, a packet) to see its fields and the "
                    "line of the model that recorded it. The highlighted line is the TRACE call; the lesson "
                    "anchor is the nearest '// LESSON:' marker above it, named as lessons name it (a model's "
                    "own anchors by model: iocp:wait).");
    if (view.selected_event >= model.event_count()) {
        ImGui::TextDisabled("nothing selected");
        return;
    }
    const StoredEvent& event = model.events()[view.selected_event];
    draw_event_details(model, event, view.selected_event);

    const trace::SiteInfo* site = model.site(event.site);
    if (!site) {
        ImGui::TextDisabled("the trace does not say which line recorded this event");
        return;
    }
    const SourceFile& file = load_source(repo_root, site->file);
    const std::string anchor = lessons::anchor_above(site->file, file.lines, site->line);
    ImGui::Text("%s:%u", site->file.c_str(), site->line);
    if (!anchor.empty()) {
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(0.95f, 0.85f, 0.45f, 1), "  LESSON: %s", anchor.c_str());
    }
    if (!file.found) {
        ImGui::TextDisabled("cannot read %s/%s (start socklab-viz with --repo DIR)", repo_root.c_str(),
                            site->file.c_str());
        return;
    }
    ImGui::BeginChild("source", ImVec2(0, 0), true, ImGuiWindowFlags_HorizontalScrollbar);
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(file.lines.size()));
    const float line_height = ImGui::GetTextLineHeightWithSpacing();
    if (view.scroll_source_to_selection) {
        // Puts the line a third of the way down, so the code that leads to it shows too.
        ImGui::SetScrollY(std::max(0.0f, float(site->line - 1) * line_height - ImGui::GetWindowHeight() / 3));
        view.scroll_source_to_selection = false;
    }
    while (clipper.Step()) {
        for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
            const bool highlighted = static_cast<std::uint32_t>(row + 1) == site->line;
            if (highlighted) {
                const ImVec2 at = ImGui::GetCursorScreenPos();
                ImGui::GetWindowDrawList()->AddRectFilled(
                    at,
                    ImVec2(at.x + ImGui::GetContentRegionAvail().x + ImGui::GetScrollMaxX() + 2000, at.y + line_height),
                    IM_COL32(90, 80, 20, 255));
            }
            ImGui::TextDisabled("%4d", row + 1);
            ImGui::SameLine();
            const std::string& text = file.lines[static_cast<std::size_t>(row)];
            if (text.find("// LESSON:") != std::string::npos)
                ImGui::TextColored(ImVec4(0.95f, 0.85f, 0.45f, 1), "%s", text.c_str());
            else ImGui::TextUnformatted(text.c_str());
        }
    }
    ImGui::EndChild();
}

}  // namespace socklab::viz::ui
