// visualizer/ui/lesson_panel.cpp — a lesson, one step at a time (socklab-viz --lesson N).
//
// From top to bottom: the lesson and step, Previous / Next; the step's prose; its anchors as buttons and the
// source around the chosen one, the quoted lines highlighted; the step's run — a reference run played one
// scenario line at a time, or a live server driven by the step's clients (attached live, then replayed from
// its trace file); and the step's checks, each pending, met or not met. Entering a step starts its run.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

namespace {

// Replaces the run the previous step started (if any) with `run` (may be null: none).
void set_lesson_step_run(AppState& app, std::unique_ptr<TracedRun> run) {
    for (std::size_t i = 0; i < app.runs.size(); ++i)
        if (app.runs[i].get() == app.lesson_step_run) {
            app.remove(static_cast<int>(i));
            break;
        }
    app.lesson_step_run = run.get();
    if (run) app.add(std::move(run));
}

// One-line texts (titles, check details) for a wrapping text widget: the lines joined, the punctuation the font
// lacks made plain. The step's prose is drawn as Markdown instead (lesson_text).
std::string for_display(const std::string& text) {
    std::string joined = text;
    for (char& c : joined)
        if (c == '\n') c = ' ';
    return plain_typography(joined);
}

// A Markdown text's blocks, parsed once and kept while the lesson is open (the texts are the lesson's own).
const std::vector<TextBlock>& lesson_text(const std::string& markdown) {
    static std::map<std::string, std::vector<TextBlock>> parsed;
    auto found = parsed.find(markdown);
    if (found == parsed.end()) found = parsed.emplace(markdown, parse_lesson_text(markdown)).first;
    return found->second;
}

TracedRun* lesson_step_run(AppState& app) {
    for (auto& run : app.runs)
        if (run.get() == app.lesson_step_run) return run.get();
    return nullptr;
}

// The step's run begins as soon as the step is shown.
void start_step(AppState& app, LessonPlayer& lesson) {
    const lessons::Step& step = lesson.step();
    if (step.runs_reference()) {
        set_lesson_step_run(app, TracedRun::reference(step.scenario));
    } else {
        set_lesson_step_run(app, nullptr);
        if (step.runs_live()) lesson.start_live_run();
    }
}

// Live runs report to the UI thread: attach while the server runs, replay its trace once it is over.
void follow_live_run(AppState& app, LessonPlayer& lesson) {
    std::uint16_t trace_port = 0, server_port = 0;
    if (lesson.take_attach(trace_port, server_port))
        set_lesson_step_run(app, TracedRun::attach("127.0.0.1", trace_port, server_port));
    std::string trace_file;
    if (lesson.take_finished(trace_file) && !trace_file.empty()) {
        std::string error;
        auto replay = TracedRun::open_replay(trace_file, error);
        if (replay) set_lesson_step_run(app, std::move(replay));
        else app.status = error;
        std::remove(trace_file.c_str());  // read whole into the replay; Record or Export keep a copy
    }
}

void draw_source_around(const LessonPlayer& lesson, const std::string& anchor, bool scroll) {
    const lessons::AnchorSite* site = lesson.anchors().find(anchor);
    if (!site) {
        ImGui::TextColored(ImVec4(1, 0.45f, 0.4f, 1), "%s", lesson.anchors().problem(anchor).c_str());
        return;
    }
    ImGui::TextDisabled("%s:%d-%d", site->file.c_str(), site->first_line, site->last_line);
    const std::vector<std::string>* lines = lesson.anchors().lines_of(site->file);
    if (!lines) return;
    // Long lines wrap under their own start, so a quoted call is seen whole with its last argument (no
    // horizontal scrolling to find it); the quote is scrolled into view when the anchor is chosen.
    ImGui::BeginChild("lesson source", ImVec2(0, scaled(230)), true);
    const float line_height = ImGui::GetTextLineHeightWithSpacing();
    for (std::size_t row = 0; row < lines->size(); ++row) {
        const int number = static_cast<int>(row) + 1;
        const bool quoted = number >= site->first_line && number <= site->last_line;
        if (scroll && number == site->first_line) ImGui::SetScrollHereY(0.1f);
        const ImVec2 at = ImGui::GetCursorScreenPos();
        ImGui::TextDisabled("%4d", number);
        ImGui::SameLine();
        ImGui::PushTextWrapPos(0);
        const std::string& text = (*lines)[row];
        if (quoted) {
            // The quote's ground, as tall as the line is once wrapped.
            const float width = ImGui::GetContentRegionAvail().x;
            const float height = ImGui::CalcTextSize(text.c_str(), nullptr, false, width).y;
            ImGui::GetWindowDrawList()->AddRectFilled(
                at, ImVec2(at.x + ImGui::GetWindowWidth(), at.y + std::max(height, line_height)),
                IM_COL32(90, 80, 20, 255));
        }
        if (number == site->marker_line) ImGui::TextColored(ImVec4(0.95f, 0.85f, 0.45f, 1), "%s", text.c_str());
        else ImGui::TextUnformatted(text.c_str());
        ImGui::PopTextWrapPos();
    }
    ImGui::EndChild();
}

void draw_checks(AppState& app, LessonPlayer& lesson) {
    TracedRun* run = lesson_step_run(app);
    const auto checks = lesson.checks(run ? run->scenario() : nullptr);
    if (checks.empty()) return;
    section_heading("Checks",
                    "What the step must show. Reference steps: each 'expect' of the scenario is decided "
                    "when its line is played; the others once the scenario has been played to the end. "
                    "Live steps: decided from the replies and the server's own trace when the run is "
                    "over. `socklab lesson N --check` decides the same checks in a terminal.");
    for (const auto& check : checks) {
        const bool met = check.state == LessonPlayer::CheckState::met;
        const bool pending = check.state == LessonPlayer::CheckState::pending;
        const ImVec4 colour = pending ? ImVec4(0.6f, 0.6f, 0.6f, 1)
                              : met   ? ImVec4(0.45f, 0.85f, 0.45f, 1)
                                      : ImVec4(1, 0.45f, 0.4f, 1);
        ImGui::TextColored(colour, "%-8s", pending ? "pending" : met ? "met" : "NOT MET");
        ImGui::SameLine();
        ImGui::TextUnformatted(check.text.c_str());
        if (!check.detail.empty()) {
            ImGui::Indent();
            ImGui::PushTextWrapPos(0);
            ImGui::TextDisabled("%s", for_display(check.detail).c_str());
            ImGui::PopTextWrapPos();
            ImGui::Unindent();
        }
    }
}

// The lesson's title, the step's, and Previous and Next.
void draw_step_header(LessonPlayer& lesson) {
    const lessons::Step& step = lesson.step();
    ImGui::TextColored(ImVec4(1, 0.9f, 0.4f, 1), "Lesson %d: %s", lesson.lesson().number,
                       for_display(lesson.lesson().title).c_str());
    help_marker(
        "The lesson's text is lessons/NN-*.md; code is quoted by its `// LESSON:` anchors. Previous and "
        "Next move between steps; entering a step starts what it runs.");
    ImGui::PushTextWrapPos(0);
    ImGui::Text("Step %d of %zu: %s", step.number, lesson.lesson().steps.size(), for_display(step.title).c_str());
    ImGui::PopTextWrapPos();
    ImGui::BeginDisabled(lesson.step_index() == 0);
    if (ImGui::Button("< Previous")) lesson.go_to(lesson.step_index() - 1);
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(lesson.step_index() + 1 >= lesson.lesson().steps.size());
    if (ImGui::Button("Next >")) lesson.go_to(lesson.step_index() + 1);
    ImGui::EndDisabled();
}

// "Read": the step's anchors by name, and the source around the one shown (scrolled to when it changes).
void draw_read(LessonPlayer& lesson, const lessons::Step& step, std::string& scrolled_to) {
    section_heading("Read",
                    "The code this step quotes, by anchor. Click a name to show it; the quoted lines are "
                    "highlighted, the anchor's own line is yellow.");
    for (const std::string& anchor : step.anchors) {
        if (ImGui::Selectable(anchor.c_str(), lesson.shown_anchor == anchor, 0,
                              ImVec2(ImGui::CalcTextSize(anchor.c_str()).x, 0)))
            lesson.shown_anchor = anchor;
        ImGui::SameLine();
    }
    ImGui::NewLine();
    const bool scroll = scrolled_to != lesson.shown_anchor;
    scrolled_to = lesson.shown_anchor;
    draw_source_around(lesson, lesson.shown_anchor, scroll);
}

// "Run": what the step runs as it stands (the reference model's last decision, or the live run's log), then its
// checks.
void draw_run(AppState& app, LessonPlayer& lesson, const lessons::Step& step) {
    section_heading("Run",
                    "Reference steps play the scenario in the reference model of the documented Windows "
                    "rules (the session on the right; Next line steps it). Live steps start the model "
                    "(under Wine on Linux), drive the clients as written, then replay the server's trace.");
    if (step.runs_reference()) {
        // The scenario's buttons (Next line, Restart, To the end) are the controls panel's, once, beside the
        // run; keys S and R do the same. Here: what the last line did.
        TracedRun* run = lesson_step_run(app);
        if (run && run->scenario()) {
            const auto& lines = run->scenario()->run().lines;
            if (!lines.empty() && !lines.back().explanations.empty()) {
                ImGui::PushTextWrapPos(0);
                ImGui::TextUnformatted(for_display(lines.back().explanations.back()).c_str());
                ImGui::PopTextWrapPos();
            }
        }
    } else {
        ImGui::TextDisabled("%s", step.run.text.c_str());
        for (const auto& action : step.actions) ImGui::BulletText("%s", action.text.c_str());
        ImGui::BeginDisabled(lesson.live_running());
        if (ImGui::Button(lesson.live_running() ? "Running..." : "Run again")) lesson.start_live_run();
        ImGui::EndDisabled();
        for (const std::string& line : lesson.live_log()) ImGui::TextDisabled("%s", line.c_str());
        if (const auto result = lesson.live_result(); result && !result->error.empty())
            ImGui::TextColored(ImVec4(1, 0.45f, 0.4f, 1), "%s", result->error.c_str());
    }
    draw_checks(app, lesson);
}

}  // namespace

void draw_lesson(AppState& app) {
    LessonPlayer& lesson = *app.lesson;
    static unsigned started_serial = 0;
    static std::string scrolled_to;
    if (started_serial != lesson.step_serial()) {
        started_serial = lesson.step_serial();
        scrolled_to.clear();
        start_step(app, lesson);
    }
    follow_live_run(app, lesson);

    // The step as the frame began: after Previous or Next the body shows the new step from the next frame on.
    const lessons::Step& step = lesson.step();
    draw_step_header(lesson);
    ImGui::Separator();
    ImGui::BeginChild("lesson body", ImVec2(0, 0), false);
    if (lesson.step_index() == 0 && !lesson.lesson().introduction.empty()) {
        draw_lesson_text(lesson_text(lesson.lesson().introduction), app.large_font);
        ImGui::Separator();
    }
    draw_lesson_text(lesson_text(step.prose), app.large_font);
    if (!step.anchors.empty()) {
        ImGui::Separator();
        draw_read(lesson, step, scrolled_to);
    }
    if (!step.run.words.empty()) {
        ImGui::Separator();
        draw_run(app, lesson, step);
    }
    ImGui::EndChild();
}

}  // namespace socklab::viz::ui
