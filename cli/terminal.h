// cli/terminal.h — text that fits the terminal it is shown in.
//
// A classroom terminal is often 80 columns and 30 rows on a projector. What socklab prints there is laid out
// for the width it finds: prose re-flowed at word boundaries, a progress line that redraws in place, long
// output shown a screenful at a time. When the output is a pipe or a file, nothing waits for a key.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/table.h"

namespace socklab::cli {

// Columns to lay text out for: $COLUMNS when it holds a number, else the terminal's width (TIOCGWINSZ on
// Linux, the console buffer on Windows), else 80. A command's --width flag, where it has one, comes first.
int terminal_width();
// Rows of the terminal: $LINES, else the terminal's height, else 24.
int terminal_height();
// Whether this stream is a terminal (and not a pipe or a file).
bool is_terminal(std::FILE* stream);

// How many columns a UTF-8 string takes: one per character (every character the lessons use is one column
// wide; continuation bytes take none).
std::size_t display_width(const std::string& text);

// Words of text laid out in lines of at most width columns: the first line starts with first_indent, the
// others with next_indent. A word longer than a line is kept whole on its own line (it is not cut).
std::vector<std::string> wrap_words(const std::string& text, std::size_t width, const std::string& first_indent = "",
                                    const std::string& next_indent = "");

// Markdown re-flowed to width: the lines of a paragraph or of a list item are joined and wrapped again (a list
// item's continuation lines are indented under its text). Fenced code blocks, tables, headings and blank lines
// are kept as they are: code must not change, and a table row cannot be wrapped without breaking it. Blank
// lines between blocks become one (as Markdown renders them), and every line ends with a newline.
std::string reflow_markdown(const std::string& markdown, std::size_t width);

// A command's --help laid out for width: its prose paragraphs (lines that start at the margin, up to a blank
// line) re-flowed; an indented entry ("  --port VALUE        the port to listen on", "  serve <model>   run a
// model") wrapped with its further lines under its description, where the lines that continued it are joined
// to it first.
std::string fit_help(const std::string& help, std::size_t width);

// The progress of `socklab compare` as it is redrawn on a terminal: "\r" and then one line, padded with spaces
// to width - 1 columns so that it covers the previous one, and never longer (a line that reached the last
// column would wrap on some terminals, and every update would become a new line). For example, at 80:
//   "\r[#########           ] 3/8 iocp  12 s, 43,210 lines echoed      ..."
std::string progress_redraw(double fraction, std::size_t index, std::size_t count, const std::string& model,
                            const std::string& what, std::size_t width);
// What erases that line when the work is done: "\r", spaces, "\r".
std::string progress_clear(std::size_t width);

// A table for a terminal of this width: the Markdown table (cli/table.h) when its every line fits; otherwise
// one block a row, each cell on a line of its own under the row's first cell, which fits any width:
//   iocp
//     round trips/s    8293
//     p99 ms           11.0
std::string fit_table(const Table& table, std::size_t width);

// Shows text a screenful at a time on a terminal: after rows - 1 lines it waits for Enter (more) or q (quit).
// Lines longer than the terminal count for the rows they wrap to.
class Pager {
public:
    Pager(std::size_t width, std::size_t rows) : width_(width), rows_(rows < 3 ? 3 : rows) {}
    // Prints the text; false when the reader answered q (stop showing anything more).
    bool show(const std::string& text);
    // Asks a question on the last row and returns the answer ("" for Enter; "q" at the end of input too).
    std::string ask(const std::string& prompt);

private:
    std::size_t width_;
    std::size_t rows_;
    std::size_t rows_shown_ = 0;  // rows printed since the reader last answered
};

}  // namespace socklab::cli
