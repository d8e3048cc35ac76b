// cli/lesson.cpp — `socklab lesson`: the lessons in a terminal.
//
//   socklab lesson                 the lessons in reading order: number, title, steps
//   socklab lesson 7               lesson 7 step by step: prose, the code its anchors quote, what to run
//   socklab lesson 7 --check       every step run headless (live steps on Windows, or under Wine on Linux; reference steps in the
//                                  reference model); each check printed met or not; exit 1 when one is not
//
// The lesson format, anchors and checks are visualizer/model/lesson.h and lesson_run.h; this file only prints
// and, for live steps, starts the server (cli/server_run.h).
//
// Sections: the command line · text for the terminal · running steps · the command.
#include "cli/lesson.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/locate.h"
#include "cli/terminal.h"
#include "common/catalog/models.h"

#ifdef SOCKLAB_HAVE_LESSONS
#include "cli/server_run.h"
#include "visualizer/model/lesson_run.h"
#endif

namespace socklab::cli {

// ---- the command line -------------------------------------------------------------------------------------
Parsed<LessonRequest> parse_lesson_command(const Arguments& arguments) {
    Parsed<LessonRequest> parsed;
    LessonRequest& request = parsed.request;
    Flags flags("lesson");
    flags.set_synopsis(
        "[N] [options]\n\nWithout N: the lessons in reading order. With N: lesson N step by step — the "
        "prose, the code\nits anchors quote (file:line), what to run and what to observe; it waits "
        "for Enter between\nsteps in a terminal (r + Enter runs the step, q quits). With --check: every "
        "step run headless\n(live steps start the model's server, under Wine on Linux), each check printed met or not; "
        "exit code 1 when\none is not met.\n\nThe prose is re-flowed to the width: --width, else $COLUMNS, else the "
        "terminal's,\nelse 80 (socklab lesson 7 --width 80). In a terminal, a step longer than the\nscreen is shown a "
        "screenful at a time (Enter: more); piped, the lesson is printed\nstraight through.");
    flags.toggle("check", request.check, "run every step and decide its checks");
    flags.toggle("static", request.static_only,
                 "with --check: only parse the lesson and resolve its anchors (no runs)");
    flags.count("step", request.only_step, 0, 100, "only this step (0 = every step)");
    flags.count("width", request.width, 0, 1000, "columns to lay the text out in; 0 = the terminal's width");
    flags.text("root", request.root,
               "the tree to read lessons/ and the anchored sources from (default: this checkout)");
    std::vector<std::string> positional;
    if (!flags.parse(arguments, &positional)) return parsed.stop(flags.early_exit());
#ifndef SOCKLAB_HAVE_LESSONS
    return parsed.stop({1, "socklab lesson: this build has no lesson runner (it comes with the visualizer's model)\n"});
#endif
    if (positional.size() > 1) return parsed.stop(EarlyExit::usage_error("lesson", "one lesson number at a time"));
    if (positional.empty()) return parsed;
    try {
        std::size_t used = 0;
        request.number = std::stoi(positional[0], &used);
        if (used != positional[0].size()) request.number = -1;
    } catch (...) {
        request.number = -1;
    }
    if (request.number < 0)
        return parsed.stop(EarlyExit::usage_error(
            "lesson", "'" + positional[0] + "' is not a lesson number (socklab lesson lists them)"));
    return parsed;
}

#ifdef SOCKLAB_HAVE_LESSONS
using lessons::AnchorIndex;
using lessons::Lesson;
using lessons::Step;

// ---- text for the terminal --------------------------------------------------------------------------------
namespace {

std::string wrapped(const std::string& text, std::size_t width, const std::string& first_indent = "",
                    const std::string& next_indent = "") {
    std::string out;
    for (const std::string& line : wrap_words(text, width, first_indent, next_indent)) out += line + "\n";
    return out;
}

// The code an anchor names, as it is in the source: code lines are never wrapped (a wrapped line of C++ reads
// as two), so they are the only lines that may be wider than the terminal.
std::string anchor_text(const AnchorIndex& anchors, const std::string& name, std::size_t width) {
    const lessons::AnchorSite* site = anchors.find(name);
    if (!site) return "  [" + anchors.problem(name) + "]\n";
    std::string text =
        wrapped(name + "  (" + site->file + ":" + std::to_string(site->first_line) + ")", width, "  -- ", "     ");
    for (const std::string& line : anchors.quote(*site)) text += "  " + line + "\n";
    return text;
}

// "Run, ...": its first line says what runs; the lines after it are the scenario's commands, kept as written.
std::string run_text(const Step& step, std::size_t width) {
    const std::string run = lessons::describe_run(step);
    if (run.empty()) return "";
    const std::size_t first_end = run.find('\n');
    std::string text = "\n" + wrapped("Run, " + run.substr(0, first_end), width, "", "  ");
    if (first_end != std::string::npos) text += run.substr(first_end + 1);
    if (text.back() != '\n') text += "\n";
    return text;
}

}  // namespace

std::string lesson_list(const std::vector<Lesson>& all, std::size_t width) {
    std::string text =
        wrapped("The lessons, in reading order (socklab lesson N reads one; --check runs its checks):", width) + "\n";
    struct Row {
        std::string number, title, steps, where, problem;
    };
    std::vector<Row> rows;
    std::size_t title_columns = 0, where_columns = 0;
    for (const Lesson& lesson : all) {
        char number[16];
        std::snprintf(number, sizeof number, "%4d  ", lesson.number);
        rows.push_back({number, lesson.title, std::to_string(lesson.steps.size()) + " steps",
                        "lessons/" + lesson.file.substr(lesson.file.rfind('/') + 1),
                        lesson.parsed() ? "" : "(does not parse: socklab lesson N --check says why)"});
        title_columns = std::max(title_columns, display_width(lesson.title));
        where_columns = std::max(where_columns, rows.back().where.size());
    }
    const bool one_line = 6 + title_columns + 2 + 9 + 2 + where_columns <= width;
    for (const Row& row : rows) {
        if (one_line) {
            char steps[16];
            std::snprintf(steps, sizeof steps, "%9s", row.steps.c_str());
            text += row.number + row.title + std::string(title_columns - display_width(row.title), ' ') + "  " + steps +
                    "  " + row.where + "\n";
        } else {
            text += wrapped(row.title, width, row.number, "      ");
            text += "      " + row.steps + ", " + row.where + "\n";
        }
        if (!row.problem.empty()) text += wrapped(row.problem, width, "      ", "      ");
    }
    return text;
}

std::string step_text(const Lesson& lesson, const Step& step, const AnchorIndex& anchors, std::size_t width) {
    std::string text =
        "\n" + wrapped("== Lesson " + std::to_string(lesson.number) + ", step " + std::to_string(step.number) + " of " +
                           std::to_string(lesson.steps.size()) + ": " + step.title + " ==",
                       width, "", "   ");
    if (!step.prose.empty()) text += "\n" + reflow_markdown(step.prose, width);
    if (!step.anchors.empty()) text += "\nRead:\n";
    for (const std::string& name : step.anchors) text += anchor_text(anchors, name, width);
    text += run_text(step, width);
    if (!step.checks.empty()) text += "\nChecks:\n";
    for (const auto& check : step.checks) text += wrapped(check.text, width, "  ", "    ");
    return text;
}

std::string check_line(bool met, const std::string& text, const std::string& detail, std::size_t width, bool one_line) {
    char line[512];
    std::snprintf(line, sizeof line, "  %-8s %-42s", met ? "met" : "NOT MET", text.c_str());
    const std::string shown = line;
    if (one_line || display_width(shown) + 1 + display_width(detail) <= width) return shown + " " + detail + "\n";
    char status[16];
    std::snprintf(status, sizeof status, "  %-8s ", met ? "met" : "NOT MET");
    std::string result = wrapped(text, width, status, "           ");
    if (!detail.empty()) result += wrapped(detail, width, "           ", "           ");
    return result;
}

// ---- running steps ----------------------------------------------------------------------------------------
namespace {

// Someone at a terminal reads the lesson: it is paged and waits for them. Piped, it is printed straight through.
bool interactive() { return is_terminal(stdin) && is_terminal(stdout); }

void print_check(bool met, const std::string& text, const std::string& detail, std::size_t width) {
    std::fputs(check_line(met, text, detail, width, !is_terminal(stdout)).c_str(), stdout);
}

// A live step's server: socklab-server (a Windows model under Wine on Linux), via the same ServerRun as `socklab
// serve`.
class CliServer : public lessons::LiveServer {
public:
    bool start(const std::string& model, const std::vector<std::string>& flags, const std::string& trace_file,
               std::uint16_t& port, std::string& error) override {
        std::vector<std::string> arguments{model, "--port", "0", "--trace-file", trace_file};
        arguments.insert(arguments.end(), flags.begin(), flags.end());
        if (!run_.start(arguments, error)) return false;
        std::string output;
        const StartWait started =
            run_.wait_until_listening(std::chrono::seconds(120), [&](const std::string& line) { output += line; });
        if (started.ok()) {
            port = started.listening.port;
            return true;
        }
        error = (started.outcome == StartWait::Outcome::timed_out ? "it did not listen within 120 s"
                                                                  : "it stopped before listening") +
                std::string(output.empty() ? "" : ": " + output);
        while (!error.empty() && error.back() == '\n') error.pop_back();
        return false;
    }
    bool stop(std::string& error) override {
        bool forced = false;
        run_.stop(std::chrono::seconds(20), nullptr, &forced);
        if (forced) error = "the server did not stop within 20 s of being asked (its shutdown hangs); it was ended";
        return !forced;
    }

private:
    ServerRun run_;
};

// The anchors a step shows, each found or not: true when all are.
bool check_anchors(const Step& step, const AnchorIndex& anchors, std::size_t width) {
    bool found = true;
    for (const std::string& name : step.anchors) {
        const lessons::AnchorSite* site = anchors.find(name);
        print_check(site != nullptr, "show " + name,
                    site ? site->file + ":" + std::to_string(site->first_line) + "-" + std::to_string(site->last_line)
                         : anchors.problem(name),
                    width);
        found = found && site;
    }
    return found;
}

// The step's run: in the reference model, or against a live server.
lessons::StepResult run_step(const Step& step) {
    if (step.runs_reference()) return lessons::run_reference_step(step);
    CliServer server;
    const bool terminal = is_terminal(stderr);
    return lessons::run_live_step(step, server, [&](const std::string& line) {
        if (terminal) std::fprintf(stderr, "    ... %s\n", line.c_str());
    });
}

// How a step's check came out. A live step whose model does not run from this program (a Linux model, from
// socklab.exe on Windows) is not run: its anchors are still checked, and the step is counted apart, never as
// passed.
enum class StepOutcome { passed, failed, not_here };

// Runs one step (when `runs` and it has a run); prints its checks.
StepOutcome check_step(const Step& step, const AnchorIndex& anchors, bool runs, std::size_t width) {
    const std::string kind = step.runs_reference() ? "  [reference model]"
                             : step.runs_live()    ? "  [live: " + step.live_model() + "]"
                                                   : "";
    std::fputs(wrapped("Step " + std::to_string(step.number) + ": " + step.title + kind, width, "", "  ").c_str(),
               stdout);
    const bool anchors_found = check_anchors(step, anchors, width);
    const auto outcome = [](bool passed) { return passed ? StepOutcome::passed : StepOutcome::failed; };
    if (!runs || step.run.words.empty()) return outcome(anchors_found);
    const catalog::KnownModel* model = step.runs_live() ? catalog::find_model(step.live_model()) : nullptr;
    if (model && catalog::how_it_runs(*model) == catalog::HowItRuns::not_here) {
        const std::string platform = catalog::platform_name(model->platform);
        std::fputs(wrapped("not run here: " + std::string(model->id) + " is a " + platform + " model, and this step (" +
                               step.run.text + ") runs from socklab on " + platform,
                           width, "  ", "    ")
                       .c_str(),
                   stdout);
        return anchors_found ? StepOutcome::not_here : StepOutcome::failed;
    }
    const lessons::StepResult result = run_step(step);
    if (!result.trace_file.empty()) std::filesystem::remove(result.trace_file);  // the checks have read it
    if (!result.error.empty()) print_check(false, step.run.text, result.error, width);
    for (const lessons::CheckResult& check : result.checks) print_check(check.met, check.text, check.detail, width);
    return outcome(anchors_found && result.passed());
}

// ---- the command ------------------------------------------------------------------------------------------
bool wanted(const LessonRequest& request, const Step& step) {
    return !request.only_step || step.number == static_cast<int>(request.only_step);
}

int list_lessons(const std::string& root, std::size_t width) {
    std::string error;
    const auto files = lessons::lesson_files(root + "/lessons", error);
    if (!error.empty()) {
        std::fprintf(stderr, "socklab lesson: %s\n", error.c_str());
        return 1;
    }
    std::vector<Lesson> all;
    for (const std::string& file : files) all.push_back(lessons::load_lesson(file));
    std::fputs(lesson_list(all, width).c_str(), stdout);
    return 0;
}

// Lesson `number` from the tree's lessons/, parsed; an empty file name when there is none. Problems are printed.
Lesson find_lesson(const std::string& root, int number, std::string& error) {
    Lesson lesson;
    const auto files = lessons::lesson_files(root + "/lessons", error);
    if (!error.empty()) return lesson;
    for (const std::string& file : files) {
        Lesson candidate = lessons::load_lesson(file);
        if (candidate.number == number) lesson = std::move(candidate);
    }
    return lesson;
}

// --check: every wanted step run (or only its anchors resolved, with --static), each check printed.
int check_lesson(const Lesson& lesson, const AnchorIndex& anchors, const LessonRequest& request, std::size_t width) {
    std::printf("Lesson %d: %s (%s)\n", lesson.number, lesson.title.c_str(), lesson.file.c_str());
    bool passed = true;
    for (const std::string& name : anchors.duplicates()) {
        std::printf("  %-8s %s\n", "NOT MET", anchors.problem(name).c_str());
        passed = false;
    }
    unsigned steps = 0, steps_passed = 0, steps_not_here = 0;
    for (const Step& step : lesson.steps) {
        if (!wanted(request, step)) continue;
        const StepOutcome outcome = check_step(step, anchors, !request.static_only, width);
        if (outcome == StepOutcome::not_here) {
            ++steps_not_here;
        } else {
            ++steps;
            steps_passed += outcome == StepOutcome::passed;
            passed = passed && outcome == StepOutcome::passed;
        }
        std::fflush(stdout);
    }
    std::printf("\nLesson %d: %u of %u steps passed%s", lesson.number, steps_passed, steps,
                request.static_only ? " (anchors only, nothing run)" : "");
    if (steps_not_here > 0)
        std::printf("; %u step%s not run here (%s: a model of another platform)", steps_not_here,
                    steps_not_here == 1 ? "" : "s", steps_not_here == 1 ? "it runs" : "they run");
    std::printf("\n");
    return passed ? 0 : 1;
}

// In a terminal: a screenful at a time, and a question after each step: Enter for the next, r to run it, q to
// quit. False when the reader quit.
bool page_through(const Lesson& lesson, const AnchorIndex& anchors, const LessonRequest& request,
                  const std::string& introduction, std::size_t width) {
    Pager pager(width, static_cast<std::size_t>(terminal_height()));
    if (!pager.show(introduction)) return false;
    for (const Step& step : lesson.steps) {
        if (!wanted(request, step)) continue;
        if (!pager.show(step_text(lesson, step, anchors, width) + "\n")) return false;
        for (;;) {
            const std::string answer =
                pager.ask(step.run.words.empty() ? "[Enter: next step   q: quit] "
                                                 : "[Enter: next step   r: run this step's checks   q: quit] ");
            if (answer == "q") return false;
            if (answer != "r" || step.run.words.empty()) break;
            check_step(step, anchors, true, width);
            pager.show("\n");
        }
    }
    return true;
}

// Reading the lesson: paged in a terminal, printed straight through into a pipe; then where to go next.
int read_lesson(const Lesson& lesson, const AnchorIndex& anchors, const LessonRequest& request, std::size_t width) {
    std::string introduction = wrapped("Lesson " + std::to_string(lesson.number) + ": " + lesson.title, width);
    if (!lesson.introduction.empty()) introduction += "\n" + reflow_markdown(lesson.introduction, width);
    if (!interactive()) {
        std::fputs(introduction.c_str(), stdout);
        for (const Step& step : lesson.steps)
            if (wanted(request, step)) std::fputs(step_text(lesson, step, anchors, width).c_str(), stdout);
    } else if (!page_through(lesson, anchors, request, introduction, width)) {
        return 0;
    }
    const std::string n = std::to_string(lesson.number);
    std::fputs(("\n" + wrapped("End of lesson " + n + ". socklab lesson " + n +
                                   " --check runs every step; socklab viz "
                                   "--lesson " +
                                   n + " shows it.",
                               width))
                   .c_str(),
               stdout);
    return 0;
}

}  // namespace
#endif

int lesson_command(const Arguments& arguments) {
    const Parsed<LessonRequest> parsed = parse_lesson_command(arguments);
    if (parsed.early_exit) return parsed.early_exit->print();
#ifdef SOCKLAB_HAVE_LESSONS
    const LessonRequest& request = parsed.request;
    const std::string root = request.root.empty() ? repository_root() : request.root;
    const std::size_t width = request.width ? request.width : static_cast<std::size_t>(terminal_width());
    if (request.number < 0) return list_lessons(root, width);
    std::string error;
    const Lesson lesson = find_lesson(root, request.number, error);
    if (!error.empty()) {
        std::fprintf(stderr, "socklab lesson: %s\n", error.c_str());
        return 1;
    }
    if (lesson.file.empty())
        return usage_error("lesson", "no lesson " + std::to_string(request.number) + " (socklab lesson lists them)");
    for (const std::string& problem : lesson.errors) std::fprintf(stderr, "%s\n", problem.c_str());
    if (!lesson.parsed()) return 1;
    const AnchorIndex anchors = AnchorIndex::scan(root);
    return request.check ? check_lesson(lesson, anchors, request, width) : read_lesson(lesson, anchors, request, width);
#else
    return 1;  // parse_lesson_command says this build has no lesson runner
#endif
}

}  // namespace socklab::cli
