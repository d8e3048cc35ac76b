// visualizer/ui/timeline_panel.cpp — one lane per thread, coloured by what the thread is doing.
//
// Sections:
//   1. Geometry: time <-> pixels, the visible range (fit, follow live, zoom on the last step)
//   2. The legend and the marks' colours
//   3. A frame, phase by phase (draw_timeline): the toolbar and legend; the canvas laid out; input (the wheel
//      zooms around the mouse, a drag pans); the ruler (a click moves the cursor); the lanes with their event
//      marks and wake positions; the queue strip; the cursor; the selection; hover and click on a lane
//
// Cost: each lane asks the model for its spans and events across the width (TraceModel::spans/events_in),
// which merge what is narrower than a pixel, so a frame costs the pixels drawn, not the events recorded.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

namespace {

// Sizes at scale 1; Sizes holds them at the UI scale (scaled(), so lanes grow with the text).
constexpr float kLabelWidthBase = 118.0f;
constexpr float kRulerHeightBase = 20.0f;
constexpr float kLaneHeightBase = 18.0f;
constexpr float kLaneGapBase = 4.0f;
constexpr float kQueueStripHeightBase = 34.0f;
struct Sizes {
    float label_width = scaled(kLabelWidthBase);
    float ruler_height = scaled(kRulerHeightBase);
    float lane_height = scaled(kLaneHeightBase);
    float lane_gap = scaled(kLaneGapBase);
    float queue_strip_height = scaled(kQueueStripHeightBase);
};
constexpr double kLiveWindowNs = 2e9;  // what "follow live" shows: the last two seconds

// ---- 1. Geometry ----------------------------------------------------------------------------------------

struct Geometry {
    float left, right, top;  // the time area, in screen pixels
    double begin, end;       // the time range it shows
    double ns_per_pixel() const { return (end - begin) / std::max(1.0f, right - left); }
    float x_of(double time) const { return left + float((time - begin) / ns_per_pixel()); }
    double time_at(float x) const { return begin + double(x - left) * ns_per_pixel(); }
};

void keep_range_sensible(RunView& view) {
    const double span = view.view_end_ns - view.view_begin_ns;
    if (span < 1000.0) {  // never closer than a microsecond across the whole width
        const double middle = (view.view_begin_ns + view.view_end_ns) / 2;
        view.view_begin_ns = middle - 500.0;
        view.view_end_ns = middle + 500.0;
    }
}

void update_range(TracedRun& run, RunView& view) {
    const TraceModel& model = run.trace_model();
    if (model.event_count() == 0) return;
    if (!view.view_fitted) {
        view.view_fitted = true;
        if (run.live()) {
            view.view_end_ns = double(model.horizon_ns());
            view.view_begin_ns = view.view_end_ns - kLiveWindowNs;
        } else {
            const double margin = double(model.last_ns() - model.first_ns()) * 0.01 + 1000.0;
            // Never before time 0: the reference model's trace starts there, and "-41 us" reads as a mistake.
            view.view_begin_ns = std::max(0.0, double(model.first_ns()) - margin);
            view.view_end_ns = double(model.last_ns()) + margin;
        }
    }
    // A Step asked to see the worker it releases: zoom on the release once it has arrived (given up after 2 s).
    if (view.zoom_to_release_pending) {
        if (zoom_to_last_step(run, view, std::max<std::uint64_t>(1, view.step_asked_ns)))
            view.zoom_to_release_pending = false;
        else if (ImGui::GetTime() - view.step_asked_at > 2.0) view.zoom_to_release_pending = false;
    }
    // Following: the right edge stays on the cursor (the newest event live, the play head in a replay).
    const double cursor = double(run.cursor_ns());
    if (run.following() || (run.playing() && cursor > view.view_end_ns)) {
        const double width = view.view_end_ns - view.view_begin_ns;
        view.view_end_ns = cursor + width * 0.02;
        view.view_begin_ns = view.view_end_ns - width;
        // A trace shorter than the window fills it from the left, like an oscilloscope, rather than
        // showing empty negative time.
        const double first = double(model.first_ns());
        if (view.view_begin_ns < first - width * 0.02) {
            view.view_begin_ns = first - width * 0.02;
            view.view_end_ns = view.view_begin_ns + width;
        }
    }
    keep_range_sensible(view);
}

// ---- 2. The legend and the marks' colours ------------------------------------------------------------------

// The lane colours and the marks, always in view (a class cannot hover a tooltip): swatches with their names,
// wrapped to the width.
struct LegendItem {
    ImU32 colour;
    const char* text;
    bool mark;
};

std::vector<LegendItem> legend_items() {
    return {
        {state_colour(LaneState::running), "running", false},
        {state_colour(LaneState::waiting), "waiting", false},
        {state_colour(LaneState::blocked), "blocked", false},
        {state_colour(LaneState::held), "held (gate)", false},
        {state_colour(LaneState::slowed), "slow motion", false},
        {state_colour(LaneState::running, true), "many changes", false},
        {IM_COL32(255, 255, 255, 255), "packet taken", true},
        {IM_COL32(90, 200, 255, 255), "posted", true},
        {IM_COL32(255, 60, 60, 255), "error", true},
        {IM_COL32(255, 220, 80, 255), "connection", true},
    };
}

// How many rows the legend wraps to across `width` (the same arithmetic draw_legend lays it out by).
int legend_rows(float width) {
    const float side = std::floor(ImGui::GetTextLineHeight() * 0.75f);
    const float gap = ImGui::GetStyle().ItemInnerSpacing.x;
    int rows = 1;
    float x = 0;
    bool first = true;
    for (const LegendItem& item : legend_items()) {
        const float item_width = side + gap + ImGui::CalcTextSize(item.text).x;
        if (!first && x + gap * 4 + item_width > width) {
            ++rows;
            x = item_width;
        } else {
            x += (first ? 0 : gap * 4) + item_width;
        }
        first = false;
    }
    return rows;
}

void draw_legend() {
    const float line = ImGui::GetTextLineHeight();
    const float side = std::floor(line * 0.75f);
    const float gap = ImGui::GetStyle().ItemInnerSpacing.x;
    const float right_edge = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    ImDrawList* draw = ImGui::GetWindowDrawList();
    bool first = true;
    for (const LegendItem& item : legend_items()) {
        const float width = side + gap + ImGui::CalcTextSize(item.text).x;
        if (!first) {
            ImGui::SameLine(0, gap * 4);
            if (ImGui::GetCursorScreenPos().x + width > right_edge) ImGui::NewLine();
        }
        first = false;
        const ImVec2 at = ImGui::GetCursorScreenPos();
        const float top = at.y + (line - side) / 2;
        if (item.mark)
            draw->AddTriangleFilled(ImVec2(at.x, top + side), ImVec2(at.x + side, top + side),
                                    ImVec2(at.x + side / 2, top), item.colour);
        else draw->AddRectFilled(ImVec2(at.x, top), ImVec2(at.x + side, top + side), item.colour);
        ImGui::Dummy(ImVec2(side, line));
        ImGui::SameLine(0, gap);
        ImGui::TextUnformatted(item.text);
    }
}

double nice_step(double raw) {
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double factor : {1.0, 2.0, 5.0, 10.0})
        if (factor * power >= raw) return factor * power;
    return 10.0 * power;
}

ImU32 mark_colour(Kind kind) {
    switch (kind) {
        case Kind::packet_posted:
            return IM_COL32(90, 200, 255, 255);
        case Kind::packet_dequeued:
            return IM_COL32(255, 255, 255, 255);
        case Kind::error:
            return IM_COL32(255, 60, 60, 255);
        case Kind::connection_open:
        case Kind::connection_close:
            return IM_COL32(255, 220, 80, 255);
        case Kind::line_in:
        case Kind::line_out:
            return IM_COL32(170, 170, 170, 200);
        case Kind::io_posted:
        case Kind::io_completed:
        case Kind::apc_run:
        case Kind::message_dispatched:
            return IM_COL32(150, 200, 150, 220);
        default:
            return 0;  // state changes show as colour; queue samples in the strip
    }
}

// The event nearest to `time` on a lane, within `tolerance_ns`, or kNoEvent.
std::uint32_t nearest_event(const TraceModel& model, const ThreadLane& lane, double time, double tolerance_ns,
                            double ns_per_pixel) {
    static std::vector<std::uint32_t> candidates;
    const auto begin = static_cast<std::uint64_t>(std::max(0.0, time - tolerance_ns));
    const auto end = static_cast<std::uint64_t>(std::max(0.0, time + tolerance_ns)) + 1;
    model.events_in(lane, begin, end, ns_per_pixel / 4, candidates);
    std::uint32_t best = kNoEvent;
    double best_distance = tolerance_ns;
    for (auto index : candidates) {
        const double distance = std::abs(double(model.events()[index].time_ns) - time);
        if (distance <= best_distance) best = index, best_distance = distance;
    }
    return best;
}

}  // namespace

bool zoom_to_last_step(TracedRun& run, RunView& view, std::uint64_t not_before_ns) {
    const TraceModel& model = run.trace_model();
    const auto& events = model.events();
    // The newest gate release; without one (a replay, the reference model), the newest wake, else the newest
    // event. Asked after a Step (not_before_ns), only a release at or after the step counts.
    std::size_t release = events.size(), wake = events.size();
    for (std::size_t i = events.size(), looked = 0; i-- > 0 && looked < 500'000; ++looked) {
        const StoredEvent& event = events[i];
        if (event.time_ns < not_before_ns) break;
        if (event.kind == Kind::gate_release) {
            release = i;
            break;
        }
        if (wake == events.size() && (event.kind == Kind::wait_end || event.kind == Kind::thread_wake)) wake = i;
    }
    std::size_t chosen = release;
    if (chosen == events.size() && not_before_ns == 0) chosen = wake != events.size() ? wake : events.size() - 1;
    if (events.empty() || chosen >= events.size()) return false;

    // Wide enough to see the released worker run to its next wait when that is known (a few milliseconds
    // live), and never so wide that the step is a pixel again.
    const StoredEvent& step = events[chosen];
    double until = 0;
    for (std::size_t i = chosen + 1; i < events.size() && i < chosen + 100'000; ++i)
        if (events[i].thread == step.thread && events[i].kind == Kind::wait_begin) {
            until = double(events[i].time_ns);
            break;
        }
    const double whole = double(model.horizon_ns() - model.first_ns());
    double window = until > 0 ? (until - double(step.time_ns)) * 2.5 : 20e6;
    window = std::clamp(window, std::min(2e6, whole / 4 + 1000.0), std::max(2e3, std::min(50e6, whole / 3)));
    // Live, the released worker runs after the release: most of the window after it. A scenario line or a replay
    // has nothing after it yet: most of the window before it.
    if (run.live()) {
        view.view_begin_ns = double(step.time_ns) - window * 0.25;
        view.view_end_ns = view.view_begin_ns + window;
    } else {
        // The newest event in view too (a scenario line that released nobody, a post, still shows).
        view.view_end_ns = std::max(double(step.time_ns), double(model.last_ns())) + window * 0.15;
        view.view_begin_ns = view.view_end_ns - window;
    }
    view.view_fitted = true;
    view.selected_event = static_cast<std::uint32_t>(chosen);
    view.scroll_source_to_selection = true;
    run.set_following(false);
    return true;
}

// A legend of more rows than this is folded (draw_timeline).
constexpr int kLegendRowsShown = 2;

float timeline_height_wanted(const TracedRun& run) {
    const Sizes size;
    std::size_t lanes = 0;
    for (const auto& lane : run.trace_model().lanes())
        if (!lane.events.empty()) ++lanes;
    // The toolbar, the legend (wrapped to the column: this is asked from inside it), the lanes.
    const float inner_width = ImGui::GetContentRegionAvail().x - 2 * ImGui::GetStyle().WindowPadding.x;
    const int legend =
        legend_rows(inner_width) <= kLegendRowsShown ? legend_rows(inner_width) : 1;  // folded: its header
    return ImGui::GetFrameHeightWithSpacing() + float(legend) * ImGui::GetTextLineHeightWithSpacing() +
           size.ruler_height + float(lanes) * (size.lane_height + size.lane_gap) +
           (run.trace_model().ports().empty() ? 0 : size.queue_strip_height + 6) + 24;
}

namespace {

// ---- 3. A frame, phase by phase -----------------------------------------------------------------------------

// Follow, Fit, the visible span, and the legend.
void draw_toolbar(TracedRun& run, RunView& view) {
    bool follow = run.following();
    if (ImGui::Checkbox(run.live() ? "Follow live" : "Follow play head", &follow)) {
        run.set_following(follow);
        if (follow && run.live()) run.set_playing(false);
    }
    help_marker(
        "Keeps the newest events (live) or the play head (replay) at the right edge. Scrolling or "
        "dragging the timeline stops following; tick this to resume.");
    ImGui::SameLine();
    if (ImGui::Button("Fit")) view.view_fitted = false, run.set_following(false);
    help_marker("Shows the whole trace.");
    ImGui::SameLine();
    ImGui::TextDisabled("%s across   wheel: zoom   drag: pan   click: select",
                        format_duration(view.view_end_ns - view.view_begin_ns).c_str());
    help_marker(
        "One lane per thread, coloured by its state: green running, blue-grey waiting, orange blocked "
        "(Sleep in /work), magenta held at the step gate, violet paused by slow motion. A lighter colour "
        "means several changes inside "
        "one pixel: zoom in to see them. Marks: white = packet taken, cyan = packet posted, "
        "red = error, yellow = connection, grey = line. The number above a wake is the stack position "
        "the thread woke from (0 = most recent waiter, LIFO). The strip below is the completion queue.");
    // The legend in full where it takes two rows or fewer; in a narrow column (several runs side by side on
    // a projector) it would push the lanes out of sight, so there it folds under a header, one click away.
    if (legend_rows(ImGui::GetContentRegionAvail().x) <= kLegendRowsShown ||
        ImGui::CollapsingHeader("legend: what the colours and marks mean"))
        draw_legend();
}

// The drawing area of one frame: where it is on screen, the time range across it, and the mouse over it.
struct Canvas {
    Sizes size;
    ImVec2 origin;
    float width = 0, height = 0;
    bool has_port = false;  // the queue strip under the lanes
    Geometry geometry{};
    ImDrawList* draw = nullptr;
    bool hovered = false;
    bool clicked = false;  // a press and release that did not travel (set by zoom_and_pan)
    // The time range asked of the model (set by zoom_and_pan, after the mouse moved it).
    std::uint64_t visible_begin = 0, visible_end = 0;
    double ns_per_pixel = 1;
};

// Sizes the canvas to the lanes (the ruler, a lane per thread with events, the queue strip) and claims it as one
// widget. False when the column is too narrow for lanes (a note is shown instead).
bool lay_out_canvas(const TraceModel& model, const RunView& view, Canvas& canvas) {
    const Sizes& size = canvas.size;
    std::size_t lane_count = 0;
    for (const auto& lane : model.lanes())
        if (!lane.events.empty()) ++lane_count;
    canvas.has_port = !model.ports().empty();
    canvas.origin = ImGui::GetCursorScreenPos();
    canvas.width = ImGui::GetContentRegionAvail().x;
    const float wanted_height = size.ruler_height + float(lane_count) * (size.lane_height + size.lane_gap) +
                                (canvas.has_port ? size.queue_strip_height + 6 : 0) + 4;
    canvas.height = std::max(wanted_height, 60.0f);
    // In a narrow column the lane names give up room first (the lanes cover their ends), so time stays visible.
    const float label_width = std::min(size.label_width, canvas.width * 0.35f);
    if (canvas.width - label_width < 40) {
        ImGui::TextDisabled("(too narrow for the lanes)");
        return false;
    }

    ImGui::InvisibleButton("timeline", ImVec2(canvas.width, canvas.height));
    canvas.hovered = ImGui::IsItemHovered();
    const ImVec2 origin = canvas.origin;
    canvas.geometry = {origin.x + label_width, origin.x + canvas.width - 4, origin.y, view.view_begin_ns,
                       view.view_end_ns};
    canvas.draw = ImGui::GetWindowDrawList();
    canvas.draw->AddRectFilled(origin, ImVec2(origin.x + canvas.width, origin.y + canvas.height),
                               IM_COL32(24, 26, 30, 255));
    return true;
}

// Input: the wheel zooms around the mouse, a drag pans; then the time range the frame draws.
void zoom_and_pan(TracedRun& run, RunView& view, Canvas& canvas) {
    Geometry& geometry = canvas.geometry;
    ImGuiIO& io = ImGui::GetIO();
    if (canvas.hovered && io.MouseWheel != 0.0f && io.MousePos.x > geometry.left) {
        const double anchor = geometry.time_at(io.MousePos.x);
        const double factor = std::pow(0.8, double(io.MouseWheel));
        view.view_begin_ns = anchor - (anchor - view.view_begin_ns) * factor;
        view.view_end_ns = anchor + (view.view_end_ns - anchor) * factor;
        if (!run.following()) geometry.begin = view.view_begin_ns, geometry.end = view.view_end_ns;
    }
    if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 3.0f)) {
        const double shift = double(io.MouseDelta.x) * geometry.ns_per_pixel();
        view.view_begin_ns -= shift;
        view.view_end_ns -= shift;
        run.set_following(false);
        geometry.begin = view.view_begin_ns;
        geometry.end = view.view_end_ns;
    }
    // A click is a press and release that did not travel: anything longer was a pan.
    canvas.clicked = ImGui::IsItemDeactivated() && io.MouseDragMaxDistanceSqr[ImGuiMouseButton_Left] < 9.0f;
    canvas.visible_begin = static_cast<std::uint64_t>(std::max(0.0, geometry.begin));
    canvas.visible_end = static_cast<std::uint64_t>(std::max(0.0, geometry.end));
    canvas.ns_per_pixel = geometry.ns_per_pixel();
}

// Times since the trace began (origin_ns, which stays put when a live history discards events); a click on the
// ruler moves the cursor there.
void draw_ruler(const TraceModel& model, TracedRun& run, const Canvas& canvas) {
    const Geometry& geometry = canvas.geometry;
    const ImVec2 origin = canvas.origin;
    const float ruler_height = canvas.size.ruler_height;
    ImDrawList* draw = canvas.draw;
    const double step = nice_step(canvas.ns_per_pixel * scaled(110));
    draw->AddRectFilled(origin, ImVec2(origin.x + canvas.width, origin.y + ruler_height), IM_COL32(36, 38, 44, 255));
    const double first = double(model.origin_ns());
    for (double t = std::ceil((geometry.begin - first) / step) * step + first; t < geometry.end; t += step) {
        const float x = geometry.x_of(t);
        draw->AddLine(ImVec2(x, origin.y + ruler_height - 6), ImVec2(x, origin.y + canvas.height),
                      IM_COL32(60, 63, 70, 255));
        draw->AddText(ImVec2(x + 3, origin.y + 3), IM_COL32(170, 170, 170, 255), format_duration(t - first).c_str());
    }
    draw->AddText(ImVec2(origin.x + 4, origin.y + 3), IM_COL32(200, 200, 200, 255), "time since start");
    const ImGuiIO& io = ImGui::GetIO();
    if (canvas.hovered && canvas.clicked && io.MousePos.y < origin.y + ruler_height && io.MousePos.x > geometry.left)
        run.seek(static_cast<std::uint64_t>(std::max(0.0, geometry.time_at(io.MousePos.x))));
}

// What drawing the lanes leaves for the phases after it.
struct LanesDrawn {
    std::vector<std::pair<std::uint16_t, float>> rows;  // thread -> lane centre, for the selection and its arrow
    const ThreadLane* hovered = nullptr;                // the lane under the mouse
    float bottom = 0;                                   // where the queue strip goes

    float row_of(std::uint16_t thread) const {
        for (const auto& [index, centre] : rows)
            if (index == thread) return centre;
        return -1.0f;
    }
};

// A lane's event marks, and above each wake the stack position it took (where there is room for the number).
void draw_lane_marks(const TraceModel& model, const ThreadLane& lane, const Canvas& canvas, float top, float bottom) {
    static std::vector<std::uint32_t> marks;
    ImDrawList* draw = canvas.draw;
    model.events_in(lane, canvas.visible_begin, canvas.visible_end, canvas.ns_per_pixel * 3, marks);
    float last_label_x = -1e9f;
    for (std::size_t k = 0; k < marks.size(); ++k) {
        const StoredEvent& event = model.events()[marks[k]];
        const float x = canvas.geometry.x_of(double(event.time_ns));
        const bool is_wake =
            (event.kind == Kind::wait_end || event.kind == Kind::thread_wake) && event.derived != kNoDerived;
        if (is_wake && x - last_label_x > scaled(14.0f)) {
            char position[8];
            std::snprintf(position, sizeof position, "%u", unsigned(event.derived));
            draw->AddText(ImVec2(x + 1, top - 3),
                          event.derived == 0 ? IM_COL32(160, 255, 160, 255) : IM_COL32(255, 190, 90, 255), position);
            last_label_x = x;
        }
        const ImU32 colour = mark_colour(event.kind);
        if (colour == 0) continue;
        if (event.kind == Kind::line_in || event.kind == Kind::line_out)
            draw->AddLine(ImVec2(x, bottom - 4), ImVec2(x, bottom), colour);
        else draw->AddTriangleFilled(ImVec2(x - 3, bottom), ImVec2(x + 3, bottom), ImVec2(x, bottom - 6), colour);
    }
}

// One lane per thread that has events: its name, its states as coloured spans, its marks.
LanesDrawn draw_lanes(const TraceModel& model, const Canvas& canvas) {
    static std::vector<LaneSpan> spans;
    const Geometry& geometry = canvas.geometry;
    const Sizes& size = canvas.size;
    ImDrawList* draw = canvas.draw;
    const ImGuiIO& io = ImGui::GetIO();
    LanesDrawn drawn;
    float y = canvas.origin.y + size.ruler_height + 2;
    for (const auto& lane : model.lanes()) {
        if (lane.events.empty()) continue;
        const float top = y, bottom = y + size.lane_height;
        drawn.rows.push_back({lane.index, (top + bottom) / 2});
        const std::string label = thread_name(model, lane.index);
        draw->AddText(ImVec2(canvas.origin.x + 4, top + 2), IM_COL32(220, 220, 220, 255), label.c_str());

        model.spans(lane, canvas.visible_begin, canvas.visible_end, canvas.ns_per_pixel, spans);
        for (const auto& span : spans) {
            if (span.state == LaneState::absent || span.state == LaneState::exited) continue;
            const float x0 = std::max(geometry.left, geometry.x_of(double(span.begin_ns)));
            const float x1 = std::max(x0 + 1.0f, std::min(geometry.right, geometry.x_of(double(span.end_ns))));
            draw->AddRectFilled(ImVec2(x0, top), ImVec2(x1, bottom), state_colour(span.state, span.merged > 0));
        }
        draw_lane_marks(model, lane, canvas, top, bottom);
        if (canvas.hovered && io.MousePos.y >= top && io.MousePos.y < bottom + size.lane_gap) drawn.hovered = &lane;
        y = bottom + size.lane_gap;
    }
    drawn.bottom = y;
    return drawn;
}

// The completion queue strip: packets queued (posted minus dequeued), one bar per two pixels, scaled to the most
// in view; the port and that scale in the label column, never over the bars.
void draw_queue_strip(const TraceModel& model, const RunView& view, const Canvas& canvas, float y) {
    static std::vector<std::uint32_t> depths;
    const Geometry& geometry = canvas.geometry;
    ImDrawList* draw = canvas.draw;
    const float top = y + 4, bottom = y + canvas.size.queue_strip_height;
    draw->AddText(ImVec2(canvas.origin.x + 4, top + 2), IM_COL32(220, 220, 220, 255), "queue (port)");
    std::string port_label = "#" + std::to_string(view.shown_port) + "  max ";
    depths.clear();
    std::uint32_t most = 1;
    const double known_until = double(model.horizon_ns());
    for (float x = geometry.left; x < geometry.right; x += 2) {
        const double t = geometry.time_at(x);
        if (t > known_until) break;  // no figure for the future
        const std::uint32_t depth = t < 0 ? 0 : model.depth_at(view.shown_port, static_cast<std::uint64_t>(t));
        depths.push_back(depth);
        most = std::max(most, depth);
    }
    for (std::size_t i = 0; i < depths.size(); ++i) {
        if (depths[i] == 0) continue;
        const float x = geometry.left + float(i) * 2;
        const float h = (bottom - top) * float(depths[i]) / float(most);
        draw->AddRectFilled(ImVec2(x, bottom - h), ImVec2(x + 2, bottom), IM_COL32(90, 200, 255, 200));
    }
    port_label += std::to_string(most);
    draw->AddText(ImVec2(canvas.origin.x + 4, top + 2 + ImGui::GetFontSize()), IM_COL32(170, 170, 170, 255),
                  port_label.c_str());
}

// The cursor: what the other panels show. Later events are dimmed (replay).
void draw_cursor(const TracedRun& run, const Canvas& canvas) {
    const Geometry& geometry = canvas.geometry;
    const ImVec2 origin = canvas.origin;
    const float cursor_x = geometry.x_of(double(run.cursor_ns()));
    if (cursor_x < geometry.right)
        canvas.draw->AddRectFilled(ImVec2(std::max(cursor_x, geometry.left), origin.y + canvas.size.ruler_height),
                                   ImVec2(geometry.right, origin.y + canvas.height), IM_COL32(0, 0, 0, 110));
    canvas.draw->AddLine(ImVec2(cursor_x, origin.y), ImVec2(cursor_x, origin.y + canvas.height),
                         IM_COL32(255, 230, 0, 255), 2.0f);
}

// The selected event boxed on its lane, and for a dequeue the arrow from the post it took.
void draw_selection(const TraceModel& model, const RunView& view, const Canvas& canvas, const LanesDrawn& lanes) {
    if (view.selected_event >= model.event_count()) return;
    const Geometry& geometry = canvas.geometry;
    const float lane_height = canvas.size.lane_height;
    ImDrawList* draw = canvas.draw;
    const StoredEvent& selected = model.events()[view.selected_event];
    const float x = geometry.x_of(double(selected.time_ns));
    const float row = lanes.row_of(selected.thread);
    if (row >= 0)
        draw->AddRect(ImVec2(x - 5, row - lane_height / 2 - 2), ImVec2(x + 5, row + lane_height / 2 + 2),
                      IM_COL32(255, 255, 255, 255), 2.0f, 0, 2.0f);
    if (selected.kind != Kind::packet_dequeued) return;
    const std::uint32_t post = model.post_of(view.selected_event);
    if (post == kNoEvent) return;
    const StoredEvent& posted = model.events()[post];
    const float from_row = lanes.row_of(posted.thread);
    if (from_row < 0 || row < 0) return;
    const ImVec2 from(geometry.x_of(double(posted.time_ns)), from_row);
    const ImVec2 to(x, row);
    draw->AddBezierCubic(from, ImVec2(from.x + 30, from.y), ImVec2(to.x - 30, to.y), to, IM_COL32(90, 200, 255, 255),
                         2.0f);
    draw->AddCircleFilled(to, 4.0f, IM_COL32(90, 200, 255, 255));
}

// Hovering a lane: its state at the mouse and the nearest event, in a tooltip; a click selects that event (or the
// one that began the state).
void hover_and_click_lane(const TraceModel& model, RunView& view, const Canvas& canvas, const ThreadLane& lane) {
    const ImGuiIO& io = ImGui::GetIO();
    if (io.MousePos.x <= canvas.geometry.left) return;
    const double ns_per_pixel = canvas.ns_per_pixel;
    const double t = canvas.geometry.time_at(io.MousePos.x);
    const std::uint32_t near = nearest_event(model, lane, t, ns_per_pixel * 4, ns_per_pixel);
    std::uint32_t since = kNoEvent;
    const LaneState state = model.state_at(lane, static_cast<std::uint64_t>(std::max(0.0, t)), &since);
    ImGui::BeginTooltip();
    ImGui::Text("%s: %s", thread_name(model, lane.index).c_str(), to_string(state));
    if (since != kNoEvent)
        ImGui::TextDisabled("for %s so far, since %s",
                            format_duration(t - double(model.events()[since].time_ns)).c_str(),
                            std::string(trace::to_string(model.events()[since].kind)).c_str());
    if (near != kNoEvent) {
        const StoredEvent& event = model.events()[near];
        ImGui::Separator();
        ImGui::Text("%s %s", std::string(trace::to_string(event.kind)).c_str(),
                    std::string(trace::detail_name(to_wire(event))).c_str());
        ImGui::TextDisabled("connection %u  arg0 %lld  arg1 %u  (click for details)", event.connection,
                            static_cast<long long>(event.arg0), event.arg1);
    }
    ImGui::EndTooltip();
    if (canvas.clicked) {
        view.selected_event = near != kNoEvent ? near : since;
        view.scroll_source_to_selection = true;
    }
}

}  // namespace

void draw_timeline(TracedRun& run, RunView& view) {
    const TraceModel& model = run.trace_model();
    update_range(run, view);
    draw_toolbar(run, view);
    Canvas canvas;
    if (!lay_out_canvas(model, view, canvas)) return;
    if (model.event_count() == 0) {
        canvas.draw->AddText(ImVec2(canvas.origin.x + 8, canvas.origin.y + 8), IM_COL32(200, 200, 200, 255),
                             run.status_text().c_str());
        return;
    }
    zoom_and_pan(run, view, canvas);

    draw_ruler(model, run, canvas);
    canvas.draw->PushClipRect(canvas.origin, ImVec2(canvas.origin.x + canvas.width, canvas.origin.y + canvas.height),
                              true);
    const LanesDrawn lanes = draw_lanes(model, canvas);
    if (canvas.has_port) draw_queue_strip(model, view, canvas, lanes.bottom);
    draw_cursor(run, canvas);
    draw_selection(model, view, canvas, lanes);
    canvas.draw->PopClipRect();
    if (lanes.hovered) hover_and_click_lane(model, view, canvas, *lanes.hovered);
}

}  // namespace socklab::viz::ui
