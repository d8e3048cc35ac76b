// cli/lesson.h — `socklab lesson`: what it reads from its command line, and the text it lays out for a
// terminal (lesson.cpp runs it; the lessons themselves are visualizer/model/lesson.h and lesson_run.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/flags.h"

#ifdef SOCKLAB_HAVE_LESSONS
#include "visualizer/model/lesson.h"
#endif

namespace socklab::cli {

struct LessonRequest {
    int number = -1;              // the lesson to read or check; -1: list the lessons
    bool check = false;           // run every step and decide its checks
    bool static_only = false;     // with check: only parse and resolve anchors
    std::uint64_t only_step = 0;  // 0: every step
    std::uint64_t width = 0;      // 0: the terminal's
    std::string root;             // "": the checkout (repository_root())
};

// [N] and the flags. Prints nothing: --help and a wrong use are the EarlyExit, with the message a user sees. A
// build without the lesson runner stops here too (exit code 1).
Parsed<LessonRequest> parse_lesson_command(const Arguments& arguments);

#ifdef SOCKLAB_HAVE_LESSONS
// The lessons in reading order, one line each in columns when that fits the width ("   7  I/O completion ports
// 9 steps  lessons/07-iocp.md"), else two: the title, and under it the steps and the file.
std::string lesson_list(const std::vector<lessons::Lesson>& lessons, std::size_t width);

// One step as it reads in a terminal of this width: its heading, its prose re-flowed, the code its anchors quote
// (never wrapped), what to run and what to check.
std::string step_text(const lessons::Lesson& lesson, const lessons::Step& step, const lessons::AnchorIndex& anchors,
                      std::size_t width);

// A check's result: "  met      show iocp:wait                             models/06_iocp.cpp:120-131". With
// one_line false (a terminal), the detail goes on lines of its own, indented, when the three do not fit the width;
// piped, a check stays one line, for grep.
std::string check_line(bool met, const std::string& text, const std::string& detail, std::size_t width, bool one_line);
#endif

}  // namespace socklab::cli
