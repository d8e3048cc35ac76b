// cli/report_page.cpp — see report_page.h.
#include "cli/report_page.h"

#include <algorithm>
#include <sstream>

#include "cli/measure.h"
#include "cli/table.h"
#include "common/catalog/models.h"

namespace socklab::cli {

std::string headline(const std::vector<Section>& sections, const std::vector<Benchmark>& benchmarks,
                     const std::string& machinery_where) {
    std::ostringstream text;
    // Where a row's model runs from here ("under Wine", "natively"): a report over both platforms ranks each group
    // apart, because a native figure and a Wine one are not of one scale (and a cost count not of one unit). The
    // yardstick runs as iocp does.
    auto runs = [](const std::string& model) {
        const catalog::KnownModel* known = catalog::find_model(model);
        return std::string(
            catalog::how_it_runs_words(catalog::how_it_runs(known ? *known : *catalog::find_model("iocp"))));
    };
    // One line per section: its measured models ranked by one column, "name value unit", best first; with rows of
    // both runtimes, each runtime's rows ranked apart ("under Wine: ...; natively: ...").
    auto line = [&](const std::string& intro, const Table& table, const std::string& key, int decimals,
                    const std::string& unit, const std::string& ending, bool ratio_to_slowest = false) {
        std::vector<std::string> groups;
        std::vector<std::vector<std::pair<double, std::string>>> ranked;
        for (std::size_t row = 0; row < table.rows.size(); ++row) {
            if (table.rows[row][1].rfind("not measured", 0) == 0) continue;
            const std::string group = runs(table.rows[row][0]);
            auto at = std::find(groups.begin(), groups.end(), group);
            if (at == groups.end()) {
                groups.push_back(group);
                ranked.emplace_back();
                at = groups.end() - 1;
            }
            ranked[static_cast<std::size_t>(at - groups.begin())].push_back(
                {table.number(row, key), table.rows[row][0]});
        }
        if (groups.empty()) return;
        text << "- " << intro << ": ";
        for (std::size_t g = 0; g < groups.size(); ++g) {
            std::vector<std::pair<double, std::string>>& rows = ranked[g];
            std::sort(rows.rbegin(), rows.rend());
            const double slowest = rows.back().first;
            text << (g ? "; " : "") << (groups.size() > 1 ? groups[g] + ": " : "");
            for (std::size_t i = 0; i < rows.size(); ++i) {
                text << (i ? ", " : "") << rows[i].second << " " << fixed(rows[i].first, decimals) << unit;
                if (ratio_to_slowest) text << " (" << fixed(slowest > 0 ? rows[i].first / slowest : 0, 1) << "×)";
            }
        }
        text << ending;
        if (groups.size() > 1)
            text << " Each runtime is ranked apart" << (ratio_to_slowest ? ", × against its own slowest." : ".");
        text << "\n";
    };
    for (const Section& section : sections) {
        const Table& table = section.result.table;
        const std::string clients = std::to_string(section.settings.load.clients) + " clients";
        if (section.name == "echo")
            line("**Echo throughput** (" + clients + ")", table, "round_trips_per_second", 0, " rt/s",
                 " — × is each model's throughput over the slowest's.", true);
        else if (section.name == "slow-handler")
            line("**Slow handlers**, echo p99 while one line in ten blocks 50 ms", table, "p99_ms", 1, " ms", ".");
        else if (section.name == "broadcast")
            line("**Broadcast** deliveries/s (" + clients + ")", table, "deliveries_per_second", 0, "", ".");
        else if (section.name == "capacity")
            line("**Capacity** (up to " + std::to_string(section.settings.capacity_cap) + " clients)", table,
                 "clients_held", 0, "", ".");
        else if (section.name == "tracing-overhead")
            line("**Tracing cost** (recording on vs off, interleaved)", table, "cost_percent", 1, "%",
                 " (target: 3% at most).");
        else if (section.name == "cost" && table.column("requests_per_round_trip") >= 0 &&
                 table.columns[1].label != "calls/rt") {
            // The column's label says what was counted (cli/cost.h): wineserver requests, system calls, or both.
            const std::string& counted = table.columns[1].label;
            const std::string what = counted == "syscalls/rt (count)" ? "**System calls per echo**"
                                     : counted == "calls/rt (count)"  ? "**Calls beneath the server per echo** "
                                                                        "(wineserver requests under Wine, system "
                                                                        "calls natively)"
                                                                      : "**Wineserver requests per echo**";
            line(what + " (1 connection; a count, not a timing)", table, "requests_per_round_trip", 1, "",
                 " (most first).");
        }
    }
    const double on = figure_after(benchmarks, "recording on (file sink):"),
                 off = figure_after(benchmarks, "recording off:"),
                 intake = figure_after(benchmarks, "intake (decode + model)");
    if (on >= 0 && off >= 0 && intake >= 0)
        text << "- **Our machinery** (" << machinery_where << "): a trace event costs " << fixed(on, 1)
             << " ns recording and " << fixed(off, 2) << " ns when nobody records; the visualizer takes in "
             << fixed(intake, 1) << " million events/s.\n";
    return text.str();
}

namespace {

// The runtime the report names: the last section's that had one, or "unknown runtime".
std::string report_runtime(const std::vector<Section>& sections) {
    std::string runtime = "unknown runtime";
    for (const Section& section : sections)
        if (section.result.runtime != "unknown runtime") runtime = section.result.runtime;
    return runtime;
}

// The title, how the report was made (command, date, duration, runtime, machine, load, plots) and, under Wine,
// how to read it.
void write_introduction(std::ostream& text, const std::string& runtime, const ReportFacts& facts) {
    const bool wine = is_wine(runtime);
    text << "# socklab benchmark report — " << measured_where(runtime) << "\n\n"
         << "Produced by `" << facts.command << "` on " << facts.started << " in "
         << (facts.seconds < 120 ? fixed(facts.seconds, 0) + " seconds" : fixed(facts.seconds / 60, 0) + " minutes")
         << ". Every number below comes from that run; run the command again to replace them all.\n\n"
         << "- **Runtime:** " << runtime << (wine ? " (the Windows servers, cross-compiled with MinGW-w64)" : "")
         << "\n- **Machine:** " << facts.machine << "\n"
         << "- **Load:** `socklab`'s own load generator, " << facts.machinery_where
         << ", on the same machine over loopback: each client keeps one line in flight (closed loop) and checks "
            "every byte that comes back.\n"
         << "- **Plots:** "
         << (facts.gnuplot.empty() ? "none: gnuplot was not found on this machine (install it and run the command "
                                     "again to draw them); the tables hold every figure"
                                   : "drawn by " + facts.gnuplot + " from the tables' own cells")
         << "\n\n";
    if (wine)
        text << "**Read these as a comparison of the models with each other under Wine, not as Windows figures.** "
                "Under Wine every overlapped WSARecv/WSASend and every completion-port wait is a round trip to "
                "wineserver, so absolute throughput is far below what Windows does, and the overlapped models pay "
                "most. Wine wakes completion-port waiters first-in first-out and ignores the concurrency value; "
                "Windows wakes the most recent waiter and keeps running threads to the concurrency value, which "
                "helps the IOCP models further. Thread stacks and memory are the Wine process's own.\n\n";
}

void write_method(std::ostream& text, unsigned processors) {
    text << "## Method\n\n"
            "Each model's server is started fresh for each scenario (`socklab-server <model> --port 0`), watched "
            "through its own `/stats` connection four times a second (threads, connections, working set, CPU time), "
            "and stopped gracefully; a server that does not stop cleanly, or leaves a socket or per-I/O object "
            "behind, fails its measurement. The models run one after another, never at once, so they do not compete "
            "for the "
         << processors
         << " processors — except in the tracing-overhead scenario, where a recording and a non-recording server of "
            "the same model run side by side and the load alternates between them.\n\n";
}

// Each section: its question, its plots, its table (its own "## title", one level down) and its CSV.
void write_sections(std::ostream& text, const std::vector<Section>& sections) {
    for (const Section& section : sections) {
        text << "## " << section.heading << "\n\n*" << section.question << "*\n\n";
        for (const Plot& plot : section.plots)
            if (plot.drawn) text << "![" << section.heading << "](" << plot.name << ".png)\n\n";
        text << "#" << render(section.result.table, "md") << "\n";
        text << "Data: [" << section.name << ".csv](" << section.name << ".csv)\n\n";
    }
}

// The benchmarks of our own machinery, quoted whole.
void write_machinery(std::ostream& text, const std::vector<Benchmark>& benchmarks, const std::string& where) {
    text << "## Our own machinery\n\n*Does the tracer cost nearly nothing, and can the visualizer keep up?* "
         << (where == "native" ? "Native builds, not Wine" : "Windows builds run " + where + ", like socklab.exe")
         << ": these time our own code, not Winsock.\n\n";
    for (const Benchmark& benchmark : benchmarks)
        text << "### " << benchmark.title << "\n\n`" << benchmark_shown(benchmark.program) << "`:\n\n```\n"
             << benchmark.output << (benchmark.output.empty() || benchmark.output.back() != '\n' ? "\n" : "")
             << "```\n\n";
}

}  // namespace

std::string page(const std::vector<Section>& sections, const std::vector<Benchmark>& benchmarks,
                 const ReportFacts& facts) {
    std::ostringstream text;
    write_introduction(text, report_runtime(sections), facts);
    text << "## Headline figures\n\n" << headline(sections, benchmarks, facts.machinery_where) << "\n";
    write_method(text, facts.processors);
    write_sections(text, sections);
    write_machinery(text, benchmarks, facts.machinery_where);
    return text.str();
}

}  // namespace socklab::cli
