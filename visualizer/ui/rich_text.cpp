// visualizer/ui/rich_text.cpp — a lesson's text drawn as Markdown reads: see draw_lesson_text in panels.h.
//
// Dear ImGui wraps one text item at a time, in one colour. A paragraph with a code span in it is several items,
// so this file wraps itself: word by word, each word placed after the last (SameLine) while it fits the width,
// else at the start of the next line.
#include <cstring>

#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

namespace {

const ImVec4 kStrongColour(1.0f, 0.86f, 0.55f, 1.0f);
const ImVec4 kEmphasisColour(0.62f, 0.85f, 1.0f, 1.0f);
const ImVec4 kCodeColour(0.80f, 0.95f, 0.70f, 1.0f);
const ImU32 kCodeGround = IM_COL32(52, 56, 66, 255);

// Draws `text` as the next item, on a dark ground when it is code.
void draw_piece(const std::string& text, const TextRun& style) {
    if (style.code) {
        const ImVec2 at = ImGui::GetCursorScreenPos();
        const ImVec2 size = ImGui::CalcTextSize(text.c_str());
        ImGui::GetWindowDrawList()->AddRectFilled(at, ImVec2(at.x + size.x, at.y + size.y), kCodeGround, 2.0f);
    }
    const bool coloured = style.code || style.strong || style.emphasis;
    if (coloured)
        ImGui::PushStyleColor(ImGuiCol_Text, style.code ? kCodeColour : style.strong ? kStrongColour : kEmphasisColour);
    ImGui::TextUnformatted(text.c_str());
    if (coloured) ImGui::PopStyleColor();
}

// Runs as one paragraph from the cursor, wrapped at the right edge of the region; further lines start at the
// current indent. (Screen coordinates throughout: they need no correction for scrolling.)
void draw_text_runs(const std::vector<TextRun>& runs) {
    const float right = ImGui::GetCursorScreenPos().x + ImGui::GetContentRegionAvail().x;
    float line_end = 0;      // where the last piece on this line ended
    bool line_empty = true;  // nothing on this line yet: the next piece starts it
    for (const TextRun& run : runs) {
        const std::string text = plain_typography(run.text);
        for (std::size_t begin = 0; begin < text.size();) {
            if (text[begin] == '\n') {  // a hard break
                if (line_empty) ImGui::NewLine();
                line_empty = true;
                ++begin;
                continue;
            }
            // A word and the spaces after it; the word alone decides whether it still fits on this line.
            const std::size_t word_begin = line_empty ? text.find_first_not_of(' ', begin) : begin;
            if (word_begin == std::string::npos) break;
            std::size_t word_end = text.find_first_of(" \n", word_begin);
            if (word_end == std::string::npos) word_end = text.size();
            std::size_t piece_end = text.find_first_not_of(' ', word_end);
            if (piece_end == std::string::npos) piece_end = text.size();
            begin = piece_end;
            const std::string word = text.substr(word_begin, word_end - word_begin);
            if (!line_empty && line_end + ImGui::CalcTextSize(word.c_str()).x > right) {
                line_empty = true;  // wrap: this word starts the next line
                draw_piece(text.substr(word_begin, piece_end - word_begin), run);
            } else {
                if (!line_empty) ImGui::SameLine(0, 0);
                draw_piece(text.substr(word_begin, piece_end - word_begin), run);
            }
            line_end = ImGui::GetItemRectMax().x;
            line_empty = false;
        }
    }
    if (line_empty) ImGui::NewLine();
}

void draw_code_block(const TextBlock& block) {
    const std::string text = block.runs.empty() ? std::string() : block.runs.front().text;
    const ImVec2 at = ImGui::GetCursorScreenPos();
    const ImVec2 size = ImGui::CalcTextSize(text.c_str());
    const float pad = scaled(4);
    ImGui::GetWindowDrawList()->AddRectFilled(
        ImVec2(at.x, at.y), ImVec2(at.x + size.x + 2 * pad, at.y + size.y + 2 * pad), kCodeGround, 3.0f);
    ImGui::SetCursorScreenPos(ImVec2(at.x + pad, at.y + pad));
    ImGui::PushStyleColor(ImGuiCol_Text, kCodeColour);
    ImGui::TextUnformatted(text.c_str());  // code is never re-wrapped: a wrapped line of C++ reads as two
    ImGui::PopStyleColor();
    ImGui::SetCursorScreenPos(ImVec2(at.x, at.y + size.y + 2 * pad));
    ImGui::Dummy(ImVec2(0, 0));
}

// Table rows from `first` on (they are consecutive blocks); returns the index after the table.
std::size_t draw_table(const std::vector<TextBlock>& blocks, std::size_t first) {
    std::size_t end = first;
    std::size_t columns = 1;
    while (end < blocks.size() && blocks[end].kind == TextBlock::Kind::table_row) {
        columns = std::max(columns, blocks[end].cells.size());
        ++end;
    }
    const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp;
    if (ImGui::BeginTable(("lesson table " + std::to_string(first)).c_str(), static_cast<int>(columns), flags)) {
        for (std::size_t row = first; row < end; ++row) {
            ImGui::TableNextRow(blocks[row].header_row ? ImGuiTableRowFlags_Headers : 0);
            for (const std::vector<TextRun>& cell : blocks[row].cells) {
                ImGui::TableNextColumn();
                if (blocks[row].header_row) ImGui::PushStyleColor(ImGuiCol_Text, kStrongColour);
                draw_text_runs(cell);
                if (blocks[row].header_row) ImGui::PopStyleColor();
            }
        }
        ImGui::EndTable();
    }
    return end;
}

}  // namespace

std::string plain_typography(const std::string& text) {
    // Punctuation the UI font's glyph ranges leave out, as the nearest ASCII.
    static const std::pair<const char*, const char*> kPlain[] = {{"\u2014", "-"},   {"\u2013", "-"},  {"\u2019", "'"},
                                                                 {"\u2018", "'"},   {"\u201c", "\""}, {"\u201d", "\""},
                                                                 {"\u2026", "..."}, {"\u2192", "->"}};
    std::string plain = text;
    for (const auto& [fancy, simple] : kPlain)
        for (std::size_t at; (at = plain.find(fancy)) != std::string::npos;)
            plain.replace(at, std::strlen(fancy), simple);
    return plain;
}

void draw_lesson_text(const std::vector<TextBlock>& blocks, ImFont* heading_font) {
    for (std::size_t i = 0; i < blocks.size();) {
        const TextBlock& block = blocks[i];
        if (i > 0) ImGui::Spacing();
        switch (block.kind) {
            case TextBlock::Kind::paragraph:
                draw_text_runs(block.runs);
                break;
            case TextBlock::Kind::heading:
                if (heading_font) ImGui::PushFont(heading_font);
                ImGui::PushStyleColor(ImGuiCol_Text, kStrongColour);
                draw_text_runs(block.runs);
                ImGui::PopStyleColor();
                if (heading_font) ImGui::PopFont();
                break;
            case TextBlock::Kind::list_item: {
                const float indent = scaled(14) * static_cast<float>(block.depth - 1);
                if (indent > 0) ImGui::Indent(indent);
                ImGui::TextUnformatted(block.marker.c_str());
                ImGui::SameLine();
                const float text_indent = ImGui::GetCursorPosX() - ImGui::GetStyle().WindowPadding.x - indent;
                ImGui::Indent(text_indent);  // the item's further lines under its first word, not its marker
                draw_text_runs(block.runs);
                ImGui::Unindent(text_indent);
                if (indent > 0) ImGui::Unindent(indent);
                break;
            }
            case TextBlock::Kind::code_block:
                draw_code_block(block);
                break;
            case TextBlock::Kind::table_row:
                i = draw_table(blocks, i);
                continue;
            case TextBlock::Kind::rule:
                ImGui::Separator();
                break;
        }
        ++i;
    }
}

}  // namespace socklab::viz::ui
