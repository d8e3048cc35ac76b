// visualizer/ui/app.cpp — the window's layout: a sidebar (runs, then the selected run's controls)
// and the runs side by side, each a column with its timeline on top and its panels below; the keyboard
// (keys.h) and the actions it and the flags apply.
#include <algorithm>

#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

void AppState::add(std::unique_ptr<TracedRun> run) {
    if (!run) return;
    runs.push_back(std::move(run));
    views.emplace_back();
    selected_run = static_cast<int>(runs.size()) - 1;
}

void AppState::remove(int index) {
    if (index < 0 || index >= static_cast<int>(runs.size())) return;
    runs.erase(runs.begin() + index);
    views.erase(views.begin() + index);
    selected_run = std::clamp(selected_run, 0, std::max(0, static_cast<int>(runs.size()) - 1));
}

namespace {

constexpr float kSidebarWidth = 330.0f;  // at scale 1 (scaled())

// The panels under the timeline. Wide columns show three side by side; narrow ones (several runs) use tabs.
void draw_panels_below(AppState& app, TracedRun& run, RunView& view, float height) {
    const float width = ImGui::GetContentRegionAvail().x;
    if (width >= scaled(960.0f)) {
        const float third = (width - 2 * ImGui::GetStyle().ItemSpacing.x) / 3;
        ImGui::BeginChild("waiters+queue", ImVec2(third, height), true);
        draw_waiters(run, view);
        ImGui::Separator();
        draw_queue(run, view);
        ImGui::EndChild();
        ImGui::SameLine();
        ImGui::BeginChild("conformance+connections", ImVec2(third, height), true);
        draw_conformance(run, view);
        ImGui::Separator();
        draw_connections(run, view);
        ImGui::EndChild();
        ImGui::SameLine();
        ImGui::BeginChild("source", ImVec2(0, height), true);
        draw_source(run, view, app.repo_root);
        ImGui::EndChild();
        return;
    }
    ImGui::BeginChild("panels", ImVec2(0, height), true);
    if (ImGui::BeginTabBar("panels")) {
        if (ImGui::BeginTabItem("Waiters & queue")) {
            draw_waiters(run, view);
            ImGui::Separator();
            draw_queue(run, view);
            ImGui::EndTabItem();
        }
        if (ImGui::BeginTabItem("Conformance")) {
            draw_conformance(run, view);
            ImGui::EndTabItem();
        }
        if (ImGui::BeginTabItem("Connections")) {
            draw_connections(run, view);
            ImGui::EndTabItem();
        }
        // A click on an event brings the source forward.
        if (ImGui::BeginTabItem("Source", nullptr,
                                view.scroll_source_to_selection ? ImGuiTabItemFlags_SetSelected : 0)) {
            draw_source(run, view, app.repo_root);
            ImGui::EndTabItem();
        }
        ImGui::EndTabBar();
    }
    ImGui::EndChild();
}

// A live model discards its oldest events now and then, renumbering the rest: the selection follows its
// event, or is cleared when the event is gone (or when two discards passed unseen, which a frame never sees).
void follow_discards(const TraceModel& model, RunView& view) {
    if (view.discards_seen == model.discards()) return;
    view.selected_event =
        view.discards_seen + 1 == model.discards() ? model.index_after_last_discard(view.selected_event) : kNoEvent;
    view.discards_seen = model.discards();
}

void draw_run_column(AppState& app, std::size_t index, float width, float height) {
    TracedRun& run = *app.runs[index];
    RunView& view = app.views[index];
    follow_discards(run.trace_model(), view);
    ImGui::PushID(static_cast<int>(index));
    ImGui::BeginChild("column", ImVec2(width, height), false);
    const bool selected = app.selected_run == static_cast<int>(index);
    if (app.compare_view && run.live()) {
        // The run's colour in the compare plots, so a line leads to its column.
        const ImVec2 at = ImGui::GetCursorScreenPos();
        const float side = ImGui::GetTextLineHeight();
        ImGui::GetWindowDrawList()->AddRectFilled(at, ImVec2(at.x + side, at.y + side), run_colour(index), 2);
        ImGui::Dummy(ImVec2(side, side));
        ImGui::SameLine();
    }
    ImGui::TextColored(selected ? ImVec4(1, 0.9f, 0.4f, 1) : ImVec4(0.85f, 0.85f, 0.85f, 1), "%s", run.title().c_str());
    if (ImGui::IsItemClicked()) app.selected_run = static_cast<int>(index);
    ImGui::SameLine();
    ImGui::TextDisabled("  %s   %s events", run.status_text().c_str(),
                        format_count(run.trace_model().event_count()).c_str());
    if (run.trace_model().discarded_events() > 0) {
        ImGui::SameLine();
        ImGui::TextDisabled("  history: last %.1f min kept",
                            double(run.trace_model().last_ns() - run.trace_model().first_ns()) / 60e9);
        help_marker(
            "A live session keeps its newest events in full detail and discards the oldest, so its memory "
            "stays flat however long the class runs. Counters, conformance, latency and throughput still "
            "cover the whole run; the state at the start of the kept history is kept with it.");
    }

    // As tall as the lanes need, between a readable minimum and 55% of the column.
    const float available = height - ImGui::GetCursorPosY();
    const float least = scaled(140.0f);
    const float timeline_height = std::clamp(timeline_height_wanted(run), least, std::max(least, available * 0.55f));
    ImGui::BeginChild("timeline", ImVec2(0, timeline_height), true, ImGuiWindowFlags_NoScrollWithMouse);
    draw_timeline(run, view);
    ImGui::EndChild();
    draw_panels_below(app, run, view, ImGui::GetContentRegionAvail().y);
    ImGui::EndChild();
    ImGui::PopID();
}

// The keys window (F1 or ?): every binding, from the same table the key map is tested against.
void draw_key_help(AppState& app) {
    if (!app.show_help) return;
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(
        ImVec2(viewport->WorkPos.x + viewport->WorkSize.x * 0.5f, viewport->WorkPos.y + viewport->WorkSize.y * 0.5f),
        ImGuiCond_Always, ImVec2(0.5f, 0.5f));
    ImGui::SetNextWindowSize(ImVec2(std::min(viewport->WorkSize.x * 0.9f, scaled(760.0f)), 0));
    if (ImGui::Begin("Keys (F1 or ? closes)", &app.show_help,
                     ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings)) {
        if (ImGui::BeginTable("keys", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH)) {
            ImGui::TableSetupColumn("key", ImGuiTableColumnFlags_WidthFixed);
            ImGui::TableSetupColumn("what", ImGuiTableColumnFlags_WidthStretch);
            for (const KeyHelp& row : key_help()) {
                ImGui::TableNextRow();
                ImGui::TableSetColumnIndex(0);
                ImGui::TextColored(ImVec4(1, 0.9f, 0.4f, 1), "%s", row.keys);
                ImGui::TableSetColumnIndex(1);
                ImGui::TextWrapped("%s", row.what);
            }
            ImGui::EndTable();
        }
        ImGui::TextWrapped(
            "The same actions as flags, for headless runs: --step N, --slow MS, --scale S, --do "
            "step,run,slow-up,zoom-last-step,... Keys act on the selected session (its title in "
            "yellow; click a title to select it) and are ignored while typing in a text box.");
    }
    ImGui::End();
}

}  // namespace

void draw_app(AppState& app) {
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(viewport->WorkPos);
    ImGui::SetNextWindowSize(viewport->WorkSize);
    ImGui::Begin("socklab-viz", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoBringToFrontOnFocus |
                     ImGuiWindowFlags_NoSavedSettings);
    const float height = ImGui::GetContentRegionAvail().y;

    // Larger text widens the sidebar, but never past 30% of the window (1280 px at scale 1.5 still has room).
    ImGui::BeginChild(
        "sidebar",
        ImVec2(std::min(scaled(kSidebarWidth), std::max(kSidebarWidth, viewport->WorkSize.x * 0.3f)), height), true);
    ImGui::TextColored(ImVec4(1, 0.9f, 0.4f, 1), "socklab-viz");
    help_marker(
        "Watch a server's threads wait, wake and take completion packets. Hover any (?) for what an "
        "element shows. docs/design.md section 7 describes the whole program.");
    draw_runs(app);
    ImGui::Checkbox("Compare view", &app.compare_view);
    help_marker(
        "Under the session columns: every live session's replies per second and round-trip latency over "
        "time, on shared plots. Give each the same load (Clients: connect the same number, then "
        "Saturate), or start with socklab-viz --compare iocp,select.");
    ImGui::Separator();
    if (!app.runs.empty()) {
        const auto selected = static_cast<std::size_t>(app.selected_run);
        draw_controls(app, *app.runs[selected], app.views[selected]);
    }
    if (!app.status.empty()) ImGui::TextWrapped("%s", app.status.c_str());
    ImGui::Separator();
    ImGui::TextWrapped(
        "Keys: S step, R run, Space pause, ] [ slow motion, PageDown/PageUp lesson, Z zoom, "
        "Ctrl +/- text (F1: all)");
    ImGui::EndChild();

    ImGui::SameLine();
    if (app.lesson) {
        // Beside runs, at most 45% of what is left; alone (a step with nothing to run yet), all of it.
        const float lesson_width =
            app.runs.empty() ? 0.0f : std::min(scaled(620.0f), ImGui::GetContentRegionAvail().x * 0.45f);
        ImGui::BeginChild("lesson", ImVec2(lesson_width, height), true);
        // The lesson is read by a class: its secondary text (the introduction, line numbers, check details) in
        // near-white rather than the theme's dim grey, which a projector washes out.
        ImGui::PushStyleColor(ImGuiCol_TextDisabled, ImVec4(0.90f, 0.90f, 0.92f, 1.0f));
        draw_lesson(app);
        ImGui::PopStyleColor();
        ImGui::EndChild();
        if (app.runs.empty()) {
            ImGui::End();
            draw_key_help(app);
            return;
        }
        ImGui::SameLine();
    }
    if (app.runs.empty()) {
        ImGui::BeginChild("empty", ImVec2(0, height), true);
        ImGui::TextWrapped(
            "No session yet. Start a model, attach to a server, open a trace or run the reference "
            "model from 'Add a session' on the left.");
        ImGui::EndChild();
    } else {
        // With the compare view on, the columns share the height with the compare strip below them.
        ImGui::BeginGroup();
        const float compare_height = app.compare_view ? std::max(scaled(300.0f), height * 0.42f) : 0.0f;
        const float columns_height =
            height - (app.compare_view ? compare_height + ImGui::GetStyle().ItemSpacing.y : 0.0f);
        const float spacing = ImGui::GetStyle().ItemSpacing.x;
        const float area = ImGui::GetContentRegionAvail().x;
        const auto count = static_cast<float>(app.runs.size());
        const float column = (area - spacing * (count - 1)) / count;
        for (std::size_t i = 0; i < app.runs.size(); ++i) {
            if (i) ImGui::SameLine();
            draw_run_column(app, i, column, columns_height);
        }
        if (app.compare_view) {
            ImGui::BeginChild("compare", ImVec2(area, compare_height), true);
            draw_compare(app);
            ImGui::EndChild();
        }
        ImGui::EndGroup();
    }
    ImGui::End();
    draw_key_help(app);
}

void apply_action(AppState& app, Action action) {
    switch (action) {
        case Action::none:
            return;
        case Action::font_larger:
        case Action::font_smaller:
        case Action::font_reset:
            app.ui_scale = action == Action::font_reset ? app.default_ui_scale
                                                        : next_scale(app.ui_scale, action == Action::font_larger);
            app.status =
                "text " + std::to_string(static_cast<int>(font_pixels(app.ui_scale))) + " px (Ctrl 0: the default)";
            return;
        case Action::help:
            app.show_help = !app.show_help;
            return;
        case Action::lesson_next:
            if (app.lesson && app.lesson->step_index() + 1 < app.lesson->lesson().steps.size())
                app.lesson->go_to(app.lesson->step_index() + 1);
            return;
        case Action::lesson_previous:
            if (app.lesson && app.lesson->step_index() > 0) app.lesson->go_to(app.lesson->step_index() - 1);
            return;
        default:
            break;
    }
    if (app.runs.empty()) return;
    const auto index = static_cast<std::size_t>(app.selected_run);
    TracedRun& run = *app.runs[index];
    RunView& view = app.views[index];
    const TraceModel& model = run.trace_model();
    switch (action) {
        case Action::pause:
            if (run.live()) {
                run.set_gate(!run.gate_on());
                app.status = run.gate_on() ? "gate on: each worker stops after its wait returns (S releases one)"
                                           : "gate off: the workers run";
            } else if (!run.scenario()) {
                run.set_playing(!run.playing());
            }
            break;
        case Action::step:
            if (run.live()) {
                if (!run.gate_on()) {  // the first step holds everyone; the next releases one
                    run.set_gate(true);
                    app.status = "gate on: each worker stops after its wait returns (S again releases one)";
                } else {
                    run.step();
                    app.status = "step: the worker held longest released";
                    // Zoom on the worker it releases once its release arrives: in a two-second window a step is a pixel.
                    view.zoom_to_release_pending = true;
                    view.step_asked_ns = model.horizon_ns();
                    view.step_asked_at = ImGui::GetTime();
                }
            } else if (run.scenario()) {
                run.scenario_next();
                zoom_to_last_step(run, view);
            } else if (model.event_count() > 0) {
                const std::size_t next = model.first_event_at_or_after(run.cursor_ns() + 1);
                if (next < model.event_count()) run.seek(model.events()[next].time_ns);
                run.set_playing(false);
            }
            break;
        case Action::run:
            if (run.live()) {
                run.release_all();
                app.status = "run: every held worker released (the gate stays on; Space turns it off)";
            } else if (run.scenario()) run.scenario_to_end();
            else run.set_playing(true);
            break;
        case Action::slow_up:
        case Action::slow_down:
            if (run.live()) {
                run.set_slow_motion(next_slow_motion(run.slow_motion_ms(), action == Action::slow_up));
                app.status = "slow motion: " + std::to_string(run.slow_motion_ms()) + " ms after each wait";
            }
            break;
        case Action::zoom_last_step:
            zoom_to_last_step(run, view);
            break;
        default:
            break;
    }
}

}  // namespace socklab::viz::ui
