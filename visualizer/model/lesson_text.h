// visualizer/model/lesson_text.h — a lesson's Markdown as blocks of styled text, for the lesson panel to draw.
//
// md4c parses (CommonMark with tables); this file keeps what a lesson uses — paragraphs, headings, list items,
// code blocks, table rows, rules — and within them runs of text that are plain, emphasised, strong or code.
// No ImGui here: visualizer/ui/rich_text.cpp lays the runs out and wraps them.
#pragma once

#include <string>
#include <vector>

namespace socklab::viz {

struct TextRun {
    std::string text;
    bool emphasis = false;  // *text*
    bool strong = false;    // **text**
    bool code = false;      // `text`
};

struct TextBlock {
    enum class Kind { paragraph, heading, list_item, code_block, table_row, rule };
    Kind kind = Kind::paragraph;
    int depth = 0;                            // heading: its level (1..6); list item: its nesting (1 = top level)
    std::string marker;                       // list item: "•" or "3."
    bool header_row = false;                  // table row: the table's header
    std::vector<TextRun> runs;                // paragraph, heading, list item; a code block: one run, lines and all
    std::vector<std::vector<TextRun>> cells;  // table row: each cell's runs
};

// The blocks of a Markdown text, in order. Soft line breaks become spaces (a paragraph is re-flowed to the
// panel's width); text md4c cannot place (raw HTML) is kept as plain text, so nothing written is lost.
std::vector<TextBlock> parse_lesson_text(const std::string& markdown);

}  // namespace socklab::viz
