// cli/gnuplot.cpp — see gnuplot.h.
#include "cli/gnuplot.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "cli/measure.h"
#include "cli/shell_pipe.h"

namespace socklab::cli {

namespace {

// A string in a gnuplot command, single-quoted: gnuplot reads backslashes there as they are (a Windows path
// stays one) and a quote is written twice.
std::string gnuplot_text(const std::string& text) {
    std::string quoted;
    for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    return "'" + quoted + "'";
}

// A string in gnuplot's inline data, which knows only double quotes.
std::string gnuplot_data_text(const std::string& text) {
    std::string quoted;
    for (char c : text) quoted += c == '"' ? std::string("'") : std::string(1, c);
    return "\"" + quoted + "\"";
}

// The settings before the data: output, title, axis label, histogram style, log scale, the target line.
void write_settings(std::ostream& script, const Section& section, const Plot& plot, const std::string& png_path) {
    const std::string runtime = section.result.runtime;
    const std::string title = section.heading + " — " + measured_where(runtime);
    script << "set terminal pngcairo size 1100,520 font 'DejaVu Sans,11' noenhanced\n"
           << "set output " << gnuplot_text(png_path) << "\n"
           << "set title " << gnuplot_text(title) << " font 'DejaVu Sans,13'\n"
           << "set ylabel " << gnuplot_text(plot.y_label) << "\n"
           << "set style data histograms\nset style histogram "
           << (plot.range_column.empty() ? "clustered gap 1" : "errorbars gap 1 lw 1.5") << "\n"
           << "set style fill solid 0.85 border -1\nset boxwidth 0.9\nset grid ytics\nset key below\n"
           << "set xtics nomirror rotate by -25\nset ytics nomirror\nset border 3\n"
           << "set xzeroaxis lt -1\n";
    if (plot.log_scale) script << "set logscale y\nset yrange [0.05:*]\n";
    if (plot.target > 0)
        script << "set arrow from graph 0, first " << plot.target << " to graph 1, first " << plot.target
               << " nohead front dt 2 lw 2 lc rgb '#c0392b'\nset label " << gnuplot_text("target")
               << " at graph 0.99, first " << plot.target << " right offset 0,0.7 tc rgb '#c0392b'\n";
}

// A linear axis runs from zero (or the lowest bar, if below) to above the highest bar and the target.
void write_y_range(std::ostream& script, const Plot& plot, const std::vector<PlotBars>& bars) {
    if (plot.log_scale) return;
    double low = 0, high = plot.target;
    for (const PlotBars& model : bars)
        for (double value : model.values) low = std::min(low, value), high = std::max(high, value);
    script << "set yrange [" << low * 1.15 << ":" << (high > 0 ? high * 1.15 : 1) << "]\n";
}

void write_data(std::ostream& script, const std::vector<PlotBars>& bars) {
    script << "$data << EOD\n";
    for (const PlotBars& model : bars) {
        script << gnuplot_data_text(model.model);
        for (double value : model.values) script << " " << value;
        script << "\n";
    }
    script << "EOD\n";
}

// One series a plotted column, titled with the column's label; with a range column, its error bars.
void write_plot_command(std::ostream& script, const Table& table, const Plot& plot) {
    const char* colours[] = {"#2e86c1", "#e67e22", "#27ae60", "#8e44ad"};
    script << "plot ";
    for (std::size_t i = 0; i < plot.columns.size(); ++i) {
        const Table::Column& column = table.columns[static_cast<std::size_t>(table.column(plot.columns[i]))];
        if (i) script << ", ";
        script << "$data using " << (i + 2);
        if (!plot.range_column.empty()) script << ":" << (plot.columns.size() + 2) << ":" << (plot.columns.size() + 3);
        script << ":xtic(1) title " << gnuplot_text(column.label) << " lc rgb '" << colours[i % 4] << "'";
    }
    script << "\n";
}

}  // namespace

std::string gnuplot_version() {
    FILE* output = open_pipe("gnuplot --version 2>&1", "r");
    if (!output) return "";
    const std::string text = read_all(output);
    if (close_pipe(output) != 0 || text.rfind("gnuplot", 0) != 0) return "";
    return text.substr(0, text.find_first_of("\r\n"));
}

std::vector<PlotBars> plot_bars(const Table& table, const Plot& plot) {
    std::vector<PlotBars> bars;
    for (std::size_t row = 0; row < table.rows.size(); ++row) {
        if (table.rows[row][1].rfind("not measured", 0) == 0) continue;
        PlotBars model{table.rows[row][0], {}};
        for (const std::string& key : plot.columns) model.values.push_back(table.number(row, key));
        if (!plot.range_column.empty()) {  // "low..high"
            const std::string& range = table.rows[row][static_cast<std::size_t>(table.column(plot.range_column))];
            auto dots = range.find("..");
            model.values.push_back(std::atof(range.c_str()));
            model.values.push_back(dots == std::string::npos ? 0.0 : std::atof(range.c_str() + dots + 2));
        }
        bars.push_back(model);
    }
    return bars;
}

std::string plot_script(const Section& section, const Plot& plot, const std::string& png_path) {
    const Table& table = section.result.table;
    const std::vector<PlotBars> bars = plot_bars(table, plot);
    if (bars.empty()) return "";
    std::ostringstream script;
    write_settings(script, section, plot, png_path);
    write_y_range(script, plot, bars);
    write_data(script, bars);
    write_plot_command(script, table, plot);
    return script.str();
}

bool draw_plot(const Section& section, const Plot& plot, const std::string& png_path, std::string& error) {
    const std::string script = plot_script(section, plot, png_path);
    if (script.empty()) {
        error = "no model was measured";
        return false;
    }
    FILE* gnuplot = open_pipe("gnuplot 2>&1", "w");
    if (!gnuplot) {
        error = "cannot run gnuplot";
        return false;
    }
    std::fputs(script.c_str(), gnuplot);
    const int status = close_pipe(gnuplot);
    if (status != 0 || !std::filesystem::exists(png_path)) {
        error = "gnuplot failed (status " + std::to_string(status) + ")";
        return false;
    }
    return true;
}

}  // namespace socklab::cli
