// visualizer/ui/app.cpp — the window's layout: a sidebar (sessions, then the selected session's controls)
// and the sessions side by side, each a column with its timeline on top and its panels below; the keyboard
// (keys.h) and the actions it and the flags apply.
#include <algorithm>

#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

void AppState::add(std::unique_ptr<Session> session) {
    if (!session) return;
    sessions.push_back(std::move(session));
    views.emplace_back();
    selected_session = static_cast<int>(sessions.size()) - 1;
}

void AppState::remove(int index) {
    if (index < 0 || index >= static_cast<int>(sessions.size())) return;
    sessions.erase(sessions.begin() + index);
    views.erase(views.begin() + index);
    selected_session = std::clamp(selected_session, 0, std::max(0, static_cast<int>(sessions.size()) - 1));
}

namespace {

constexpr float kSidebarWidth = 330.0f;  // at scale 1 (scaled())

// The panels under the timeline. Wide columns show three side by side; narrow ones (several sessions) use tabs.
void draw_panels_below(AppState& app, Session& session, SessionView& view, float height) {
    const float width = ImGui::GetContentRegionAvail().x;
    if (width >= scaled(960.0f)) {
        const float third = (width - 2 * ImGui::GetStyle().ItemSpacing.x) / 3;
        ImGui::BeginChild("waiters+queue", ImVec2(third, height), true);
        draw_waiters(session, view);
        ImGui::Separator();
        draw_queue(session, view);
        ImGui::EndChild();
        ImGui::SameLine();
        ImGui::BeginChild("conformance+connections", ImVec2(third, height), true);
        draw_conformance(session, view);
        ImGui::Separator();
        draw_connections(session, view);
        ImGui::EndChild();
        ImGui::SameLine();
        ImGui::BeginChild("source", ImVec2(0, height), true);
        draw_source(session, view, app.repo_root);
        ImGui::EndChild();
        return;
    }
    ImGui::BeginChild("panels", ImVec2(0, height), true);
    if (ImGui::BeginTabBar("panels")) {
        if (ImGui::BeginTabItem("Waiters & queue")) {
            draw_waiters(session, view);
            ImGui::Separator();
            draw_queue(session, view);
            ImGui::EndTabItem();
        }
        if (ImGui::BeginTabItem("Conformance")) {
            draw_conformance(session, view);
            ImGui::EndTabItem();
        }
        if (ImGui::BeginTabItem("Connections")) {
            draw_connections(session, view);
            ImGui::EndTabItem();
        }
        // A click on an event brings the source forward.
        if (ImGui::BeginTabItem("Source", nullptr, view.scroll_source_to_selection ? ImGuiTabItemFlags_SetSelected : 0)) {
            draw_source(session, view, app.repo_root);
            ImGui::EndTabItem();
        }
        ImGui::EndTabBar();
    }
    ImGui::EndChild();
}

// A live model discards its oldest events now and then, renumbering the rest: the selection follows its
// event, or is cleared when the event is gone (or when two discards passed unseen, which a frame never sees).
void follow_discards(const TraceModel& model, SessionView& view) {
    if (view.discards_seen == model.discards()) return;
    view.selected_event = view.discards_seen + 1 == model.discards() ? model.index_after_last_discard(view.selected_event)
                                                                     : kNoEvent;
    view.discards_seen = model.discards();
}

void draw_session_column(AppState& app, std::size_t index, float width, float height) {
    Session& session = *app.sessions[index];
    SessionView& view = app.views[index];
    follow_discards(session.model(), view);
    ImGui::PushID(static_cast<int>(index));
    ImGui::BeginChild("column", ImVec2(width, height), false);
    const bool selected = app.selected_session == static_cast<int>(index);
    if (app.compare_view && session.live()) {
        // The session's colour in the compare plots, so a line leads to its column.
        const ImVec2 at = ImGui::GetCursorScreenPos();
        const float side = ImGui::GetTextLineHeight();
        ImGui::GetWindowDrawList()->AddRectFilled(at, ImVec2(at.x + side, at.y + side), session_colour(index), 2);
        ImGui::Dummy(ImVec2(side, side));
        ImGui::SameLine();
    }
    ImGui::TextColored(selected ? ImVec4(1, 0.9f, 0.4f, 1) : ImVec4(0.85f, 0.85f, 0.85f, 1), "%s",
                       session.title().c_str());
    if (ImGui::IsItemClicked()) app.selected_session = static_cast<int>(index);
    ImGui::SameLine();
    ImGui::TextDisabled("  %s   %s events", session.status_text().c_str(),
                        format_count(session.model().event_count()).c_str());
    if (session.model().discarded_events() > 0) {
        ImGui::SameLine();
        ImGui::TextDisabled("  history: last %.1f min kept",
                            double(session.model().last_ns() - session.model().first_ns()) / 60e9);
        help_marker("A live session keeps its newest events in full detail and discards the oldest, so its memory "
                    "stays flat however long the class runs. Counters, conformance, latency and throughput still "
                    "cover the whole run; the state at the start of the kept history is kept with it.");
    }

    // As tall as the lanes need, between a readable minimum and 55% of the column.
    const float available = height - ImGui::GetCursorPosY();
    const float least = scaled(140.0f);
    const float timeline_height = std::clamp(timeline_height_wanted(session), least, std::max(least, available * 0.55f));
    ImGui::BeginChild("timeline", ImVec2(0, timeline_height), true, ImGuiWindowFlags_NoScrollWithMouse);
    draw_timeline(session, view);
    ImGui::EndChild();
    draw_panels_below(app, session, view, ImGui::GetContentRegionAvail().y);
    ImGui::EndChild();
    ImGui::PopID();
}

// The keys window (F1 or ?): every binding, from the same table the key map is tested against.
void draw_key_help(AppState& app) {
    if (!app.show_help) return;
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(ImVec2(viewport->WorkPos.x + viewport->WorkSize.x * 0.5f, viewport->WorkPos.y + viewport->WorkSize.y * 0.5f),
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
        ImGui::TextWrapped("The same actions as flags, for headless runs: --step N, --slow MS, --scale S, --do "
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
    ImGui::BeginChild("sidebar", ImVec2(std::min(scaled(kSidebarWidth), std::max(kSidebarWidth, viewport->WorkSize.x * 0.3f)), height), true);
    ImGui::TextColored(ImVec4(1, 0.9f, 0.4f, 1), "socklab-viz");
    help_marker("Watch a server's threads wait, wake and take completion packets. Hover any (?) for what an "
                "element shows. docs/design.md section 7 describes the whole program.");
    draw_sessions(app);
    ImGui::Checkbox("Compare view", &app.compare_view);
    help_marker("Under the session columns: every live session's replies per second and round-trip latency over "
                "time, on shared plots. Give each the same load (Clients: connect the same number, then "
                "Saturate), or start with socklab-viz --compare iocp,select.");
    ImGui::Separator();
    if (!app.sessions.empty()) {
        const auto selected = static_cast<std::size_t>(app.selected_session);
        draw_controls(app, *app.sessions[selected], app.views[selected]);
    }
    if (!app.status.empty()) ImGui::TextWrapped("%s", app.status.c_str());
    ImGui::Separator();
    ImGui::TextWrapped("Keys: S step, R run, Space pause, ] [ slow motion, PageDown/PageUp lesson, Z zoom, "
                       "Ctrl +/- text (F1: all)");
    ImGui::EndChild();

    ImGui::SameLine();
    if (app.lesson) {
        // Beside sessions, at most 45% of what is left; alone (a step with nothing to run yet), all of it.
        const float lesson_width = app.sessions.empty() ? 0.0f
                                                        : std::min(scaled(620.0f), ImGui::GetContentRegionAvail().x * 0.45f);
        ImGui::BeginChild("lesson", ImVec2(lesson_width, height), true);
        // The lesson is read by a class: its secondary text (the introduction, line numbers, check details) in
        // near-white rather than the theme's dim grey, which a projector washes out.
        ImGui::PushStyleColor(ImGuiCol_TextDisabled, ImVec4(0.90f, 0.90f, 0.92f, 1.0f));
        draw_lesson(app);
        ImGui::PopStyleColor();
        ImGui::EndChild();
        if (app.sessions.empty()) {
            ImGui::End();
            draw_key_help(app);
            return;
        }
        ImGui::SameLine();
    }
    if (app.sessions.empty()) {
        ImGui::BeginChild("empty", ImVec2(0, height), true);
        ImGui::TextWrapped("No session yet. Start a model, attach to a server, open a trace or run the reference "
                           "model from 'Add a session' on the left.");
        ImGui::EndChild();
    } else {
        // With the compare view on, the columns share the height with the compare strip below them.
        ImGui::BeginGroup();
        const float compare_height = app.compare_view ? std::max(scaled(300.0f), height * 0.42f) : 0.0f;
        const float columns_height = height - (app.compare_view ? compare_height + ImGui::GetStyle().ItemSpacing.y : 0.0f);
        const float spacing = ImGui::GetStyle().ItemSpacing.x;
        const float area = ImGui::GetContentRegionAvail().x;
        const auto count = static_cast<float>(app.sessions.size());
        const float column = (area - spacing * (count - 1)) / count;
        for (std::size_t i = 0; i < app.sessions.size(); ++i) {
            if (i) ImGui::SameLine();
            draw_session_column(app, i, column, columns_height);
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
    case Action::none: return;
    case Action::font_larger:
    case Action::font_smaller:
    case Action::font_reset:
        app.ui_scale = action == Action::font_reset ? app.default_ui_scale : next_scale(app.ui_scale, action == Action::font_larger);
        app.status = "text " + std::to_string(static_cast<int>(font_pixels(app.ui_scale))) + " px (Ctrl 0: the default)";
        return;
    case Action::help: app.show_help = !app.show_help; return;
    case Action::lesson_next:
        if (app.lesson && app.lesson->step_index() + 1 < app.lesson->lesson().steps.size())
            app.lesson->go_to(app.lesson->step_index() + 1);
        return;
    case Action::lesson_previous:
        if (app.lesson && app.lesson->step_index() > 0) app.lesson->go_to(app.lesson->step_index() - 1);
        return;
    default: break;
    }
    if (app.sessions.empty()) return;
    const auto index = static_cast<std::size_t>(app.selected_session);
    Session& session = *app.sessions[index];
    SessionView& view = app.views[index];
    const TraceModel& model = session.model();
    switch (action) {
    case Action::pause:
        if (session.live()) {
            session.set_gate(!session.gate_on());
            app.status = session.gate_on() ? "gate on: each worker stops after its wait returns (S releases one)"
                                           : "gate off: the workers run";
        } else if (!session.scenario()) {
            session.set_playing(!session.playing());
        }
        break;
    case Action::step:
        if (session.live()) {
            if (!session.gate_on()) {  // the first step holds everyone; the next releases one
                session.set_gate(true);
                app.status = "gate on: each worker stops after its wait returns (S again releases one)";
            } else {
                session.step();
                app.status = "step: the worker held longest released";
                // Zoom on the worker it releases once its release arrives: in a two-second window a step is a pixel.
                view.zoom_to_release_pending = true;
                view.step_asked_ns = model.horizon_ns();
                view.step_asked_at = ImGui::GetTime();
            }
        } else if (session.scenario()) {
            session.scenario_next();
            zoom_to_last_step(session, view);
        } else if (model.event_count() > 0) {
            const std::size_t next = model.first_event_at_or_after(session.cursor_ns() + 1);
            if (next < model.event_count()) session.seek(model.events()[next].time_ns);
            session.set_playing(false);
        }
        break;
    case Action::run:
        if (session.live()) {
            session.run();
            app.status = "run: every held worker released (the gate stays on; Space turns it off)";
        } else if (session.scenario()) session.scenario_to_end();
        else session.set_playing(true);
        break;
    case Action::slow_up:
    case Action::slow_down:
        if (session.live()) {
            session.set_slow_motion(next_slow_motion(session.slow_motion_ms(), action == Action::slow_up));
            app.status = "slow motion: " + std::to_string(session.slow_motion_ms()) + " ms after each wait";
        }
        break;
    case Action::zoom_last_step: zoom_to_last_step(session, view); break;
    default: break;
    }
}

}  // namespace socklab::viz::ui
