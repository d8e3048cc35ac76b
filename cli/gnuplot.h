// cli/gnuplot.h — the report's plots: gnuplot draws a clustered bar chart of a section's columns, from exactly
// the cells of its table. The script is made here (plot_script, pure, so tests read it); draw_plot runs it.
#pragma once

#include <string>
#include <vector>

#include "cli/report_plan.h"

namespace socklab::cli {

// Whether gnuplot can be run here: its version line ("gnuplot 5.4 patchlevel 4"), or "" when it cannot. It is
// often absent on Windows; the report is then written without plots.
std::string gnuplot_version();

// One model's bars in a plot: each plotted column's value, then the low and high of the range column when the
// plot has one (an error bar).
struct PlotBars {
    std::string model;
    std::vector<double> values;
};
// The bars of every measured model, in the table's order; a row that says "not measured" has none.
std::vector<PlotBars> plot_bars(const Table& table, const Plot& plot);

// The gnuplot script that draws the section's plot into png_path: title (which says where it was measured),
// axis, target line, y range, the bars as inline data, one series a column. "" when no model was measured.
std::string plot_script(const Section& section, const Plot& plot, const std::string& png_path);

// Runs gnuplot on the script. False with the reason when there is nothing to draw or gnuplot failed.
bool draw_plot(const Section& section, const Plot& plot, const std::string& png_path, std::string& error);

}  // namespace socklab::cli
