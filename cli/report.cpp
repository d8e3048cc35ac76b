// cli/report.cpp — `socklab report`: the benchmark report under docs/, regenerated from a real run.
//
// Runs every compare scenario (echo, slow handlers, broadcast, capacity, tracing overhead, cost) over the models,
// then writes one Markdown page with the tables, the headline figures, the machine and the method, a CSV per
// table, and a PNG plot per table drawn by gnuplot from exactly the numbers in the table (without gnuplot, the
// page says so and has no plots). Where the runtime is Wine, every title says so and the page says what would
// differ on Windows; a Linux model named runs natively and its rows say so (cli/compare_tables.cpp).
//
// Here: the command line, and the run in its phases (check gnuplot and the folder, run the sections, run the
// benchmarks, write the page). What to run is report_plan.h, the plots gnuplot.h, the page report_page.h, the
// machine machine.h, the benchmarks benchmarks.h.
#include "cli/report.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/benchmarks.h"
#include "cli/commands.h"
#include "cli/compare.h"
#include "cli/gnuplot.h"
#include "cli/locate.h"
#include "cli/machine.h"
#include "cli/report_page.h"
#include "cli/report_plan.h"
#include "common/catalog/models.h"

namespace socklab::cli {

Parsed<ReportRequest> parse_report_command(const Arguments& arguments) {
    Parsed<ReportRequest> parsed;
    ReportRequest& request = parsed.request;
    request.out = repository_root() + "/docs/report";
    Flags flags("report");
    flags.set_synopsis(
        "[model...] [options]\n\nRuns every compare scenario over the models (every one that runs here "
        "when none is\nnamed: on Linux the Windows eight under Wine and the Linux ones natively) and writes "
        "the\nbenchmark report: README.md, a PNG plot and a CSV per table. About 15 minutes in full.\nWithout gnuplot "
        "the report is written without plots. Exits 1 if a model "
        "returned a wrong\nbyte or failed, gnuplot failed to draw a plot, or a benchmark that is built "
        "failed.");
    flags.text("out", request.out, "the report's folder");
    flags.toggle("quick", request.quick,
                 "seconds instead of minutes (fewer clients, short runs): for tests, not for reading");
    if (!flags.parse(arguments, &request.models)) return parsed.stop(flags.early_exit());
    // Every model that runs here: on Linux the eight Windows ones under Wine and the Linux ones natively, each
    // table saying which row ran where.
    if (request.models.empty()) request.models = catalog::ids_that_run_here();
    for (const std::string& model : request.models) {
        const catalog::KnownModel* known = catalog::find_model(model);
        if (!known)
            return parsed.stop(EarlyExit::usage_error("report", "no model '" + model + "' (see socklab models)"));
        if (catalog::how_it_runs(*known) == catalog::HowItRuns::not_here)
            return parsed.stop(
                EarlyExit::usage_error("report", model + " is a Linux model: run it from socklab on Linux"));
    }
#ifdef _WIN32
    request.command = "socklab report";
#else
    request.command = "./socklab report";  // the checkout's wrapper, which builds and installs first
#endif
    for (const std::string& argument : arguments) request.command += " " + argument;
    return parsed;
}

namespace {

// What a run of the sections came to.
struct SectionsRun {
    bool correct = true;    // every model measured right, every plot drawn
    std::size_t plots = 0;  // PNGs written
};

// Each section in turn: its comparison, its CSV, and (with gnuplot) its plots, all into the report's folder.
SectionsRun run_sections(std::vector<Section>& sections, const std::string& out, const std::string& gnuplot) {
    SectionsRun run;
    for (std::size_t i = 0; i < sections.size(); ++i) {
        Section& section = sections[i];
        std::fprintf(stderr, "socklab report: %zu/%zu %s\n", i + 1, sections.size(), section.heading.c_str());
        section.result = run_comparison(section.settings);
        for (const std::string& problem : section.result.problems) std::fprintf(stderr, "  %s\n", problem.c_str());
        run.correct = run.correct && section.result.correct;
        std::ofstream(out + "/" + section.name + ".csv") << render(section.result.table, "csv");
        for (Plot& plot : section.plots) {
            if (gnuplot.empty()) break;
            std::string why;
            plot.drawn = draw_plot(section, plot, out + "/" + plot.name + ".png", why);
            if (!plot.drawn) {
                std::fprintf(stderr, "socklab report: plot %s: %s\n", plot.name.c_str(), why.c_str());
                run.correct = false;
            }
            run.plots += plot.drawn;
        }
    }
    return run;
}

// A benchmark that is not built is a gap the page shows (the Windows build has no visualizer without GLFW and
// ImGui); one that is built and fails is a failure. False then.
bool benchmarks_that_are_built_ran(const std::vector<Benchmark>& benchmarks) {
    bool ran = true;
    for (const Benchmark& benchmark : benchmarks)
        if (!benchmark.ran) {
            std::fprintf(stderr, "socklab report: %s did not run: %s\n", benchmark_shown(benchmark.program).c_str(),
                         benchmark.output.c_str());
            ran = ran && !benchmark.built;
        }
    return ran;
}

// Gnuplot's version line, "" without it, said first: nobody should wait ten minutes to find the plots missing.
std::string check_gnuplot() {
    const std::string gnuplot = gnuplot_version();
    if (gnuplot.empty())
        std::fprintf(stderr,
                     "socklab report: gnuplot was not found, so the report will have no plots (Debian: "
                     "apt-get install gnuplot-nox, which ./socklab report does for you; Windows: install "
                     "gnuplot and put its bin folder on PATH)\n");
    return gnuplot;
}

}  // namespace

int report_command(const Arguments& arguments) {
    const Parsed<ReportRequest> parsed = parse_report_command(arguments);
    if (parsed.early_exit) return parsed.early_exit->print();
    const ReportRequest& request = parsed.request;
    ReportFacts facts;
    facts.gnuplot = check_gnuplot();
    std::error_code error;
    std::filesystem::create_directories(request.out, error);
    if (error) {
        std::fprintf(stderr, "socklab report: cannot create %s: %s\n", request.out.c_str(), error.message().c_str());
        return 1;
    }
    facts.command = request.command;
    facts.started = today();
    const auto start = std::chrono::steady_clock::now();
    std::vector<Section> sections = plan(request.models, request.quick);
    const SectionsRun run = run_sections(sections, request.out, facts.gnuplot);
    const std::vector<Benchmark> benchmarks = run_benchmarks();
    const bool correct = benchmarks_that_are_built_ran(benchmarks) && run.correct;
    facts.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    facts.machine = machine_description();
    facts.machinery_where = machinery_where();
    facts.processors = std::thread::hardware_concurrency();
    std::ofstream(request.out + "/README.md") << page(sections, benchmarks, facts);
    std::printf("socklab report: wrote %s/README.md and %zu plots%s\n", request.out.c_str(), run.plots,
                facts.gnuplot.empty() ? " (no gnuplot)" : "");
    if (!correct) {
        std::fprintf(stderr, "socklab report: FAILED: a model failed or returned a wrong byte (see above)\n");
        return 1;
    }
    return 0;
}

}  // namespace socklab::cli
