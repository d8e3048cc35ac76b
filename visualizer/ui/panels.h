// visualizer/ui/panels.h — the panels of socklab-viz, one file each, and the little they share.
//
// Every panel draws one TracedRun (visualizer/model/traced_run.h) as it was at the run's cursor, so the same
// code serves live servers, replays and the reference model. Panels keep their own per-run state (zoom,
// selection) in a RunView; everything else they ask of the model.
//
//   timeline_panel.cpp      one lane per thread coloured by state; zoom, pan, follow live; click to select
//   waiters_panel.cpp       a completion port's waiters as a stack, and the positions recent wakes took
//   queue_panel.cpp         the completion queue: depth over time, the packets waiting
//   connections_panel.cpp   connections, throughput and latency counters
//   conformance_panel.cpp   measured behaviour against the documented Windows rules, runtime named
//   source_panel.cpp        the selected event's details and the model source line that emitted it
//   controls_panel.cpp      playback, the step gate, slow motion, clients, record, export
//   runs_panel.cpp          the run list; start a model, attach, open a trace, the reference model
//   lesson_panel.cpp        a lesson step by step: prose, the anchored source, the step's run and its checks
//   compare_panel.cpp       every live run's replies/s and latency over time, overlaid (--compare)
//   widgets.cpp             the "(?)" marker, state colours, number formatting
//   keys.h/.cpp             the key map and action names (pure); app.cpp applies them (apply_action)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "imgui.h"
#include "visualizer/model/lesson_player.h"
#include "visualizer/model/lesson_text.h"
#include "visualizer/model/traced_run.h"
#include "visualizer/ui/keys.h"

namespace socklab::viz::ui {

// What one run's panels remember between frames.
struct RunView {
    // The timeline's visible range, in trace nanoseconds (doubles: zoom needs fractions of a nanosecond).
    double view_begin_ns = 0;
    double view_end_ns = 0;
    bool view_fitted = false;  // the range was set once (fit to the trace, or the live window)
    std::uint32_t selected_event = kNoEvent;
    std::uint64_t discards_seen = 0;  // the model's discards() when selected_event was last renumbered
    bool scroll_source_to_selection = false;
    std::int64_t shown_port = 0;  // which completion port the waiters and queue panels show
    std::string message;          // the last action's outcome ("exported to ...")
    // A Step asked the timeline to zoom on the worker it releases: the first gate release (or wake) at or
    // after this trace time, once it arrives.
    bool zoom_to_release_pending = false;
    std::uint64_t step_asked_ns = 0;
    double step_asked_at = 0;  // ImGui::GetTime() then: a release that never comes is given up after 2 s
};

// Everything the program shows: the runs side by side, and which one the sidebar controls.
struct AppState {
    std::vector<std::unique_ptr<TracedRun>> runs;
    std::vector<RunView> views;  // one per run, same order
    int selected_run = 0;
    std::string repo_root;                       // for the source panel
    std::string screenshot_request;              // a path: main writes a PNG of the next frame there
    std::string status;                          // one line at the bottom of the sidebar
    std::unique_ptr<LessonPlayer> lesson;        // --lesson N: the lesson panel shows it
    const TracedRun* lesson_step_run = nullptr;  // the run the lesson's current step started, if any
    bool compare_view = false;                   // the compare panel under the run columns (--compare, or the sidebar)
    ImFont* large_font = nullptr;                // a larger size of the UI font, for figures read on a projector
    // Text and sizes: --scale S, Ctrl +/-, default from the monitor's DPI. main rebuilds the font atlas at
    // font_pixels(ui_scale) (not a bitmap stretch) whenever it differs from fonts_scale, between frames.
    float ui_scale = 1.0f;
    float default_ui_scale = 1.0f;  // what Ctrl 0 returns to: --scale, or the monitor's
    float fonts_scale = 0.0f;       // the scale the font atlas and style were last built at
    bool show_help = false;         // the keys window (F1 or ?)

    void add(std::unique_ptr<TracedRun> run);
    void remove(int index);
};

// ---- the panels ----
void draw_timeline(TracedRun& run, RunView& view);
float timeline_height_wanted(const TracedRun& run);  // the lanes, the ruler and the queue strip
void draw_waiters(TracedRun& run, RunView& view);
void draw_queue(TracedRun& run, RunView& view);
void draw_connections(TracedRun& run, RunView& view);
void draw_conformance(TracedRun& run, RunView& view);
void draw_source(TracedRun& run, RunView& view, const std::string& repo_root);
void draw_controls(AppState& app, TracedRun& run, RunView& view);
void draw_runs(AppState& app);
void draw_lesson(AppState& app);   // the lesson column (when app.lesson is open)
void draw_compare(AppState& app);  // the compare strip: every live run's load series together
// The whole window: sidebar, then the runs side by side.
void draw_app(AppState& app);
// One action applied to the selected run (and the lesson, the text size), as a key (main.cpp reads the
// keyboard between frames, keys.h maps it) or a flag (--step, --do) does.
void apply_action(AppState& app, Action action);
// The timeline's zoom on the last step: the last gate release in the run (or its last wake), selected and
// shown across a window a few milliseconds wide. False when the run has no such event yet.
bool zoom_to_last_step(TracedRun& run, RunView& view, std::uint64_t not_before_ns = 0);
// Sizes fixed in pixels at scale 1, at the current UI scale (the font's size over its size at scale 1).
inline float scaled(float pixels) { return pixels * ImGui::GetFontSize() / kBaseFontPixels; }

// ---- widgets.cpp ----
// A "(?)" after the previous item; hovering it shows `text` (the Dear ImGui demo's HelpMarker).
void help_marker(const char* text);
ImU32 state_colour(LaneState state, bool busy = false);
const char* state_meaning(LaneState state);
std::string format_duration(double ns);                                  // "1.25 ms", "340 ns"
std::string format_count(std::uint64_t count);                           // "12,345"
std::string thread_name(const TraceModel& model, std::uint16_t thread);  // "worker 3"
// The colour of run `index` in the compare plots (and beside its column's title): the Okabe-Ito palette,
// told apart by the common colour-vision deficiencies and on a washed-out projector.
ImU32 run_colour(std::size_t index);
// A heading for a panel section, with its "(?)".
void section_heading(const char* title, const char* help);

// ---- rich_text.cpp ----
// A lesson's text (visualizer/model/lesson_text.h) laid out to the panel's width: paragraphs wrapped word by
// word, *emphasis* and **strong** in their own colours, `code` on a dark ground, lists indented under their
// markers, headings in heading_font (null: the current font), code blocks as they are, tables as tables.
void draw_lesson_text(const std::vector<TextBlock>& blocks, ImFont* heading_font);
// Punctuation the UI font lacks (dashes, curly quotes, ellipsis, arrows) as the nearest ASCII.
std::string plain_typography(const std::string& text);

}  // namespace socklab::viz::ui
