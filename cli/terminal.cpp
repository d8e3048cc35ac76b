// cli/terminal.cpp — see terminal.h.
#include "cli/terminal.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <sstream>

#ifdef _WIN32
// The console's size and whether a stream is a console have no portable call: Windows asks the console.
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <io.h>
#include <windows.h>
#else
#include <sys/ioctl.h>
#include <unistd.h>
#endif

namespace socklab::cli {

namespace {

// A positive number from the environment, or 0.
int from_environment(const char* name) {
    const char* text = std::getenv(name);
    if (!text || !*text) return 0;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    return (*end == '\0' && value > 0 && value < 10000) ? static_cast<int>(value) : 0;
}

// The terminal's size in columns and rows, or 0 and 0 when no standard stream is a terminal. Standard output
// is asked first; when it is piped, standard error or input can still be the terminal the person looks at.
void terminal_size(int& columns, int& rows) {
    columns = rows = 0;
#ifdef _WIN32
    CONSOLE_SCREEN_BUFFER_INFO info;
    for (DWORD which : {STD_OUTPUT_HANDLE, STD_ERROR_HANDLE})
        if (GetConsoleScreenBufferInfo(GetStdHandle(which), &info)) {
            columns = info.srWindow.Right - info.srWindow.Left + 1;
            rows = info.srWindow.Bottom - info.srWindow.Top + 1;
            return;
        }
#else
    winsize size{};
    for (int descriptor : {STDOUT_FILENO, STDERR_FILENO, STDIN_FILENO})
        if (ioctl(descriptor, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
            columns = size.ws_col;
            rows = size.ws_row;
            return;
        }
#endif
}

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The longest start of text that takes at most columns columns, cut between characters, never inside one.
std::string first_columns(const std::string& text, std::size_t columns) {
    std::size_t taken = 0, end = 0;
    for (; end < text.size(); ++end) {
        if (is_continuation_byte(text[end])) continue;
        if (taken == columns) break;
        ++taken;
    }
    return text.substr(0, end);
}

std::string leading_spaces(const std::string& line) { return line.substr(0, line.find_first_not_of(' ')); }

bool is_blank(const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

// "- ", "* ", "+ " or "12. " after the indentation: the marker and its space, or "" when the line is no list item.
std::string list_marker(const std::string& line) {
    std::size_t at = line.find_first_not_of(' ');
    if (at == std::string::npos) return "";
    std::size_t end = at;
    if (line[at] == '-' || line[at] == '*' || line[at] == '+') {
        end = at + 1;
    } else {
        while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end]))) ++end;
        if (end == at || end >= line.size() || line[end] != '.') return "";
        ++end;
    }
    if (end >= line.size() || line[end] != ' ') return "";
    return line.substr(0, end + 1);
}

}  // namespace

int terminal_width() {
    if (int columns = from_environment("COLUMNS")) return columns;
    int columns = 0, rows = 0;
    terminal_size(columns, rows);
    return columns > 0 ? columns : 80;
}

int terminal_height() {
    if (int rows = from_environment("LINES")) return rows;
    int columns = 0, rows = 0;
    terminal_size(columns, rows);
    return rows > 0 ? rows : 24;
}

bool is_terminal(std::FILE* stream) {
#ifdef _WIN32
    // _isatty is true for any character device, the NUL device too: a console is what answers GetConsoleMode.
    const int descriptor = _fileno(stream);
    DWORD mode = 0;
    return _isatty(descriptor) != 0 && GetConsoleMode(reinterpret_cast<HANDLE>(_get_osfhandle(descriptor)), &mode) != 0;
#else
    return isatty(fileno(stream)) != 0;
#endif
}

std::size_t display_width(const std::string& text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return !is_continuation_byte(c); }));
}

std::vector<std::string> wrap_words(const std::string& text, std::size_t width, const std::string& first_indent,
                                    const std::string& next_indent) {
    std::vector<std::string> lines;
    std::string line = first_indent;
    std::size_t used = display_width(first_indent);
    bool line_has_word = false;
    std::istringstream words(text);
    for (std::string word; words >> word;) {
        const std::size_t length = display_width(word);
        if (line_has_word && used + 1 + length > width) {
            lines.push_back(line);
            line = next_indent;
            used = display_width(next_indent);
            line_has_word = false;
        }
        if (line_has_word) line += ' ', ++used;
        line += word;
        used += length;
        line_has_word = true;
    }
    if (line_has_word || lines.empty()) lines.push_back(line);
    return lines;
}

std::string reflow_markdown(const std::string& markdown, std::size_t width) {
    std::string out;
    std::string paragraph, first_indent, next_indent;  // the paragraph being gathered, and how to indent it
    auto flush = [&] {
        if (paragraph.empty()) return;
        for (const std::string& line : wrap_words(paragraph, width, first_indent, next_indent)) out += line + "\n";
        paragraph.clear();
    };
    bool in_code = false;
    std::istringstream in(markdown);
    for (std::string line; std::getline(in, line);) {
        const std::string trimmed = line.substr(std::min(line.size(), leading_spaces(line).size()));
        const bool fence = trimmed.rfind("```", 0) == 0 || trimmed.rfind("~~~", 0) == 0;
        if (in_code || fence) {  // code is printed exactly as written
            flush();
            out += line + "\n";
            if (fence) in_code = !in_code;
            continue;
        }
        if (is_blank(line)) {  // one blank line between blocks, however many the Markdown has (as it renders)
            flush();
            const bool after_blank = out.size() >= 2 && out.compare(out.size() - 2, 2, "\n\n") == 0;
            if (!out.empty() && !after_blank) out += "\n";
            continue;
        }
        const bool kept_as_is = trimmed[0] == '|' || trimmed[0] == '#' ||
                                (paragraph.empty() && leading_spaces(line).size() >= 4);  // an indented code block
        if (kept_as_is) {
            flush();
            out += line + "\n";
            continue;
        }
        if (const std::string marker = list_marker(line); !marker.empty()) {
            flush();
            first_indent = marker;  // "- " or "1. ": the item's further lines line up under its text
            next_indent = std::string(display_width(marker), ' ');
            paragraph = line.substr(marker.size());
            continue;
        }
        if (paragraph.empty()) first_indent = next_indent = leading_spaces(line);
        paragraph += (paragraph.empty() ? "" : " ") + trimmed;
    }
    flush();
    // Every line ends with a newline, the last one too; blank lines at the end are dropped.
    while (out.size() >= 2 && out.compare(out.size() - 2, 2, "\n\n") == 0) out.pop_back();
    return out;
}

std::string fit_help(const std::string& help, std::size_t width) {
    std::string out;
    std::string paragraph;         // prose lines gathered
    std::string entry;             // an entry's description gathered
    std::string entry_head;        // what comes before its description: indentation, name, spaces
    std::size_t entry_column = 0;  // where its description starts in the help as written
    auto flush = [&] {
        if (!paragraph.empty())
            for (const std::string& line : wrap_words(paragraph, width)) out += line + "\n";
        if (!entry_head.empty())
            for (const std::string& line :
                 wrap_words(entry, width, entry_head, std::string(display_width(entry_head), ' ')))
                out += line + "\n";
        paragraph.clear();
        entry.clear();
        entry_head.clear();
    };
    std::istringstream in(help);
    for (std::string line; std::getline(in, line);) {
        if (is_blank(line)) {
            flush();
            out += "\n";
            continue;
        }
        const std::size_t text_at = line.find_first_not_of(' ');
        if (text_at == 0) {  // prose
            if (!entry_head.empty()) flush();
            paragraph += (paragraph.empty() ? "" : " ") + line;
            continue;
        }
        if (!entry_head.empty() && text_at == entry_column) {  // the entry's description goes on
            entry += " " + line.substr(text_at);
            continue;
        }
        flush();
        // The description starts after the first gap of two spaces that follows the name; an entry without one
        // is all description.
        const std::size_t gap = line.find("  ", text_at);
        const std::size_t description_at = gap == std::string::npos ? text_at : line.find_first_not_of(' ', gap);
        entry_head = line.substr(0, description_at);
        entry_column = description_at;
        entry = line.substr(description_at);
        if (display_width(entry_head) > width / 2) {  // too little room beside it: the description goes below
            out += entry_head.substr(0, entry_head.find_last_not_of(' ') + 1) + "\n";
            entry_head = std::string(text_at + 4, ' ');
        }
    }
    flush();
    if (!help.empty() && help.back() != '\n' && !out.empty()) out.pop_back();
    return out;
}

std::string progress_redraw(double fraction, std::size_t index, std::size_t count, const std::string& model,
                            const std::string& what, std::size_t width) {
    const std::size_t columns = width > 20 ? width - 1 : 19;  // never the last column: see terminal.h
    const std::size_t bar = std::clamp<std::size_t>(columns / 4, 10, 30);
    const std::size_t filled = static_cast<std::size_t>(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(bar));
    std::string line = "[" + std::string(filled, '#') + std::string(bar - filled, ' ') + "] " +
                       std::to_string(index + 1) + "/" + std::to_string(count) + " " + model + "  " + what;
    line = first_columns(line, columns);
    line += std::string(columns - display_width(line), ' ');
    return "\r" + line;
}

std::string progress_clear(std::size_t width) { return "\r" + std::string(width > 20 ? width - 1 : 19, ' ') + "\r"; }

std::string fit_table(const Table& table, std::size_t width) {
    const std::string markdown = render(table, "md");
    std::istringstream lines(markdown);
    bool fits = true;
    for (std::string line; fits && std::getline(lines, line);) fits = display_width(line) <= width;
    if (fits) return markdown;

    std::string out;
    for (const std::string& line : wrap_words("## " + table.title, width, "", "   ")) out += line + "\n";
    // The labels in a column of their own, as wide as the widest, unless that leaves the values under a third
    // of the width.
    std::size_t label_columns = 0;
    for (std::size_t c = 1; c < table.columns.size(); ++c)
        label_columns = std::max(label_columns, display_width(table.columns[c].label));
    label_columns = std::min(label_columns, width * 2 / 3 > 4 ? width * 2 / 3 - 4 : 0);
    for (const auto& row : table.rows) {
        out += "\n" + (row.empty() ? std::string() : row[0]) + "\n";
        for (std::size_t c = 1; c < row.size() && c < table.columns.size(); ++c) {
            std::string label = "  " + table.columns[c].label;
            label += std::string(
                label_columns + 4 > display_width(label) ? label_columns + 4 - display_width(label) : 1, ' ');
            for (const std::string& line :
                 wrap_words(row[c].empty() ? "-" : row[c], width, label, std::string(display_width(label), ' ')))
                out += line + "\n";
        }
    }
    for (const std::string& note : table.notes) {
        out += "\n";
        for (const std::string& line : wrap_words(note, width)) out += line + "\n";
    }
    return out;
}

bool Pager::show(const std::string& text) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        const std::size_t rows = std::max<std::size_t>(1, (display_width(line) + width_ - 1) / width_);
        if (rows_shown_ > 0 && rows_shown_ + rows > rows_ - 1 && ask("-- more: Enter, q quits --") == "q") return false;
        std::fputs((line + "\n").c_str(), stdout);
        rows_shown_ += rows;
    }
    std::fflush(stdout);
    return true;
}

std::string Pager::ask(const std::string& prompt) {
    std::fputs(prompt.c_str(), stdout);
    std::fflush(stdout);
    std::string answer;
    if (!std::getline(std::cin, answer)) return "q";
#ifndef _WIN32
    // Up one row to the prompt and erase it (VT100 sequences, which terminals on Linux understand): the page
    // goes on where the prompt was, and the scrollback holds the text without the prompts between. Not on
    // Windows, whose console prints them as text unless a program turns its VT mode on: there the prompt stays.
    std::fputs("\x1b[A\r\x1b[K", stdout);
#endif
    rows_shown_ = 0;
    return answer;
}

}  // namespace socklab::cli
