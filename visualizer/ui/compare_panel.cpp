// visualizer/ui/compare_panel.cpp — the compare view: every live run's replies per second and round-trip
// latency over time, overlaid on two plots, with the current figures as a table above them.
//
// The figures are the built-in clients' (visualizer/model/client_pool.h, load_series.h): the same clients,
// the same load and the same clock for every model, so the lines can be compared with each other. Each
// run column keeps its own lanes and counters above this strip.
//
// Sections:
//   1. Axes: tick steps a reader can add up (1, 2, 5 x 10^k) and their labels
//   2. One plot: frame, grid, ticks, lines, the hover read-out (ImDrawList; Dear ImGui 1.86 has no plots)
//   3. The panel, part by part: the plots' options, the figures table, the notes under it, the two plots and
//      the read-out of the moment under the mouse
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "visualizer/model/compare_plan.h"
#include "visualizer/model/load_series.h"
#include "visualizer/model/runtime_note.h"
#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

namespace {

// ---- 1. Axes ------------------------------------------------------------------------------------------------

struct Axis {
    double min = 0, max = 1, step = 1;
};

// The smallest step of 1, 2 or 5 times a power of ten that cuts `range` into at most `most` pieces.
double nice_step(double range, int most) {
    if (range <= 0) return 1;
    const double rough = range / most;
    const double power = std::pow(10.0, std::floor(std::log10(rough)));
    for (double factor : {1.0, 2.0, 5.0, 10.0})
        if (factor * power >= rough) return factor * power;
    return 10 * power;
}

// From zero (or `min`) to the first tick at or above `max`, so the top line is labelled and nothing is clipped.
Axis nice_axis(double min, double max, int most_ticks) {
    Axis axis;
    axis.min = min;
    axis.step = nice_step(std::max(max - min, 1e-9), most_ticks);
    axis.max = min + std::ceil((max - min) / axis.step - 1e-9) * axis.step;
    if (axis.max <= min) axis.max = min + axis.step;
    return axis;
}

// "12k", "2.5k", "800", "0.25": short, so labels stay large without crowding.
std::string short_number(double value) {
    char text[32];
    const double magnitude = std::fabs(value);
    if (magnitude >= 1e6) std::snprintf(text, sizeof text, "%gM", value / 1e6);
    else if (magnitude >= 1e3) std::snprintf(text, sizeof text, "%gk", value / 1e3);
    else std::snprintf(text, sizeof text, "%g", value);
    return text;
}

// ---- 2. One plot --------------------------------------------------------------------------------------------

struct Line {
    std::vector<ImVec2> points;  // in data units, x ascending; NaN y breaks the line (a window with no reply)
    ImU32 colour;
    float thickness;
    bool dotted;  // drawn as dots joined by a thin line: the p99 lines, told apart from p50 without colour
};

struct PlotText {
    const char* title;    // above the plot, left
    const char* x_label;  // under the x axis, right
};

void draw_line(ImDrawList* draw, const Line& line, const Axis& x, const Axis& y, ImVec2 origin, ImVec2 size) {
    auto to_screen = [&](ImVec2 p) {
        return ImVec2(origin.x + float((p.x - x.min) / (x.max - x.min)) * size.x,
                      origin.y + size.y - float((std::min(double(p.y), y.max) - y.min) / (y.max - y.min)) * size.y);
    };
    std::vector<ImVec2> run;  // consecutive points with a value, drawn as one polyline
    auto flush = [&] {
        if (run.size() >= 2)
            draw->AddPolyline(run.data(), static_cast<int>(run.size()), line.colour, ImDrawFlags_None,
                              line.dotted ? 1.5f : line.thickness);
        if (line.dotted || run.size() == 1)
            for (const ImVec2& p : run)
                draw->AddCircleFilled(p, line.dotted ? line.thickness : line.thickness * 0.8f, line.colour, 8);
        run.clear();
    };
    for (const ImVec2& point : line.points) {
        if (std::isnan(point.y) || point.x < x.min || point.x > x.max) {
            flush();
            continue;
        }
        run.push_back(to_screen(point));
    }
    flush();
}

// Draws axes, grid, tick labels and lines into a box of `size` at the cursor; returns the x (data units)
// under the mouse, or NaN when the mouse is elsewhere.
double draw_plot(const PlotText& text, ImVec2 size, const Axis& x, const Axis& y, const std::vector<Line>& lines,
                 ImFont* font) {
    ImDrawList* draw = ImGui::GetWindowDrawList();
    const ImVec2 corner = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton(text.title, size);
    const bool hovered = ImGui::IsItemHovered();
    if (font) ImGui::PushFont(font);
    const float line_height = ImGui::GetTextLineHeight();
    // Margins that fit the labels: the widest y label on the left, one line of x labels and the title.
    float label_width = 0;
    for (double v = y.min; v <= y.max + y.step * 0.5; v += y.step)
        label_width = std::max(label_width, ImGui::CalcTextSize(short_number(v).c_str()).x);
    const ImVec2 origin(corner.x + label_width + 12, corner.y + line_height + 8);
    const ImVec2 area(size.x - (origin.x - corner.x) - 12, size.y - (origin.y - corner.y) - 2 * line_height - 10);
    const ImU32 text_colour = IM_COL32(225, 225, 225, 255), grid_colour = IM_COL32(255, 255, 255, 28),
                axis_colour = IM_COL32(160, 160, 160, 255);

    // The title over the plot, never past its right edge (clipped there if the plot is narrower than it).
    draw->PushClipRect(corner, ImVec2(corner.x + size.x, corner.y + line_height + 2), true);
    draw->AddText(corner, IM_COL32(245, 215, 110, 255), text.title);
    draw->PopClipRect();
    if (area.x < 40 || area.y < 30) {
        if (font) ImGui::PopFont();
        return NAN;
    }
    draw->AddRectFilled(origin, ImVec2(origin.x + area.x, origin.y + area.y), IM_COL32(0, 0, 0, 70));
    // Horizontal grid lines with their values.
    for (double v = y.min; v <= y.max + y.step * 0.5; v += y.step) {
        const float py = origin.y + area.y - float((v - y.min) / (y.max - y.min)) * area.y;
        draw->AddLine(ImVec2(origin.x, py), ImVec2(origin.x + area.x, py), grid_colour);
        const std::string label = short_number(v);
        const float width = ImGui::CalcTextSize(label.c_str()).x;
        draw->AddText(ImVec2(origin.x - 8 - width, py - line_height * 0.5f), text_colour, label.c_str());
    }
    // Vertical grid lines with their times, skipping a label that would run into the previous one.
    float last_label_end = -1e9f;
    for (double v = std::ceil(x.min / x.step) * x.step; v <= x.max + x.step * 1e-6; v += x.step) {
        const float px = origin.x + float((v - x.min) / (x.max - x.min)) * area.x;
        draw->AddLine(ImVec2(px, origin.y), ImVec2(px, origin.y + area.y), grid_colour);
        draw->AddLine(ImVec2(px, origin.y + area.y), ImVec2(px, origin.y + area.y + 5), axis_colour);
        const std::string label = short_number(v);
        const float width = ImGui::CalcTextSize(label.c_str()).x;
        if (px - width * 0.5f < last_label_end + 8) continue;
        draw->AddText(ImVec2(px - width * 0.5f, origin.y + area.y + 6), text_colour, label.c_str());
        last_label_end = px + width * 0.5f;
    }
    // The axis's name under its labels, or its unit alone where the plot is too narrow for the name.
    const char* x_label = ImGui::CalcTextSize(text.x_label).x <= area.x ? text.x_label : "s";
    const float x_label_width = ImGui::CalcTextSize(x_label).x;
    draw->AddText(ImVec2(origin.x + area.x - x_label_width, origin.y + area.y + 6 + line_height), axis_colour, x_label);
    draw->AddLine(ImVec2(origin.x, origin.y + area.y), ImVec2(origin.x + area.x, origin.y + area.y), axis_colour, 1.5f);
    draw->AddLine(origin, ImVec2(origin.x, origin.y + area.y), axis_colour, 1.5f);

    draw->PushClipRect(origin, ImVec2(origin.x + area.x + 4, origin.y + area.y), true);
    for (const Line& line : lines) draw_line(draw, line, x, y, origin, area);
    draw->PopClipRect();
    if (font) ImGui::PopFont();

    const ImVec2 mouse = ImGui::GetIO().MousePos;
    if (!hovered || mouse.x < origin.x || mouse.x > origin.x + area.x) return NAN;
    draw->AddLine(ImVec2(mouse.x, origin.y), ImVec2(mouse.x, origin.y + area.y), IM_COL32(255, 255, 255, 90));
    return x.min + double(mouse.x - origin.x) / area.x * (x.max - x.min);
}

// ---- 3. The panel -------------------------------------------------------------------------------------------

std::string io_model_label(const TracedRun& run) {
    const std::string io_model = run.trace_model().io_model();
    return io_model.empty() ? run.title() : io_model;
}

// "Wine 8.0" as the server reported it; what a student must not mistake for Windows is said beside it.
std::string runtime_label(const TracedRun& run) {
    const std::string runtime = run.trace_model().runtime();
    if (runtime.empty()) return run.trace_model().event_count() ? "runtime not reported" : "starting...";
    return runtime;
}

std::string milliseconds(std::int64_t ns) {
    char text[32];
    const double ms = double(ns) / 1e6;
    std::snprintf(text, sizeof text, ms < 10 ? "%.2f ms" : ms < 100 ? "%.1f ms" : "%.0f ms", ms);
    return text;
}

// What the reader chose above the plots; kept between frames.
struct PlotChoice {
    int window_seconds = 60;
    bool show_p99 = true;
};

void draw_plot_choice(PlotChoice& choice) {
    ImGui::SameLine(0, 30);
    ImGui::SetNextItemWidth(160);
    ImGui::SliderInt("seconds shown", &choice.window_seconds, 10, 600);
    ImGui::SameLine();
    ImGui::Checkbox("p99", &choice.show_p99);
    help_marker(
        "The plots follow the newest sample and show this many seconds (up to the ten minutes kept). "
        "Untick p99 to scale the latency plot to the p50 lines.");
}

// The run's colour square, as beside its column's title.
void draw_colour_square(std::size_t index) {
    const ImVec2 at = ImGui::GetCursorScreenPos();
    const float square = ImGui::GetTextLineHeight() * 0.8f;
    ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(at.x, at.y + square * 0.15f),
                                              ImVec2(at.x + square, at.y + square * 1.15f), run_colour(index), 2);
    ImGui::Dummy(ImVec2(square + 4, 0));
    ImGui::SameLine(0, 0);
}

// What the figures table found, for the notes under it.
struct TableFigures {
    bool any_wine = false;
    bool any_native = false;       // a Linux model's server, run natively ("Linux <release>")
    std::vector<CompareRow> rows;  // the runs with a mean so far, for the spread notes
};

// One run's row: model (and runtime), clients, replies/s now and on average with its spread, p50 and p99 now.
void draw_figures_row(TracedRun& run, std::size_t index, bool runtime_column, TableFigures& figures) {
    const ClientPool& clients = run.clients();
    const LoadSeries& series = clients.series();
    figures.any_wine = figures.any_wine || run.trace_model().runtime_is_wine();
    figures.any_native =
        figures.any_native || classify_runtime(run.trace_model().runtime()) == RuntimeKind::linux_native;
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    draw_colour_square(index);
    ImGui::TextUnformatted(io_model_label(run).c_str());
    if (runtime_column) {
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(runtime_label(run).c_str());
    }
    ImGui::TableNextColumn();
    ImGui::Text("%zu", clients.figures().connected);
    if (series.samples().empty()) {
        ImGui::TableNextColumn();
        ImGui::TextDisabled(clients.saturating() || clients.pace() > 0 ? "waiting" : "no load");
        return;
    }
    const LoadSample& last = series.samples().back();
    const LoadSummary summary = summarize(series);
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(format_count(static_cast<std::uint64_t>(last.replies_per_second)).c_str());
    ImGui::TableNextColumn();
    // The mean with the run's spread beside it, so a difference inside the noise reads as one.
    if (summary.windows) {
        ImGui::TextUnformatted(format_count(static_cast<std::uint64_t>(summary.mean_replies_per_second + 0.5)).c_str());
        ImGui::SameLine();
        ImGui::TextDisabled("(%s-%s)",
                            format_count(static_cast<std::uint64_t>(summary.low_replies_per_second + 0.5)).c_str(),
                            format_count(static_cast<std::uint64_t>(summary.high_replies_per_second + 0.5)).c_str());
        figures.rows.push_back({io_model_label(run), {}, summary});
    } else {
        ImGui::TextDisabled("-");
    }
    ImGui::TableNextColumn();
    if (last.replies) ImGui::TextUnformatted(milliseconds(last.latency_p50_ns).c_str());
    else ImGui::TextDisabled("-");
    ImGui::TableNextColumn();
    if (last.replies) ImGui::TextUnformatted(milliseconds(last.latency_p99_ns).c_str());
    else ImGui::TextDisabled("-");
}

// The figures of every shown run, a row each.
TableFigures draw_figures_table(AppState& app, const std::vector<std::size_t>& shown) {
    TableFigures figures;
    // One runtime for every server (the usual case: all run here) is said once above the table, not in a column
    // of its own, so the latency columns keep their room on a projector's 1280 pixels at a large text size.
    std::string common_runtime = shown.empty() ? std::string() : runtime_label(*app.runs[shown.front()]);
    for (std::size_t i : shown)
        if (runtime_label(*app.runs[i]) != common_runtime) common_runtime.clear();
    if (!common_runtime.empty()) ImGui::Text("all measured under %s", common_runtime.c_str());
    const int columns = common_runtime.empty() ? 7 : 6;
    // The large text only where the table fits in it: the width it needs grows with the font.
    // A row as wide as they come, measured in this font and scaled to the large one.
    const char* const widest_row =
        columns == 7 ? "[] iocp-acceptex  Wine 8.0  16  99,999  99,999 (99,999-99,999)  99.99 ms  99.99 ms"
                     : "[] iocp-acceptex  16  99,999  99,999 (99,999-99,999)  99.99 ms  99.99 ms";
    const float needed = ImGui::CalcTextSize(widest_row).x + float(columns) * 2 * ImGui::GetStyle().CellPadding.x;
    const bool large =
        app.large_font && needed * app.large_font->FontSize / ImGui::GetFontSize() <= ImGui::GetContentRegionAvail().x;
    if (large) ImGui::PushFont(app.large_font);
    const ImGuiTableFlags table_flags =
        ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV;
    if (ImGui::BeginTable("figures", columns, table_flags)) {
        ImGui::TableSetupColumn("model");
        if (columns == 7) ImGui::TableSetupColumn("runtime");
        ImGui::TableSetupColumn("clients");
        ImGui::TableSetupColumn("now /s");
        ImGui::TableSetupColumn("mean /s (spread)");
        ImGui::TableSetupColumn("p50 now");
        ImGui::TableSetupColumn("p99 now");
        ImGui::TableHeadersRow();
        for (std::size_t i : shown) draw_figures_row(*app.runs[i], i, columns == 7, figures);
        ImGui::EndTable();
    }
    if (large) ImGui::PopFont();
    return figures;
}

// Under the table: Wine named, whether the models are inside each other's spread, what the columns mean.
void draw_table_notes(const TableFigures& figures) {
    if (figures.any_wine) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.75f, 0.4f, 1.0f));
        if (figures.any_native)
            ImGui::TextWrapped(
                "Measured on this machine, all servers at once: the Windows models under Wine, the Linux models "
                "natively (the runtime column). Compare models of one runtime with each other; across them the gap "
                "is mostly the runtime's, and none of these are Windows figures.");
        else
            ImGui::TextWrapped(
                "Measured under Wine on this machine, all servers at once: compare the models with each "
                "other; these are not Windows figures.");
        ImGui::PopStyleColor();
    }
    for (const auto& note : spread_notes(figures.rows)) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.85f, 0.3f, 1.0f));
        ImGui::TextWrapped("%s", note.c_str());
        ImGui::PopStyleColor();
    }
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped(
        "'now': the newest 250 ms window; 'mean' (spread: p10-p90 of the windows): since the first reply.");
    ImGui::PopStyleColor();
}

// Both plots' lines and axes: the visible time range, then each run's samples in it.
struct PlotLines {
    std::vector<Line> throughput, latency;
    Axis time_axis, replies_axis, latency_axis;
};

PlotLines collect_plot_lines(const AppState& app, const std::vector<std::size_t>& shown, const PlotChoice& choice) {
    PlotLines plots;
    double newest = 0;
    for (std::size_t i : shown) {
        const auto& samples = app.runs[i]->clients().series().samples();
        if (!samples.empty()) newest = std::max(newest, samples.back().end_seconds);
    }
    const double x_max = std::max(newest, 10.0), x_min = std::max(0.0, x_max - choice.window_seconds);
    double most_replies = 0, most_latency_ms = 0;
    for (std::size_t i : shown) {
        const auto& samples = app.runs[i]->clients().series().samples();
        Line replies{{}, run_colour(i), 3.0f, false}, p50{{}, run_colour(i), 3.0f, false},
            p99{{}, run_colour(i), 2.5f, true};
        for (const LoadSample& sample : samples) {
            if (sample.end_seconds < x_min) continue;
            const auto x = static_cast<float>(sample.end_seconds);
            replies.points.emplace_back(x, static_cast<float>(sample.replies_per_second));
            most_replies = std::max(most_replies, sample.replies_per_second);
            // A window without replies has no latency: the line breaks there rather than dropping to zero.
            const float p50_ms = sample.replies ? float(sample.latency_p50_ns) / 1e6f : NAN;
            const float p99_ms = sample.replies ? float(sample.latency_p99_ns) / 1e6f : NAN;
            p50.points.emplace_back(x, p50_ms);
            p99.points.emplace_back(x, p99_ms);
            if (sample.replies) most_latency_ms = std::max(most_latency_ms, double(choice.show_p99 ? p99_ms : p50_ms));
        }
        plots.throughput.push_back(std::move(replies));
        plots.latency.push_back(std::move(p50));
        if (choice.show_p99) plots.latency.push_back(std::move(p99));
    }
    plots.time_axis = {x_min, x_max, nice_step(x_max - x_min, 8)};
    plots.replies_axis = nice_axis(0, std::max(most_replies, 10.0), 5);
    plots.latency_axis = nice_axis(0, std::max(most_latency_ms, 0.1), 5);
    return plots;
}

// The two plots side by side. The time (seconds) under the mouse on either, or NaN.
double draw_plots(const AppState& app, const PlotLines& plots, const PlotChoice& choice) {
    const float spacing = ImGui::GetStyle().ItemSpacing.x;
    const ImVec2 plot_size((ImGui::GetContentRegionAvail().x - spacing) / 2,
                           std::max(120.0f, ImGui::GetContentRegionAvail().y));
    // The large text where the plots have room for it (about ten lines high); else the labels would crowd out
    // the lines they label.
    ImFont* plot_font = app.large_font && plot_size.y >= 10 * app.large_font->FontSize ? app.large_font : nullptr;
    const double hover_a = draw_plot({"replies per second", "seconds since the clients started"}, plot_size,
                                     plots.time_axis, plots.replies_axis, plots.throughput, plot_font);
    ImGui::SameLine();
    const double hover_b = draw_plot({choice.show_p99 ? "round trip, ms: p50 line, p99 dots" : "round trip, ms: p50",
                                      "seconds since the clients started"},
                                     plot_size, plots.time_axis, plots.latency_axis, plots.latency, plot_font);
    return std::isnan(hover_a) ? hover_b : hover_a;
}

// Hovering either plot reads every run's window at that moment.
void show_window_at(const AppState& app, const std::vector<std::size_t>& shown, double hover) {
    ImGui::BeginTooltip();
    for (std::size_t i : shown) {
        const auto& samples = app.runs[i]->clients().series().samples();
        const auto found = std::lower_bound(samples.begin(), samples.end(), hover,
                                            [](const LoadSample& s, double t) { return s.end_seconds < t; });
        if (found == samples.end()) continue;
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(run_colour(i)), "%s at %.2f s: %s replies/s",
                           io_model_label(*app.runs[i]).c_str(), found->end_seconds,
                           format_count(static_cast<std::uint64_t>(found->replies_per_second)).c_str());
        if (found->replies)
            ImGui::Text("    p50 %s   p99 %s   max %s", milliseconds(found->latency_p50_ns).c_str(),
                        milliseconds(found->latency_p99_ns).c_str(), milliseconds(found->latency_max_ns).c_str());
    }
    ImGui::EndTooltip();
}

}  // namespace

void draw_compare(AppState& app) {
    section_heading("Compare: the same load on every server",
                    "Each live session's built-in clients measure every reply: replies per second and the round "
                    "trip from a line being sent to its reply arriving, in 250 ms windows of wall time (p50 and "
                    "p99 are exact, nearest rank). With --saturate every client keeps one line in flight, so "
                    "each server gets the same number of requests outstanding and throughput is what differs. "
                    "All servers share this machine's CPUs while they run, so compare them with each other. "
                    "Under Wine every overlapped call is a round trip to wineserver: these are Wine figures, "
                    "never Windows ones.");

    // The live runs, each with its colour (the same square marks its column's title).
    std::vector<std::size_t> shown;
    for (std::size_t i = 0; i < app.runs.size(); ++i)
        if (app.runs[i]->live()) shown.push_back(i);
    if (shown.empty()) {
        ImGui::TextDisabled("No live session: start two or more models (socklab-viz --compare iocp,select).");
        return;
    }
    static PlotChoice choice;
    draw_plot_choice(choice);
    draw_table_notes(draw_figures_table(app, shown));
    const double hover = draw_plots(app, collect_plot_lines(app, shown, choice), choice);
    if (!std::isnan(hover)) show_window_at(app, shown, hover);
}

}  // namespace socklab::viz::ui
