// visualizer/model/lesson_text.cpp — see lesson_text.h. md4c calls us back as it enters and leaves blocks and
// spans; we keep a stack of the open lists and the style of the text being read.
#include "visualizer/model/lesson_text.h"

#include <md4c.h>

namespace socklab::viz {

namespace {

struct Builder {
    std::vector<TextBlock> blocks;
    struct OpenList {
        bool ordered;
        unsigned next;  // the next item's number (ordered lists)
    };
    std::vector<OpenList> lists;
    int emphasis = 0, strong = 0, code = 0;  // open spans
    bool in_cell = false;
    bool in_head = false;          // inside a table's header (THEAD)
    TextBlock* current = nullptr;  // the block text goes to, or null between blocks

    void open(TextBlock block) {
        blocks.push_back(std::move(block));
        current = &blocks.back();
    }

    std::vector<TextRun>& runs() {
        return current->kind == TextBlock::Kind::table_row ? current->cells.back() : current->runs;
    }

    void add_text(const std::string& text) {
        if (!current) open(TextBlock{});  // text outside any block md4c reports (defensive): a paragraph
        std::vector<TextRun>& into = runs();
        const TextRun style{{}, emphasis > 0, strong > 0, code > 0};
        if (!into.empty() && into.back().emphasis == style.emphasis && into.back().strong == style.strong &&
            into.back().code == style.code) {
            into.back().text += text;
        } else {
            into.push_back(style);
            into.back().text = text;
        }
    }
};

std::string decoded_entity(const std::string& entity) {
    if (entity == "&amp;") return "&";
    if (entity == "&lt;") return "<";
    if (entity == "&gt;") return ">";
    if (entity == "&quot;") return "\"";
    if (entity == "&nbsp;") return " ";
    return entity;  // written out as it stands: better than a wrong character
}

int enter_block(MD_BLOCKTYPE type, void* detail, void* user) {
    Builder& b = *static_cast<Builder*>(user);
    switch (type) {
        case MD_BLOCK_UL:
            b.lists.push_back({false, 0});
            break;
        case MD_BLOCK_OL:
            b.lists.push_back({true, static_cast<MD_BLOCK_OL_DETAIL*>(detail)->start});
            break;
        case MD_BLOCK_LI: {
            TextBlock item;
            item.kind = TextBlock::Kind::list_item;
            item.depth = static_cast<int>(b.lists.size());
            Builder::OpenList& list = b.lists.back();
            item.marker = list.ordered ? std::to_string(list.next++) + "." : "\u2022";
            b.open(std::move(item));
            break;
        }
        case MD_BLOCK_P:
            // A loose list's item holds its text in a paragraph: the first one is the item's own line.
            if (b.current && b.current->kind == TextBlock::Kind::list_item && b.current->runs.empty()) break;
            if (b.in_cell) break;
            b.open(TextBlock{});
            break;
        case MD_BLOCK_H: {
            TextBlock heading;
            heading.kind = TextBlock::Kind::heading;
            heading.depth = static_cast<int>(static_cast<MD_BLOCK_H_DETAIL*>(detail)->level);
            b.open(std::move(heading));
            break;
        }
        case MD_BLOCK_CODE: {
            TextBlock code;
            code.kind = TextBlock::Kind::code_block;
            b.open(std::move(code));
            ++b.code;
            break;
        }
        case MD_BLOCK_HR: {
            TextBlock rule;
            rule.kind = TextBlock::Kind::rule;
            b.open(std::move(rule));
            b.current = nullptr;
            break;
        }
        case MD_BLOCK_THEAD:
            b.in_head = true;
            break;
        case MD_BLOCK_TR: {
            TextBlock row;
            row.kind = TextBlock::Kind::table_row;
            row.header_row = b.in_head;
            b.open(std::move(row));
            break;
        }
        case MD_BLOCK_TH:
        case MD_BLOCK_TD:
            b.current->cells.emplace_back();
            b.in_cell = true;
            break;
        default:
            break;  // DOC, QUOTE, TABLE, TBODY, HTML: their contents arrive as blocks and text of their own
    }
    return 0;
}

int leave_block(MD_BLOCKTYPE type, void*, void* user) {
    Builder& b = *static_cast<Builder*>(user);
    switch (type) {
        case MD_BLOCK_UL:
        case MD_BLOCK_OL:
            b.lists.pop_back();
            break;
        case MD_BLOCK_CODE:
            --b.code;
            b.current = nullptr;
            break;
        case MD_BLOCK_TH:
        case MD_BLOCK_TD:
            b.in_cell = false;
            break;
        case MD_BLOCK_THEAD:
            b.in_head = false;
            break;
        case MD_BLOCK_P:
            if (b.in_cell) break;
            b.current = nullptr;
            break;
        case MD_BLOCK_LI:
        case MD_BLOCK_H:
        case MD_BLOCK_TR:
            b.current = nullptr;
            break;
        default:
            break;
    }
    return 0;
}

int enter_span(MD_SPANTYPE type, void*, void* user) {
    Builder& b = *static_cast<Builder*>(user);
    if (type == MD_SPAN_EM) ++b.emphasis;
    if (type == MD_SPAN_STRONG) ++b.strong;
    if (type == MD_SPAN_CODE) ++b.code;
    return 0;
}

int leave_span(MD_SPANTYPE type, void*, void* user) {
    Builder& b = *static_cast<Builder*>(user);
    if (type == MD_SPAN_EM) --b.emphasis;
    if (type == MD_SPAN_STRONG) --b.strong;
    if (type == MD_SPAN_CODE) --b.code;
    return 0;
}

int text(MD_TEXTTYPE type, const MD_CHAR* data, MD_SIZE size, void* user) {
    Builder& b = *static_cast<Builder*>(user);
    const std::string piece(data, size);
    switch (type) {
        case MD_TEXT_SOFTBR:
            b.add_text(" ");
            break;
        case MD_TEXT_BR:
            b.add_text("\n");
            break;
        case MD_TEXT_NULLCHAR:
            b.add_text("\uFFFD");
            break;
        case MD_TEXT_ENTITY:
            b.add_text(decoded_entity(piece));
            break;
        default:
            b.add_text(piece);
            break;
    }
    return 0;
}

}  // namespace

std::vector<TextBlock> parse_lesson_text(const std::string& markdown) {
    Builder builder;
    MD_PARSER parser{};
    parser.flags = MD_FLAG_TABLES | MD_FLAG_NOHTML;  // lessons hold no HTML: a '<' is text
    parser.enter_block = enter_block;
    parser.leave_block = leave_block;
    parser.enter_span = enter_span;
    parser.leave_span = leave_span;
    parser.text = text;
    if (md_parse(markdown.data(), static_cast<MD_SIZE>(markdown.size()), &parser, &builder) != 0) {
        // md4c gives up only when out of memory: show the text as it is rather than nothing.
        TextBlock whole;
        whole.runs.push_back({markdown});
        return {whole};
    }
    // A code block's text ends with its last newline: not a line of its own on screen.
    for (TextBlock& block : builder.blocks)
        if (block.kind == TextBlock::Kind::code_block && !block.runs.empty() && !block.runs.back().text.empty() &&
            block.runs.back().text.back() == '\n')
            block.runs.back().text.pop_back();
    return builder.blocks;
}

}  // namespace socklab::viz
