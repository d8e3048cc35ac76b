// visualizer/ui/controls_panel.cpp — what the selected run lets you do: move through time (replay),
// hold and release a live server's workers (the step gate and slow motion, docs/design.md §4), drive clients,
// record, export and take a screenshot.
//
// Sections:
//   1. Playback          scrubber, play/pause, speed
//   2. Step gate         gate on/off, Step, Run, slow motion (each with its key: keys.h)
//   3. Clients           connect N, send a line, burst, /work, /all, disconnect
//   4. The reference model   next line of the scenario
//   5. Files             record, export Chrome trace JSON, screenshot
#include <algorithm>
#include <cstdio>

#include "visualizer/model/chrome_export.h"
#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

namespace {

// SameLine() when an item `label` wide (plus `extra`, a framed button's padding included) still fits the
// sidebar; a new line when it does not, so larger text wraps a row instead of cutting it off.
void next_beside(const char* label, float extra = 0) {
    const ImGuiStyle& style = ImGui::GetStyle();
    const float width = ImGui::CalcTextSize(label, nullptr, true).x + style.FramePadding.x * 2 + extra;
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    ImGui::SameLine();
    if (ImGui::GetCursorScreenPos().x + width > right) ImGui::NewLine();
}

// A slider or combo as wide as the row allows, leaving its label and a "(?)" beside it.
void fill_width_beside(const char* label) {
    ImGui::SetNextItemWidth(-(ImGui::CalcTextSize(label, nullptr, true).x + ImGui::CalcTextSize("(?)").x +
                              ImGui::GetStyle().ItemInnerSpacing.x + ImGui::GetStyle().ItemSpacing.x * 2));
}

// ---- 1. Playback ----------------------------------------------------------------------------------------

void draw_playback(TracedRun& run) {
    const TraceModel& model = run.trace_model();
    if (model.event_count() == 0) return;
    section_heading("Time",
                    "The panels show the server as it was at the cursor (the yellow line on the "
                    "timeline). Drag the scrubber, click the timeline's ruler, or play.");
    const double first = double(model.first_ns()), last = double(model.horizon_ns());
    float fraction = last > first ? float((double(run.cursor_ns()) - first) / (last - first)) : 1.0f;
    char label[64];
    std::snprintf(label, sizeof label, "%s", format_duration(double(run.cursor_ns()) - first).c_str());
    ImGui::SetNextItemWidth(-1);
    if (ImGui::SliderFloat("##cursor", &fraction, 0.0f, 1.0f, label))
        run.seek(static_cast<std::uint64_t>(first + double(fraction) * (last - first)));

    if (run.live()) {
        if (ImGui::Button(run.following() ? "Pause view" : "Back to live")) run.set_following(!run.following());
        help_marker(
            "Pausing the view stops the cursor; the server keeps running and events keep arriving. "
            "To stop the server's workers, use the step gate below.");
        return;
    }
    if (ImGui::Button(run.playing() ? "Pause (Space)" : "Play (Space)")) run.set_playing(!run.playing());
    next_beside("|<");
    if (ImGui::Button("|<")) run.seek(model.first_ns());
    next_beside(">|");
    if (ImGui::Button(">|")) run.seek(model.last_ns());
    next_beside("speed (?)", scaled(90));
    static const double speeds[] = {0.0001, 0.001, 0.01, 0.1, 1.0};
    static const char* const speed_names[] = {"1/10000", "1/1000", "1/100", "1/10", "1x"};
    int chosen = 2;
    for (int i = 0; i < 5; ++i)
        if (run.speed() == speeds[i]) chosen = i;
    ImGui::SetNextItemWidth(scaled(90));
    if (ImGui::Combo("speed", &chosen, speed_names, 5)) run.set_speed(speeds[chosen]);
    help_marker(
        "Trace time per second of wall time. A server's events are microseconds apart: 1/1000 shows "
        "one millisecond of the server per second.");
}

// ---- 2. Step gate ---------------------------------------------------------------------------------------

void draw_gate(AppState& app, TracedRun& run) {
    if (!run.live()) return;
    section_heading("Step gate",
                    "Gate on: every worker stops right after its wait returns, before it handles what woke it, "
                    "until you release it. Step releases the thread held longest; Run releases everyone (the "
                    "gate stays on). A held thread is running as far as the kernel knows, so it counts against "
                    "the port's concurrency value.");
    bool gate = run.gate_on();
    if (ImGui::Checkbox("gate on (Space)", &gate)) run.set_gate(gate);
    next_beside("Step (S)");
    ImGui::BeginDisabled(!run.gate_on());
    if (ImGui::Button("Step (S)")) apply_action(app, Action::step);
    next_beside("Run (R)");
    if (ImGui::Button("Run (R)")) run.release_all();
    ImGui::EndDisabled();

    std::size_t held = 0;
    for (const auto& lane : run.trace_model().lanes())
        if (lane.state == LaneState::held) ++held;
    next_beside("00 held");
    ImGui::TextDisabled("%zu held", held);

    static int slow_ms = 0;
    slow_ms = static_cast<int>(run.slow_motion_ms());
    fill_width_beside("slow motion ms");
    ImGui::SliderInt("slow motion ms", &slow_ms, 0, 2000);
    if (ImGui::IsItemDeactivatedAfterEdit()) run.set_slow_motion(static_cast<unsigned>(slow_ms));
    help_marker(
        "Every worker pauses this long after each wait returns: the whole server in slow motion, "
        "without stopping it. Keys ] and [ step it up and down. The pause shows as running on the "
        "timeline: the server records no event for it.");
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped("Space: gate on/off   S: step   R: run   ] [: slower/faster");
    ImGui::PopStyleColor();
}

// ---- 3. Clients -----------------------------------------------------------------------------------------

void draw_clients(TracedRun& run) {
    if (!run.live()) return;
    section_heading("Clients",
                    "Test clients built into the visualizer, speaking the line protocol: each line "
                    "is echoed; /work <cpu_ms> <block_ms> makes the handler burn CPU then sleep; "
                    "/all <text> broadcasts.");
    ClientPool& clients = run.clients();
    static int port = 0;
    if (clients.server_port() == 0) {
        ImGui::SetNextItemWidth(scaled(100));
        ImGui::InputInt("server port", &port);
        next_beside("Set");
        if (ImGui::Button("Set")) clients.set_server("127.0.0.1", static_cast<std::uint16_t>(port));
        return;
    }
    static int count = 4;
    ImGui::SetNextItemWidth(scaled(90));
    ImGui::InputInt("##count", &count);
    count = std::clamp(count, 1, 2000);
    next_beside("Connect");
    if (ImGui::Button("Connect")) clients.connect(static_cast<std::size_t>(count));
    next_beside("Disconnect all");
    if (ImGui::Button("Disconnect all")) clients.disconnect_all();

    static char line[256] = "hello";
    ImGui::SetNextItemWidth(-1);
    ImGui::InputText("##line", line, sizeof line);
    if (ImGui::Button("Send to one")) clients.send_to_one(line);
    next_beside("Send to all");
    if (ImGui::Button("Send to all")) clients.send_to_all(line);
    next_beside("Burst x10");
    if (ImGui::Button("Burst x10")) clients.burst(10, line);
    help_marker("Burst: every client sends ten lines at once, so packets queue faster than workers take them.");
    float pace = static_cast<float>(clients.pace());
    fill_width_beside("steady lines/s");
    if (ImGui::SliderFloat("steady lines/s", &pace, 0.0f, 200.0f, "%.0f")) clients.set_pace(pace);
    help_marker(
        "Steady traffic: the clients take turns sending one line each, this many per second in all. "
        "Slow enough to follow each wake on the timeline; 0 stops it.");
    bool saturate = clients.saturating();
    if (ImGui::Checkbox("Saturate (closed loop)", &saturate)) clients.set_saturate(saturate);
    help_marker(
        "Every connected client keeps one 64-byte line in flight and sends the next as soon as its reply "
        "arrives, from a thread of its own (not once per frame). Give two servers the same clients and "
        "this, and their throughput in the compare view is the comparison.");
    if (ImGui::Button("/work 20 50")) clients.send_to_all("/work 20 50");
    help_marker(
        "Each client asks for 20 ms of CPU then 50 ms of Sleep: watch a blocked worker let another "
        "waiter run.");
    next_beside("/all hi");
    if (ImGui::Button("/all hi")) clients.send_to_one("/all hi");
    next_beside("/stats");
    if (ImGui::Button("/stats")) clients.send_to_one("/stats");

    const auto& figures = clients.figures();
    ImGui::TextWrapped("%zu connected, %zu connecting; sent %s, replies %s", figures.connected, figures.connecting,
                       format_count(figures.lines_sent).c_str(), format_count(figures.replies_received).c_str());
    if (!clients.series().samples().empty()) {
        const LoadSample& last = clients.series().samples().back();
        ImGui::Text("now %s replies/s", format_count(static_cast<std::uint64_t>(last.replies_per_second)).c_str());
        // Nothing is shown before it is measured: a window with no reply has no latency, not "0 ns".
        if (last.replies)
            ImGui::Text("p50 %s   p99 %s", format_duration(double(last.latency_p50_ns)).c_str(),
                        format_duration(double(last.latency_p99_ns)).c_str());
        else ImGui::TextDisabled("latency: no reply in the newest 250 ms");
        help_marker(
            "Measured by these clients over the newest 250 ms: replies per second, and the round trip from "
            "sending a line to its reply (nearest-rank percentiles). The compare view plots them over time.");
    }
    if (!figures.last_reply.empty()) ImGui::TextDisabled("last reply: %s", figures.last_reply.c_str());
    if (!figures.last_error.empty()) ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "%s", figures.last_error.c_str());
}

// ---- 4. The reference model -----------------------------------------------------------------------------

void draw_scenario(TracedRun& run) {
    const auto* player = run.scenario();
    if (!player) return;
    section_heading("Scenario",
                    "The reference model applies the documented Windows rules one line at a time. "
                    "Next applies the next line; the explanation says which rule decided.");
    if (ImGui::Button("Next line")) run.scenario_next();
    next_beside("Restart");
    if (ImGui::Button("Restart")) run.scenario_restart();
    next_beside("To the end");
    if (ImGui::Button("To the end")) run.scenario_to_end();
    const auto& played = player->run();
    if (const auto* next = player->next_line()) ImGui::TextDisabled("next: %s", next->text.c_str());
    else ImGui::TextDisabled("finished");
    if (!played.lines.empty()) {
        const auto& last = played.lines.back();
        ImGui::Text("line %d: %s", last.line.number, last.line.text.c_str());
        for (const auto& sentence : last.explanations) ImGui::TextWrapped("%s", sentence.c_str());
    }
    if (!played.error.empty()) ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "%s", played.error.c_str());
    for (const auto& failure : played.failed_expectations)
        ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "line %d: %s", failure.line.number, failure.message.c_str());
}

// ---- 5. Files -------------------------------------------------------------------------------------------

void draw_files(AppState& app, TracedRun& run, RunView& view) {
    section_heading("Files",
                    "Record writes the trace as it arrives (a complete trace file, from the start of "
                    "the session) for socklab-viz --replay. Export writes Chrome trace JSON: open it at "
                    "ui.perfetto.dev to see threads as tracks, states as slices, each packet's post "
                    "linked to its dequeue by an arrow, and the queue depth as a counter.");
    static char record_path[256] = "session.sltrace";
    static char export_path[256] = "session.json";
    if (run.live()) {
        ImGui::SetNextItemWidth(scaled(170));
        ImGui::InputText("##record", record_path, sizeof record_path);
        ImGui::SameLine();
        if (!run.recording()) {
            if (ImGui::Button("Record")) {
                std::string error;
                view.message =
                    run.start_recording(record_path, error) ? std::string("recording to ") + record_path : error;
            }
        } else if (ImGui::Button("Stop recording")) {
            run.stop_recording();
            view.message = "recorded " + run.recording_path();
        }
    }
    ImGui::SetNextItemWidth(scaled(170));
    ImGui::InputText("##export", export_path, sizeof export_path);
    next_beside("Export JSON");
    if (ImGui::Button("Export JSON")) {
        std::string error;
        view.message = export_chrome_trace(run.trace_model(), export_path, error)
                           ? std::string("exported ") + export_path + " (open it in ui.perfetto.dev)"
                           : error;
    }
    if (ImGui::Button("Screenshot")) app.screenshot_request = "socklab-viz.png";
    help_marker("Writes socklab-viz.png in the current folder: the whole window, as shown.");
    if (!view.message.empty()) ImGui::TextWrapped("%s", view.message.c_str());
}

}  // namespace

void draw_controls(AppState& app, TracedRun& run, RunView& view) {
    ImGui::TextWrapped("%s", run.title().c_str());
    ImGui::TextDisabled("%s", run.status_text().c_str());
    if (const ServerProcess* server = run.server();
        server && !server->output().empty() && run.connection().status() != LiveConnection::Status::connected) {
        for (std::size_t i = server->output().size() > 3 ? server->output().size() - 3 : 0; i < server->output().size();
             ++i)
            ImGui::TextDisabled("> %s", server->output()[i].c_str());
    }
    ImGui::Separator();
    draw_playback(run);
    ImGui::Separator();
    draw_gate(app, run);
    draw_clients(run);
    draw_scenario(run);
    ImGui::Separator();
    draw_files(app, run, view);
}

}  // namespace socklab::viz::ui
