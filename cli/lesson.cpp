// cli/lesson.cpp — `socklab lesson`: the lessons in a terminal.
//
//   socklab lesson                 the lessons in reading order: number, title, steps
//   socklab lesson 7               lesson 7 step by step: prose, the code its anchors quote, what to run
//   socklab lesson 7 --check       every step run headless (live steps under Wine, reference steps in the
//                                  reference model); each check printed met or not; exit 1 when one is not
//
// The lesson format, anchors and checks are visualizer/model/lesson.h and lesson_run.h; this file only prints
// and, for live steps, starts the server (cli/server_run.h).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/flags.h"

#ifdef SOCKLAB_HAVE_LESSONS
#include "visualizer/model/lesson.h"
#include "visualizer/model/lesson_run.h"
#ifndef _WIN32
#include <unistd.h>

#include "cli/server_run.h"
#endif
#endif

namespace socklab::cli {

#ifdef SOCKLAB_HAVE_LESSONS
namespace {

using lessons::AnchorIndex;
using lessons::Lesson;
using lessons::Step;

bool interactive() {
#ifdef _WIN32
    return false;
#else
    return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
#endif
}

#ifndef _WIN32
// A live step's server: socklab-server under Wine, via the same ServerRun as `socklab serve`.
class CliServer : public lessons::LiveServer {
public:
    bool start(const std::string& model, const std::vector<std::string>& flags, const std::string& trace_file,
               std::uint16_t& port, std::string& error) override {
        std::vector<std::string> arguments{model, "--port", "0", "--trace-file", trace_file};
        arguments.insert(arguments.end(), flags.begin(), flags.end());
        if (!run_->start(arguments, error)) return false;
        std::string output;
        for (int waited_ms = 0; port == 0; waited_ms += 100) {
            const bool alive = run_->pump(100, [&](const std::string& line) {
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
        run_->request_stop();
        for (int waited_ms = 0; waited_ms < 20'000; waited_ms += 100)
            if (!run_->pump(100, [](const std::string&) {})) {
                run_->wait([](const std::string&) {});
                return true;
            }
        // A server that does not stop would hold this command forever (ServerRun waits for it): report it and
        // leave it be — its process group is its own, `ps` shows it.
        error = "the server did not stop within 20 s of being asked (its shutdown hangs); it is still running";
        run_.release();
        return false;
    }

private:
    std::unique_ptr<ServerRun> run_ = std::make_unique<ServerRun>();
};
#endif

void print_anchor(const AnchorIndex& anchors, const std::string& name) {
    const lessons::AnchorSite* site = anchors.find(name);
    if (!site) {
        std::printf("  [%s]\n", anchors.problem(name).c_str());
        return;
    }
    std::printf("  -- %s  (%s:%d)\n", name.c_str(), site->file.c_str(), site->first_line);
    for (const std::string& line : anchors.quote(*site)) std::printf("  %s\n", line.c_str());
}

void print_step(const Lesson& lesson, const Step& step, const AnchorIndex& anchors) {
    std::printf("\n== Lesson %d, step %d of %zu: %s ==\n\n", lesson.number, step.number, lesson.steps.size(),
                step.title.c_str());
    if (!step.prose.empty()) std::printf("%s\n", step.prose.c_str());
    if (!step.anchors.empty()) std::printf("\nRead:\n");
    for (const std::string& name : step.anchors) print_anchor(anchors, name);
    const std::string run = lessons::describe_run(step);
    if (!run.empty()) {
        std::printf("\nRun, %s", run.c_str());
        if (run.back() != '\n') std::printf("\n");
    }
    if (!step.checks.empty()) {
        std::printf("\nChecks:\n");
        for (const auto& check : step.checks) std::printf("  %s\n", check.text.c_str());
    }
}

void print_check(bool met, const std::string& text, const std::string& detail) {
    std::printf("  %-8s %-42s %s\n", met ? "met" : "NOT MET", text.c_str(), detail.c_str());
}

// Runs one step; prints its checks. True when every check is met.
bool check_step(const Lesson& lesson, const Step& step, const AnchorIndex& anchors, bool runs) {
    const std::string kind = step.runs_reference() ? "  [reference model]"
                             : step.runs_live()    ? "  [live: " + step.live_model() + "]"
                                                   : "";
    std::printf("Step %d: %s%s\n", step.number, step.title.c_str(), kind.c_str());
    bool passed = true;
    for (const std::string& name : step.anchors) {
        const lessons::AnchorSite* site = anchors.find(name);
        print_check(site != nullptr, "show " + name,
                    site ? site->file + ":" + std::to_string(site->first_line) + "-" + std::to_string(site->last_line)
                         : anchors.problem(name));
        passed = passed && site;
    }
    if (!runs || step.run.words.empty()) return passed;
    lessons::StepResult result;
    if (step.runs_reference()) {
        result = lessons::run_reference_step(step);
    } else {
#ifdef _WIN32
        result.error = "live steps run from Linux for now (the server is started under Wine)";
#else
        CliServer server;
        const bool terminal = isatty(STDERR_FILENO);
        result = lessons::run_live_step(step, server, [&](const std::string& line) {
            if (terminal) std::fprintf(stderr, "    ... %s\n", line.c_str());
        });
#endif
    }
    if (!result.trace_file.empty()) std::filesystem::remove(result.trace_file);  // the checks have read it
    if (!result.error.empty()) print_check(false, step.run.text, result.error);
    for (const lessons::CheckResult& check : result.checks) print_check(check.met, check.text, check.detail);
    (void)lesson;
    return passed && result.passed();
}

int list_lessons(const std::string& root) {
    std::string error;
    const auto files = lessons::lesson_files(root + "/lessons", error);
    if (!error.empty()) {
        std::fprintf(stderr, "socklab lesson: %s\n", error.c_str());
        return 1;
    }
    std::printf("The lessons, in reading order (socklab lesson N reads one; --check runs its checks):\n\n");
    for (const std::string& file : files) {
        const Lesson lesson = lessons::load_lesson(file);
        std::printf("  %2d  %-52s %2zu steps   lessons/%s%s\n", lesson.number, lesson.title.c_str(),
                    lesson.steps.size(), file.substr(file.rfind('/') + 1).c_str(),
                    lesson.parsed() ? "" : "   (does not parse: socklab lesson N --check says why)");
    }
    return 0;
}

}  // namespace
#endif

int lesson_command(const Arguments& arguments) {
    bool check = false, static_only = false;
    std::string root;
    std::uint64_t only_step = 0;
    Flags flags("lesson");
    flags.set_synopsis("[N] [options]\n\nWithout N: the lessons in reading order. With N: lesson N step by step — the "
                       "prose, the code\nits anchors quote (file:line), what to run and what to observe; it waits "
                       "for Enter between\nsteps in a terminal (r + Enter runs the step, q quits). With --check: every "
                       "step run headless\n(live steps start the model under Wine), each check printed met or not; "
                       "exit code 1 when\none is not met.");
    flags.toggle("check", check, "run every step and decide its checks");
    flags.toggle("static", static_only, "with --check: only parse the lesson and resolve its anchors (no runs)");
    flags.count("step", only_step, 0, 100, "only this step (0 = every step)");
    flags.text("root", root, "the tree to read lessons/ and the anchored sources from (default: this checkout)");
    std::vector<std::string> positional;
    if (!flags.parse(arguments, &positional)) return flags.exit_code();
#ifndef SOCKLAB_HAVE_LESSONS
    std::fprintf(stderr, "socklab lesson: this build has no lesson runner (it comes with the visualizer's model)\n");
    return 1;
#else
    if (root.empty()) root = repository_root();
    if (positional.size() > 1) return usage_error("lesson", "one lesson number at a time");
    if (positional.empty()) return list_lessons(root);
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
            const bool ok = check_step(lesson, step, anchors, !static_only);
            steps_passed += ok;
            passed = passed && ok;
            std::fflush(stdout);
        }
        std::printf("\nLesson %d: %u of %u steps passed%s\n", lesson.number, steps_passed, steps,
                    static_only ? " (anchors only, nothing run)" : "");
        return passed ? 0 : 1;
    }

    std::printf("Lesson %d: %s\n", lesson.number, lesson.title.c_str());
    if (!lesson.introduction.empty()) std::printf("\n%s\n", lesson.introduction.c_str());
    for (const Step& step : lesson.steps) {
        if (only_step && step.number != static_cast<int>(only_step)) continue;
        print_step(lesson, step, anchors);
        if (!interactive()) continue;
        for (;;) {
            std::printf("\n[Enter: next step%s   q: quit] ", step.run.words.empty() ? "" : "   r: run this step's checks");
            std::fflush(stdout);
            std::string answer;
            if (!std::getline(std::cin, answer) || answer == "q") return 0;
            if (answer != "r" || step.run.words.empty()) break;
            check_step(lesson, step, anchors, true);
        }
    }
    std::printf("\nEnd of lesson %d. socklab lesson %d --check runs every step; socklab viz --lesson %d shows it.\n",
                lesson.number, lesson.number, lesson.number);
    return 0;
#endif
}

}  // namespace socklab::cli
