// tests/cli/lesson_text_test.cpp — `socklab lesson` as text for a terminal (cli/lesson.h), from a lesson and a
// source tree made up here: a step's heading, prose re-flowed to the width, the anchored code quoted as it is
// (never wrapped), what to run and check; the list of lessons in columns or in two lines; a check's result line.
#include <string>
#include <vector>

#include "cli/lesson.h"
#include "tests/catch.hpp"

namespace cli = socklab::cli;
namespace lessons = socklab::lessons;

namespace {

const char* const kLesson =
    "# I/O completion ports\n"
    "\n"
    "One port, many workers.\n"
    "\n"
    "## Step 1: Wait on the port\n"
    "\n"
    "Every worker waits in the same call, and the port decides which of them runs when a packet comes in for\n"
    "a socket.\n"
    "\n"
    "```socklab\n"
    "show iocp:wait\n"
    "```\n"
    "\n"
    "## Step 2: See it live\n"
    "\n"
    "```socklab\n"
    "run live iocp --workers 4\n"
    "connect 4\n"
    "send hello\n"
    "expect echo\n"
    "```\n";

const char* const kSource =
    "void worker() {\n"
    "    for (;;) {\n"
    "        BOOL ok = GetQueuedCompletionStatus(port, &bytes, &key, &overlapped, INFINITE);  // LESSON: wait\n"
    "    }\n"
    "}\n";

lessons::AnchorIndex anchors() {
    lessons::AnchorIndex index;
    index.add_file("models/06_iocp.cpp", kSource);
    return index;
}

}  // namespace

TEST_CASE("lesson text: a step reads as heading, re-flowed prose, then the anchored code whole") {
    const lessons::Lesson lesson = lessons::parse_lesson(kLesson, "lessons/07-iocp.md");
    REQUIRE(lesson.parsed());
    REQUIRE(lesson.steps.size() == 2);
    const lessons::AnchorIndex index = anchors();
    const std::string text = cli::step_text(lesson, lesson.steps[0], index, 60);
    CHECK(text ==
          "\n== Lesson 7, step 1 of 2: Wait on the port ==\n"
          "\n"
          "Every worker waits in the same call, and the port decides\n"
          "which of them runs when a packet comes in for a socket.\n"
          "\nRead:\n"
          "  -- iocp:wait (models/06_iocp.cpp:3)\n"
          "      3          BOOL ok = GetQueuedCompletionStatus(port, &bytes, &key, &overlapped, INFINITE);  "
          "// LESSON: wait\n");
}

TEST_CASE("lesson text: a live step says what runs and what is checked; a missing anchor says so in place") {
    const lessons::Lesson lesson = lessons::parse_lesson(kLesson, "lessons/07-iocp.md");
    const std::string live = cli::step_text(lesson, lesson.steps.at(1), anchors(), 80);
#ifdef _WIN32
    const std::string where = "";  // a Windows model on Windows: nothing worth saying
#else
    const std::string where = " (under Wine)";
#endif
    CHECK(live ==
          "\n== Lesson 7, step 2 of 2: See it live ==\n"
          "\nRun, live: socklab serve iocp --workers 4" +
              where +
              ", then\n"
              "  connect 4\n"
              "  send hello\n"
              "\nChecks:\n"
              "  expect echo\n");
    const std::string missing = cli::step_text(lesson, lesson.steps.at(0), lessons::AnchorIndex(), 80);
    CHECK(missing.find("\nRead:\n  [anchor 'iocp:wait' not found") != std::string::npos);
}

TEST_CASE("lesson text: a check is one line when piped, its detail under it on a narrow terminal") {
    CHECK(cli::check_line(true, "show iocp:wait", "models/06_iocp.cpp:3-3", 40, true) ==
          "  met      show iocp:wait                             models/06_iocp.cpp:3-3\n");
    CHECK(cli::check_line(false, "expect echo", "client 2 got nothing", 200, false) ==
          "  NOT MET  expect echo                                client 2 got nothing\n");
    CHECK(cli::check_line(false, "expect echo", "client 2 got nothing back within the time allowed", 50, false) ==
          "  NOT MET  expect echo\n"
          "           client 2 got nothing back within the\n"
          "           time allowed\n");
}

TEST_CASE("lesson text: the list has a line a lesson in columns, or two when the width is short") {
    const lessons::Lesson intro = lessons::parse_lesson(
        "# Introduction\n\n## Step 1: Hello\n\n```socklab\nshow iocp:wait\n```\n", "x/lessons/00-introduction.md");
    const lessons::Lesson iocp = lessons::parse_lesson(kLesson, "x/lessons/07-iocp.md");
    const lessons::Lesson broken = lessons::parse_lesson(
        "# Broken\n\n## Step 2: Out of order\n\n```socklab\nshow iocp:wait\n```\n", "x/lessons/03-broken.md");
    INFO((intro.errors.empty() ? "" : intro.errors.front()));
    REQUIRE(intro.parsed());
    REQUIRE_FALSE(broken.parsed());
    CHECK(cli::lesson_list({intro, iocp}, 100) ==
          "The lessons, in reading order (socklab lesson N reads one; --check runs its checks):\n"
          "\n"
          "   0  Introduction            1 steps  lessons/00-introduction.md\n"
          "   7  I/O completion ports    2 steps  lessons/07-iocp.md\n");
    const std::string narrow = cli::lesson_list({intro, broken}, 40);
    CHECK(narrow.find("\n   0  Introduction\n      1 steps, lessons/00-introduction.md\n") != std::string::npos);
    CHECK(narrow.find("\n   3  Broken\n      1 steps, lessons/03-broken.md\n"
                      "      (does not parse: socklab lesson N\n"
                      "      --check says why)\n") != std::string::npos);
}
