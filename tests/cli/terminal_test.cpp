// tests/cli/terminal_test.cpp — socklab in an 80-column terminal, as a user would notice it: lesson text that
// fits the width (only code may be wider), no pager prompt when piped, a progress line that fits and redraws
// in place, a table that fits or switches to a narrow layout.
#define CATCH_CONFIG_MAIN  // this file holds the test program's main(); the other files of cli-tests do not
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/table.h"
#include "cli/terminal.h"
#include "tests/catch.hpp"
#include "tests/cli/output_of.h"

namespace cli = socklab::cli;
using cli::display_width;

namespace {

using cli_tests::output_of;

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// Every line of the sources a lesson can quote (models/, common/, lessons/), without leading spaces: a printed
// line wider than the terminal must be one of these — code, which is never wrapped.
std::set<std::string> source_lines() {
    std::set<std::string> lines;
    for (const char* folder : {"models", "common", "lessons"})
        for (const auto& entry :
             std::filesystem::recursive_directory_iterator(std::string(SOCKLAB_SOURCE_DIR) + "/" + folder)) {
            if (!entry.is_regular_file()) continue;
            std::ifstream in(entry.path());
            for (std::string line; std::getline(in, line);)
                lines.insert(line.substr(std::min(line.size(), line.find_first_not_of(' '))));
        }
    return lines;
}

// A quoted line of code without the indentation and line number the lesson reader puts before it
// ("    434      server.port = ..."), and without its own indentation.
std::string without_line_number(const std::string& line) {
    std::size_t at = line.find_first_not_of(' ');
    if (at == std::string::npos) return "";
    const std::size_t digits_end = line.find_first_not_of("0123456789", at);
    if (digits_end != at && digits_end != std::string::npos && line[digits_end] == ' ') at = digits_end;
    at = line.find_first_not_of(' ', at);
    return at == std::string::npos ? "" : line.substr(at);
}

// Every line of the output fits the width, or is a line of code as it is in its source.
void require_fits(const std::string& output, std::size_t width, const std::set<std::string>& code) {
    for (const std::string& line : lines_of(output)) {
        if (display_width(line) <= width) continue;
        INFO("a line of " << display_width(line) << " columns: " << line);
        REQUIRE(code.count(without_line_number(line)) == 1);
    }
}

std::string socklab_program() { return std::string("'") + SOCKLAB_CLI + "'"; }

}  // namespace

TEST_CASE("wrap_words fits lines to the width and keeps words whole and indents as asked") {
    const auto lines = cli::wrap_words("one two three — four five six seven", 12, "- ", "  ");
    REQUIRE(lines == std::vector<std::string>{"- one two", "  three —", "  four five", "  six seven"});
    REQUIRE(cli::wrap_words("a_word_longer_than_the_line", 10) ==
            std::vector<std::string>{"a_word_longer_than_the_line"});
}

TEST_CASE("reflow_markdown re-flows paragraphs and list items and keeps code and tables exactly") {
    const std::string markdown =
        "A paragraph that was wrapped at a wide column by its author, so that at a narrow width every line\n"
        "would break in the middle of a word.\n"
        "\n"
        "```cpp\n"
        "if (GetQueuedCompletionStatus(port, &bytes, &key, &overlapped, INFINITE)) { handle(key, overlapped); }\n"
        "```\n"
        "\n"
        "| model | waits on a long description of what it waits on, longer than the width |\n"
        "|---|---|\n"
        "\n"
        "- a list item that goes on and on past the width of the terminal it is shown in\n"
        "  and continues here\n";
    const std::string flowed = cli::reflow_markdown(markdown, 40);
    for (const std::string& line : lines_of(flowed)) {
        if (line.rfind("if (", 0) == 0 || line.rfind("|", 0) == 0) continue;
        INFO(line);
        REQUIRE(display_width(line) <= 40);
    }
    REQUIRE(
        flowed.find("```cpp\nif (GetQueuedCompletionStatus(port, &bytes, &key, &overlapped, INFINITE)) { handle(key, "
                    "overlapped); }\n```\n") != std::string::npos);
    REQUIRE(flowed.find(
                "| model | waits on a long description of what it waits on, longer than the width |\n|---|---|\n") !=
            std::string::npos);
    REQUIRE(flowed.find("- a list item that goes on and on past\n  the width") != std::string::npos);
    REQUIRE(flowed.find("every line would") != std::string::npos);  // the author's line break is gone
}

TEST_CASE("the progress line fits 80 columns and redraws in place") {
    for (std::size_t width : {40u, 80u, 200u}) {
        const std::string redraw = cli::progress_redraw(
            0.5, 6, 8, "completion-routine", "1000 clients, 123456 lines echoed, 0 errors so far — steady", width);
        INFO("width " << width << ": " << redraw);
        REQUIRE(redraw.front() == '\r');                        // back to the start of the same line
        REQUIRE(redraw.find('\n') == std::string::npos);        // never a new line
        REQUIRE(display_width(redraw.substr(1)) == width - 1);  // covers the last update, never wraps
        REQUIRE(redraw.find("7/8 completion-routine") != std::string::npos);
    }
    REQUIRE(cli::progress_redraw(0, 0, 1, "iocp", "starting under Wine", 80).find("[          ") == 1);
    REQUIRE(cli::progress_clear(80) == "\r" + std::string(79, ' ') + "\r");
}

TEST_CASE("a table fits the terminal or switches to one block a row") {
    cli::Table table;
    table.title = "Echo: 64 clients closed loop, 64-byte lines, 5 s each; measured under Wine 8.0";
    table.columns = {{"model", "model"},     {"rt", "round trips/s"},   {"p50", "p50 ms"}, {"p99", "p99 ms"},
                     {"threads", "threads"}, {"ws", "working set MiB"}, {"cpu", "CPU s"},  {"errors", "wrong or lost"}};
    table.rows = {{"completion-routine", "2906", "20.1", "29.4", "3", "12.5", "9.8", "0"},
                  {"iocp", "8293", "7.0", "11.0", "6", "13.1", "10.0", "0"}};
    table.notes = {
        "Under Wine every overlapped call is a round trip to wineserver: compare the models with each other."};
    const std::string narrow = cli::fit_table(table, 80);
    for (const std::string& line : lines_of(narrow)) {
        INFO(line);
        REQUIRE(display_width(line) <= 80);
    }
    REQUIRE(narrow.find("iocp\n") != std::string::npos);
    REQUIRE(narrow.find("round trips/s") != std::string::npos);
    REQUIRE(narrow.find("8293") != std::string::npos);
    // Wide enough: the Markdown table itself, unchanged.
    REQUIRE(cli::fit_table(table, 400) == cli::render(table, "md"));
}

TEST_CASE("socklab lesson at 80 columns has only code wider and no pager prompt when piped") {
    const std::set<std::string> code = source_lines();
    for (int lesson = 0; lesson <= 9; ++lesson) {
        const std::string output =
            output_of(socklab_program() + " lesson " + std::to_string(lesson) + " --width 80 </dev/null");
        REQUIRE(output.find("== Lesson " + std::to_string(lesson)) != std::string::npos);
        REQUIRE(output.find("[Enter") == std::string::npos);
        REQUIRE(output.find("-- more") == std::string::npos);
        INFO("lesson " << lesson);
        require_fits(output, 80, code);
    }
    // COLUMNS is the width when --width is not given; the list of lessons fits too.
    require_fits(output_of("COLUMNS=60 " + socklab_program() + " lesson 7 </dev/null"), 60, code);
    const std::string list = output_of(socklab_program() + " lesson --width 80");
    REQUIRE(list.find("I/O completion ports") != std::string::npos);
    require_fits(list, 80, {});
}

TEST_CASE("the help of socklab and of every command it answers itself fits 80 columns") {
    // (socklab serve --help is socklab-server's own, under Wine: not laid out here.)
    for (const char* command : {"", "connect", "load", "demo", "compare", "report", "lesson"}) {
        const std::string help = output_of("COLUMNS=80 " + socklab_program() + " " + command + " --help");
        INFO("socklab " << command << " --help");
        REQUIRE(help.find("usage: socklab") == 0);
        require_fits(help, 80, {});
    }
    const std::string help = cli::fit_help(
        "usage: x\n\nA paragraph that was broken by hand\nat no particular width.\n\n"
        "  --name VALUE        what it does, at a length that does not fit in forty\n"
        "                      columns, continued\n",
        50);
    REQUIRE(help ==
            "usage: x\n\nA paragraph that was broken by hand at no\nparticular width.\n\n"
            "  --name VALUE        what it does, at a length\n                      that does not fit in forty\n"
            "                      columns, continued\n");
}
