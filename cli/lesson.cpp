// cli/lesson.cpp — `socklab lesson`: the lessons in a terminal.
//
//   socklab lesson                 the lessons in reading order: number, title, steps
//   socklab lesson 7               lesson 7 step by step: prose, the code its anchors quote, what to run
//   socklab lesson 7 --check       every step run headless (live steps on Windows, or under Wine on Linux; reference steps in the
//                                  reference model); each check printed met or not; exit 1 when one is not
//
// The lesson format, anchors and checks are visualizer/model/lesson.h and lesson_run.h; this file only prints
// and, for live steps, starts the server (cli/server_run.h).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <chrono>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/terminal.h"

#ifdef SOCKLAB_HAVE_LESSONS
#include "visualizer/model/lesson.h"
#include "visualizer/model/lesson_run.h"
#include "cli/server_run.h"
#endif

namespace socklab::cli {

#ifdef SOCKLAB_HAVE_LESSONS
namespace {

using lessons::AnchorIndex;
using lessons::Lesson;
using lessons::Step;

// Someone at a terminal reads the lesson: it is paged and waits for them. Piped, it is printed straight through.
bool interactive() { return is_terminal(stdin) && is_terminal(stdout); }

// A live step's server: socklab-server (under Wine on Linux), via the same ServerRun as `socklab serve`.
class CliServer : public lessons::LiveServer {
public:
    bool start(const std::string& model, const std::vector<std::string>& flags, const std::string& trace_file,
               std::uint16_t& port, std::string& error) override {
        std::vector<std::string> arguments{model, "--port", "0", "--trace-file", trace_file};
        arguments.insert(arguments.end(), flags.begin(), flags.end());
        if (!run_.start(arguments, error)) return false;
        std::string output;
        for (int waited_ms = 0; port == 0; waited_ms += 100) {
            const bool alive = run_.pump(100, [&](const std::string& line) {
                output += line;
                const auto at = line.find(" listening on ");
                if (at != std::string::npos)
                    port = static_cast<std::uint16_t>(std::atoi(line.c_str() + line.find(':', at) + 1));
            });
            if (!alive || waited_ms > 120'000) {
                error = (alive ? "it did not listen within 120 s" : "it stopped before listening") +
                        std::string(output.empty() ? "" : ": " + output);
                while (!error.empty() && error.back() == '\n') error.pop_back();
                return false;
            }
        }
        return true;
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
    std::string text = wrapped(name + "  (" + site->file + ":" + std::to_string(site->first_line) + ")", width, "  -- ",
                               "     ");
    for (const std::string& line : anchors.quote(*site)) text += "  " + line + "\n";
    return text;
}

// One step as it reads in a terminal of this width: its prose re-flowed, the code its anchors quote, what to
// run and what to check.
std::string step_text(const Lesson& lesson, const Step& step, const AnchorIndex& anchors, std::size_t width) {
    std::string text = "\n" + wrapped("== Lesson " + std::to_string(lesson.number) + ", step " +
                                          std::to_string(step.number) + " of " + std::to_string(lesson.steps.size()) +
                                          ": " + step.title + " ==",
                                      width, "", "   ");
    if (!step.prose.empty()) text += "\n" + reflow_markdown(step.prose, width);
    if (!step.anchors.empty()) text += "\nRead:\n";
    for (const std::string& name : step.anchors) text += anchor_text(anchors, name, width);
    const std::string run = lessons::describe_run(step);
    if (!run.empty()) {
        // Its first line says what runs; the lines after it are the scenario's commands, kept as written.
        const std::size_t first_end = run.find('\n');
        text += "\n" + wrapped("Run, " + run.substr(0, first_end), width, "", "  ");
        if (first_end != std::string::npos) text += run.substr(first_end + 1);
        if (text.back() != '\n') text += "\n";
    }
    if (!step.checks.empty()) text += "\nChecks:\n";
    for (const auto& check : step.checks) text += wrapped(check.text, width, "  ", "    ");
    return text;
}

// "  met      show iocp-wait              models/06_iocp.cpp:120-131". On a terminal the detail goes on lines
// of its own, indented, when the three do not fit on one; piped, a check stays one line, for grep.
void print_check(bool met, const std::string& text, const std::string& detail, std::size_t width) {
    char line[512];
    std::snprintf(line, sizeof line, "  %-8s %-42s", met ? "met" : "NOT MET", text.c_str());
    std::string shown = line;
    if (!is_terminal(stdout) || display_width(shown) + 1 + display_width(detail) <= width) {
        std::printf("%s %s\n", shown.c_str(), detail.c_str());
        return;
    }
    char status[16];
    std::snprintf(status, sizeof status, "  %-8s ", met ? "met" : "NOT MET");
    std::fputs(wrapped(text, width, status, "           ").c_str(), stdout);
    if (!detail.empty()) std::fputs(wrapped(detail, width, "           ", "           ").c_str(), stdout);
}

// Runs one step; prints its checks. True when every check is met.
bool check_step(const Lesson& lesson, const Step& step, const AnchorIndex& anchors, bool runs, std::size_t width) {
    const std::string kind = step.runs_reference() ? "  [reference model]"
                             : step.runs_live()    ? "  [live: " + step.live_model() + "]"
                                                   : "";
    std::fputs(wrapped("Step " + std::to_string(step.number) + ": " + step.title + kind, width, "", "  ").c_str(), stdout);
    bool passed = true;
    for (const std::string& name : step.anchors) {
        const lessons::AnchorSite* site = anchors.find(name);
        print_check(site != nullptr, "show " + name,
                    site ? site->file + ":" + std::to_string(site->first_line) + "-" + std::to_string(site->last_line)
                         : anchors.problem(name),
                    width);
        passed = passed && site;
    }
    if (!runs || step.run.words.empty()) return passed;
    lessons::StepResult result;
    if (step.runs_reference()) {
        result = lessons::run_reference_step(step);
    } else {
        CliServer server;
        const bool terminal = is_terminal(stderr);
        result = lessons::run_live_step(step, server, [&](const std::string& line) {
            if (terminal) std::fprintf(stderr, "    ... %s\n", line.c_str());
        });
    }
    if (!result.trace_file.empty()) std::filesystem::remove(result.trace_file);  // the checks have read it
    if (!result.error.empty()) print_check(false, step.run.text, result.error, width);
    for (const lessons::CheckResult& check : result.checks) print_check(check.met, check.text, check.detail, width);
    (void)lesson;
    return passed && result.passed();
}

int list_lessons(const std::string& root, std::size_t width) {
    std::string error;
    const auto files = lessons::lesson_files(root + "/lessons", error);
    if (!error.empty()) {
        std::fprintf(stderr, "socklab lesson: %s\n", error.c_str());
        return 1;
    }
    std::fputs(wrapped("The lessons, in reading order (socklab lesson N reads one; --check runs its checks):", width)
                   .c_str(),
               stdout);
    std::printf("\n");
    struct Row {
        std::string number, title, steps, where, problem;
    };
    std::vector<Row> rows;
    std::size_t title_columns = 0, where_columns = 0;
    for (const std::string& file : files) {
        const Lesson lesson = lessons::load_lesson(file);
        char number[16];
        std::snprintf(number, sizeof number, "%4d  ", lesson.number);
        rows.push_back({number, lesson.title, std::to_string(lesson.steps.size()) + " steps",
                        "lessons/" + file.substr(file.rfind('/') + 1),
                        lesson.parsed() ? "" : "(does not parse: socklab lesson N --check says why)"});
        title_columns = std::max(title_columns, display_width(lesson.title));
        where_columns = std::max(where_columns, rows.back().where.size());
    }
    // One line a lesson, in columns, when that fits the width ("   7  I/O completion ports    9 steps  lessons/
    // 07-iocp.md"); otherwise two: the title, and under it the steps and the file.
    const bool one_line = 6 + title_columns + 2 + 9 + 2 + where_columns <= width;
    for (const Row& row : rows) {
        if (one_line) {
            char steps[16];
            std::snprintf(steps, sizeof steps, "%9s", row.steps.c_str());
            std::printf("%s%s%s  %s  %s\n", row.number.c_str(), row.title.c_str(),
                        std::string(title_columns - display_width(row.title), ' ').c_str(), steps, row.where.c_str());
        } else {
            std::fputs(wrapped(row.title, width, row.number, "      ").c_str(), stdout);
            std::printf("      %s, %s\n", row.steps.c_str(), row.where.c_str());
        }
        if (!row.problem.empty()) std::fputs(wrapped(row.problem, width, "      ", "      ").c_str(), stdout);
    }
    return 0;
}

}  // namespace
#endif

int lesson_command(const Arguments& arguments) {
    bool check = false, static_only = false;
    std::string root;
    std::uint64_t only_step = 0, width_flag = 0;
    Flags flags("lesson");
    flags.set_synopsis("[N] [options]\n\nWithout N: the lessons in reading order. With N: lesson N step by step — the "
                       "prose, the code\nits anchors quote (file:line), what to run and what to observe; it waits "
                       "for Enter between\nsteps in a terminal (r + Enter runs the step, q quits). With --check: every "
                       "step run headless\n(live steps start the model's server, under Wine on Linux), each check printed met or not; "
                       "exit code 1 when\none is not met.\n\nThe prose is re-flowed to the width: --width, else $COLUMNS, else the terminal's,\nelse 80 (socklab lesson 7 --width 80). In a terminal, a step longer than the\nscreen is shown a screenful at a time (Enter: more); piped, the lesson is printed\nstraight through.");
    flags.toggle("check", check, "run every step and decide its checks");
    flags.toggle("static", static_only, "with --check: only parse the lesson and resolve its anchors (no runs)");
    flags.count("step", only_step, 0, 100, "only this step (0 = every step)");
    flags.count("width", width_flag, 0, 1000, "columns to lay the text out in; 0 = the terminal's width");
    flags.text("root", root, "the tree to read lessons/ and the anchored sources from (default: this checkout)");
    std::vector<std::string> positional;
    if (!flags.parse(arguments, &positional)) return flags.exit_code();
#ifndef SOCKLAB_HAVE_LESSONS
    std::fprintf(stderr, "socklab lesson: this build has no lesson runner (it comes with the visualizer's model)\n");
    return 1;
#else
    if (root.empty()) root = repository_root();
    const std::size_t width = width_flag ? width_flag : static_cast<std::size_t>(terminal_width());
    if (positional.size() > 1) return usage_error("lesson", "one lesson number at a time");
    if (positional.empty()) return list_lessons(root, width);
    int number = -1;
    try {
        std::size_t used = 0;
        number = std::stoi(positional[0], &used);
        if (used != positional[0].size()) number = -1;
    } catch (...) {
    }
    if (number < 0) return usage_error("lesson", "'" + positional[0] + "' is not a lesson number (socklab lesson lists them)");

    std::string error;
    const auto files = lessons::lesson_files(root + "/lessons", error);
    if (!error.empty()) {
        std::fprintf(stderr, "socklab lesson: %s\n", error.c_str());
        return 1;
    }
    Lesson lesson;
    for (const std::string& file : files) {
        Lesson candidate = lessons::load_lesson(file);
        if (candidate.number == number) lesson = std::move(candidate);
    }
    if (lesson.file.empty()) return usage_error("lesson", "no lesson " + std::to_string(number) + " (socklab lesson lists them)");
    for (const std::string& problem : lesson.errors) std::fprintf(stderr, "%s\n", problem.c_str());
    if (!lesson.parsed()) return 1;
    const AnchorIndex anchors = AnchorIndex::scan(root);

    if (check) {
        std::printf("Lesson %d: %s (%s)\n", lesson.number, lesson.title.c_str(), lesson.file.c_str());
        bool passed = true;
        for (const std::string& name : anchors.duplicates()) {
            std::printf("  %-8s %s\n", "NOT MET", anchors.problem(name).c_str());
            passed = false;
        }
        unsigned steps = 0, steps_passed = 0;
        for (const Step& step : lesson.steps) {
            if (only_step && step.number != static_cast<int>(only_step)) continue;
            ++steps;
            const bool ok = check_step(lesson, step, anchors, !static_only, width);
            steps_passed += ok;
            passed = passed && ok;
            std::fflush(stdout);
        }
        std::printf("\nLesson %d: %u of %u steps passed%s\n", lesson.number, steps_passed, steps,
                    static_only ? " (anchors only, nothing run)" : "");
        return passed ? 0 : 1;
    }

    std::string introduction = wrapped("Lesson " + std::to_string(lesson.number) + ": " + lesson.title, width);
    if (!lesson.introduction.empty()) introduction += "\n" + reflow_markdown(lesson.introduction, width);
    if (!interactive()) {
        std::fputs(introduction.c_str(), stdout);
        for (const Step& step : lesson.steps)
            if (!only_step || step.number == static_cast<int>(only_step))
                std::fputs(step_text(lesson, step, anchors, width).c_str(), stdout);
    } else {
        // A screenful at a time, and a question after each step: Enter for the next, r to run it, q to quit.
        Pager pager(width, static_cast<std::size_t>(terminal_height()));
        if (!pager.show(introduction)) return 0;
        for (const Step& step : lesson.steps) {
            if (only_step && step.number != static_cast<int>(only_step)) continue;
            if (!pager.show(step_text(lesson, step, anchors, width) + "\n")) return 0;
            for (;;) {
                const std::string answer = pager.ask(step.run.words.empty()
                                                         ? "[Enter: next step   q: quit] "
                                                         : "[Enter: next step   r: run this step's checks   q: quit] ");
                if (answer == "q") return 0;
                if (answer != "r" || step.run.words.empty()) break;
                check_step(lesson, step, anchors, true, width);
                pager.show("\n");
            }
        }
    }
    const std::string n = std::to_string(lesson.number);
    std::fputs(("\n" + wrapped("End of lesson " + n + ". socklab lesson " + n + " --check runs every step; socklab viz "
                                "--lesson " + n + " shows it.",
                                width))
                   .c_str(),
               stdout);
    return 0;
#endif
}

}  // namespace socklab::cli
