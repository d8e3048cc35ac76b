// visualizer/ui/connections_panel.cpp — connections, throughput and latency: what a comparison of models
// reads first.
#include <algorithm>
#include <cfloat>
#include <cstdio>
#include <vector>

#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

namespace {

// CloseReason's names, by its value (common/trace/event.h).
const char* const kCloseReasons[] = {"none",          "peer closed", "reset",           "quit",
                                     "line too long", "error",       "server stopping", "idle"};

// What is open at the cursor, and the whole trace's counts: connections, lines, bytes, latency, I/O, problems.
void draw_counters(const TraceModel& model, std::uint64_t now) {
    const Counters& counters = model.counters();
    section_heading("Connections & counters",
                    "Counted from the trace. 'At the cursor' is the state at the time cursor; everything under "
                    "'whole trace' counts every event received so far, wherever the cursor is. Bytes count what "
                    "crossed the wire, line ends included. Latency is from a line arriving to the next reply on its "
                    "connection. Under Wine, compare models with each other only: every overlapped call is a round "
                    "trip to wineserver, so absolute numbers say nothing about Windows.");
    ImGui::Text("at the cursor: %zu open", model.connections_open_at(now));
    ImGui::TextDisabled("whole trace:");
    ImGui::TextWrapped("connections opened %s   closed %s", format_count(counters.connections_opened).c_str(),
                       format_count(counters.connections_closed).c_str());
    ImGui::TextWrapped("lines in %s   out %s   bytes in %s   out %s", format_count(counters.lines_in).c_str(),
                       format_count(counters.lines_out).c_str(), format_count(counters.bytes_in).c_str(),
                       format_count(counters.bytes_out).c_str());
    const LatencyStats& latency = model.latency();
    if (latency.count) {
        ImGui::TextWrapped("latency  mean %s   p50 <= %s   p99 <= %s   max %s",
                           format_duration(latency.mean_ns()).c_str(),
                           format_duration(double(latency.percentile_ns(0.5))).c_str(),
                           format_duration(double(latency.percentile_ns(0.99))).c_str(),
                           format_duration(double(latency.max_ns)).c_str());
        help_marker(
            "p50 and p99 are upper bounds of power-of-two buckets: '<= 128 us' means the value lies "
            "between 64 and 128 us.");
    }
    ImGui::TextWrapped("I/O posted %s   completed %s (failed %s)   packets posted %s, taken %s",
                       format_count(counters.io_posted).c_str(), format_count(counters.io_completed).c_str(),
                       format_count(counters.io_failed).c_str(), format_count(counters.packets_posted).c_str(),
                       format_count(counters.packets_dequeued).c_str());
    if (counters.errors || counters.dropped || counters.late_events) {
        ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "errors %s   events dropped by the server %s   late %s",
                           format_count(counters.errors).c_str(), format_count(counters.dropped).c_str(),
                           format_count(counters.late_events).c_str());
        help_marker(
            "Dropped: the server's per-thread trace buffers were full, so it counted events instead of "
            "recording them. Late: events that reached the viewer after their moment had been drawn; "
            "they are shown at the time they arrived.");
    }
}

// Throughput: lines out per second of trace time, the last two minutes.
void draw_throughput(const TraceModel& model) {
    const auto& seconds = model.throughput();
    if (seconds.empty()) return;
    static std::vector<float> per_second;
    per_second.clear();
    const std::size_t shown = std::min<std::size_t>(seconds.size(), 120);
    for (std::size_t i = seconds.size() - shown; i < seconds.size(); ++i)
        per_second.push_back(float(seconds[i].lines_out));
    char overlay[64];
    std::snprintf(overlay, sizeof overlay, "replies/s, last: %.0f", per_second.back());
    ImGui::PlotHistogram("##throughput", per_second.data(), static_cast<int>(per_second.size()), 0, overlay, 0.0f,
                         FLT_MAX, ImVec2(std::min(ImGui::GetContentRegionAvail().x, 360.0f), 50));
    help_marker(
        "Reply lines sent per second of trace time (the last two minutes). The last bar is the "
        "second in progress.");
}

void draw_close_reasons(const Counters& counters) {
    std::string closed;
    for (std::size_t r = 1; r < counters.close_reasons.size(); ++r)
        if (counters.close_reasons[r])
            closed += std::string(kCloseReasons[r]) + " " + std::to_string(counters.close_reasons[r]) + "   ";
    if (!closed.empty()) ImGui::TextWrapped("closed by: %s", closed.c_str());
}

// One connection as it is at the cursor: a close after the cursor is not shown yet.
void draw_connection_row(const ConnectionRecord& c, std::uint64_t now) {
    const bool open = c.open_ns <= now && now < c.close_ns;
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::Text("%u", c.id);
    ImGui::TableNextColumn();
    if (c.open_seen) ImGui::Text("%lld", static_cast<long long>(c.peer_port));
    else ImGui::TextDisabled("?");
    ImGui::TableNextColumn();
    if (c.open_ns > now) ImGui::TextDisabled("not yet");
    else if (open) ImGui::TextColored(ImVec4(0.5f, 1, 0.5f, 1), "open");
    else ImGui::TextDisabled("closed");
    ImGui::TableNextColumn();
    ImGui::Text("%u", c.lines_in);
    ImGui::TableNextColumn();
    ImGui::Text("%u", c.lines_out);
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(c.close_ns > now ? "" : kCloseReasons[std::min<std::size_t>(std::size_t(c.reason), 7)]);
}

// The connections, newest first.
void draw_connection_table(const TraceModel& model, std::uint64_t now) {
    const auto& connections = model.connections();
    if (connections.empty()) return;
    if (!ImGui::BeginTable("connections", 6,
                           ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit |
                               ImGuiTableFlags_BordersInnerV,
                           ImVec2(0, std::max(80.0f, ImGui::GetContentRegionAvail().y - 4))))
        return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("id");
    ImGui::TableSetupColumn("peer port");
    ImGui::TableSetupColumn("state");
    ImGui::TableSetupColumn("lines in");
    ImGui::TableSetupColumn("out");
    ImGui::TableSetupColumn("closed by");
    ImGui::TableHeadersRow();
    ImGuiListClipper clipper;  // thousands of rows cost only the visible ones
    clipper.Begin(static_cast<int>(connections.size()));
    while (clipper.Step())
        for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row)
            draw_connection_row(connections[connections.size() - 1 - static_cast<std::size_t>(row)], now);
    ImGui::EndTable();
}

}  // namespace

void draw_connections(TracedRun& run, RunView& view) {
    const TraceModel& model = run.trace_model();
    const std::uint64_t now = run.cursor_ns();
    draw_counters(model, now);
    draw_throughput(model);
    draw_close_reasons(model.counters());
    draw_connection_table(model, now);
    (void)view;
}

}  // namespace socklab::viz::ui
