// visualizer/model/lesson.cpp — see lesson.h: the lesson format and the anchor rules.
#include "visualizer/model/lesson.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "visualizer/model/lesson_run.h"

namespace socklab::lessons {

namespace {

std::string trim(const std::string& text) {
    const auto begin = text.find_first_not_of(" \t\r");
    if (begin == std::string::npos) return "";
    const auto end = text.find_last_not_of(" \t\r");
    return text.substr(begin, end - begin + 1);
}

std::vector<std::string> split_words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> words;
    for (std::string word; in >> word;) words.push_back(word);
    return words;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

std::string read_text(const std::string& path, bool& found) {
    std::ifstream in(path, std::ios::binary);
    found = static_cast<bool>(in);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// "## Step 3: Title" -> 3 and "Title"; false for any other line.
bool step_heading(const std::string& line, int& number, std::string& title) {
    if (line.rfind("## Step ", 0) != 0) return false;
    std::size_t used = 0;
    try {
        number = std::stoi(line.substr(8), &used);
    } catch (...) {
        return false;
    }
    std::string rest = line.substr(8 + used);
    if (rest.empty() || rest[0] != ':') return false;
    title = trim(rest.substr(1));
    return true;
}

}  // namespace

std::vector<std::string> Step::live_flags() const {
    if (!runs_live()) return {};
    return {run.words.begin() + 3, run.words.end()};
}

// ---- parsing ------------------------------------------------------------------------------------------------

namespace {

// Reads a lesson line by line: a fence opens or closes a block; a socklab block's lines are commands of the step;
// a scenario block's are its scenario; a step heading starts a step; the first "# " line is the title; the rest is
// prose. Then checks each step as a whole (what it runs against what it asks).
class LessonParser {
public:
    explicit LessonParser(const std::string& file_name) {
        lesson_.file = file_name;
        base_ = std::filesystem::path(file_name).filename().string();
        if (!base_.empty() && std::isdigit(static_cast<unsigned char>(base_[0])))
            lesson_.number = std::atoi(base_.c_str());
    }

    Lesson parse(const std::string& text) {
        const std::vector<std::string> lines = split_lines(text);
        for (std::size_t i = 0; i < lines.size(); ++i) read_line(static_cast<int>(i) + 1, lines[i]);
        if (block_ != Block::none) fail(block_line_, "a fenced block that never ends");
        if (lesson_.title.empty()) fail(1, "no title (a first line '# Title')");
        if (lesson_.steps.empty()) fail(1, "no steps ('## Step 1: ...')");
        for (const Step& step : lesson_.steps) check_step(step);
        // Prose without the blank lines around it.
        trim_blank_lines(lesson_.introduction);
        for (Step& step : lesson_.steps) trim_blank_lines(step.prose);
        return lesson_;
    }

private:
    enum class Block { none, socklab, scenario, other };

    void fail(int line, const std::string& message) {
        lesson_.errors.push_back(base_ + ":" + std::to_string(line) + ": " + message);
    }

    std::string& prose() { return step_ ? step_->prose : lesson_.introduction; }

    void read_line(int number, const std::string& line) {
        const std::string trimmed = trim(line);
        if (trimmed.rfind("```", 0) == 0) {
            fence(number, line, trimmed);
        } else if (block_ == Block::other) {
            prose() += line + "\n";
        } else if (block_ == Block::scenario) {
            if (step_) step_->scenario += line + "\n";
        } else if (block_ == Block::socklab) {
            if (step_) socklab_command(number, line);
        } else {
            heading_or_prose(number, line);
        }
    }

    // A ``` line opens a block (socklab, scenario, or any other language, kept as prose) or closes the open one.
    void fence(int number, const std::string& line, const std::string& trimmed) {
        if (block_ != Block::none) {
            if (block_ == Block::other) prose() += line + "\n";
            block_ = Block::none;
            return;
        }
        const std::string language = trim(trimmed.substr(3));
        block_line_ = number;
        block_ = language == "socklab" ? Block::socklab : language == "scenario" ? Block::scenario : Block::other;
        if (block_ == Block::other) prose() += line + "\n";
        if (block_ != Block::other && !step_) fail(number, "a ```" + language + " block before the first step");
        if (block_ == Block::scenario && step_) {
            if (!step_->scenario.empty()) fail(number, "a second ```scenario block in one step");
            step_->scenario_line = number + 1;
        }
    }

    // One line of a socklab block: show, run, expect, or a client action (# starts a comment).
    void socklab_command(int number, const std::string& line) {
        Command command;
        command.line = number;
        command.text = trim(line.substr(0, line.find('#')));
        command.words = split_words(command.text);
        if (command.words.empty()) return;
        const std::string& verb = command.words[0];
        if (verb == "show") {
            if (command.words.size() != 2) fail(number, "show wants one anchor name: show iocp:wait");
            else step_->anchors.push_back(command.words[1]);
        } else if (verb == "run") {
            if (!step_->run.words.empty())
                fail(number, "a step runs one thing; this one already has line " + std::to_string(step_->run.line));
            else if (command.words.size() == 2 && command.words[1] == "reference") step_->run = command;
            else if (command.words.size() >= 3 && command.words[1] == "live") step_->run = command;
            else fail(number, "run wants 'run reference' or 'run live MODEL [server flags]'");
        } else if (verb == "expect") {
            const std::string problem = check_syntax(command);
            if (!problem.empty()) fail(number, problem);
            step_->checks.push_back(command);
        } else {
            const std::string problem = action_syntax(command);
            if (!problem.empty()) fail(number, problem);
            step_->actions.push_back(command);
        }
    }

    // Outside blocks: "## Step N: Title" starts a step (numbered in order), the first "# " line is the title,
    // anything else is prose.
    void heading_or_prose(int number, const std::string& line) {
        int step_number = 0;
        std::string step_title;
        if (step_heading(line, step_number, step_title)) {
            lesson_.steps.emplace_back();
            step_ = &lesson_.steps.back();
            step_->number = step_number;
            step_->title = step_title;
            step_->line = number;
            if (step_number != static_cast<int>(lesson_.steps.size()))
                fail(number, "step " + std::to_string(step_number) + " should be numbered " +
                                 std::to_string(lesson_.steps.size()));
            return;
        }
        if (lesson_.title.empty() && line.rfind("# ", 0) == 0) {
            lesson_.title = trim(line.substr(2));
            return;
        }
        prose() += line + "\n";
    }

    // A step as a whole: a reference run has a scenario and no live checks, actions need a live run, checks need
    // a run, and every step shows or runs something.
    void check_step(const Step& s) {
        const bool reference = s.runs_reference(), live = s.runs_live();
        if (reference && s.scenario.empty())
            fail(s.line, "step " + std::to_string(s.number) + " runs the reference model but has no ```scenario block");
        if (!reference && !s.scenario.empty())
            fail(s.scenario_line - 1, "a ```scenario block in a step that does not 'run reference'");
        if (!live && !s.actions.empty())
            fail(s.actions.front().line, "client actions need 'run live MODEL' in the step");
        if (!live && !reference && !s.checks.empty())
            fail(s.checks.front().line, "checks need something to run ('run reference' or 'run live MODEL')");
        for (const Command& check : s.checks)
            if (reference && check_needs_live(check)) fail(check.line, "'" + check.text + "' needs a live run");
        if (s.anchors.empty() && s.run.words.empty())
            fail(s.line, "step " + std::to_string(s.number) + " neither shows code nor runs anything");
    }

    static void trim_blank_lines(std::string& prose) {
        while (!prose.empty() && prose.back() == '\n') prose.pop_back();
        while (!prose.empty() && prose.front() == '\n') prose.erase(0, 1);
    }

    Lesson lesson_;
    std::string base_;  // the file's name, for the errors
    Block block_ = Block::none;
    int block_line_ = 0;
    Step* step_ = nullptr;  // the step being read (null in the introduction)
};

}  // namespace

Lesson parse_lesson(const std::string& text, const std::string& file_name) {
    return LessonParser(file_name).parse(text);
}

Lesson load_lesson(const std::string& path) {
    bool found = false;
    const std::string text = read_text(path, found);
    if (!found) {
        Lesson lesson;
        lesson.file = path;
        lesson.errors.push_back(path + ": cannot read the lesson");
        return lesson;
    }
    return parse_lesson(text, path);
}

std::vector<std::string> lesson_files(const std::string& lessons_folder, std::string& error) {
    bool found = false;
    const std::string order = read_text(lessons_folder + "/order.txt", found);
    if (!found) {
        error = "cannot read " + lessons_folder + "/order.txt (the reading order)";
        return {};
    }
    std::vector<std::string> files;
    for (const std::string& line : split_lines(order)) {
        const std::string name = trim(line.substr(0, line.find('#')));
        if (!name.empty()) files.push_back(lessons_folder + "/" + name);
    }
    return files;
}

// ---- anchors --------------------------------------------------------------------------------------------------

std::string anchor_on_line(const std::string& line) {
    static const std::string marker = "// LESSON: ";
    const auto at = line.find(marker);
    if (at == std::string::npos) return "";
    const auto begin = at + marker.size();
    auto end = begin;
    while (end < line.size() && (std::islower(static_cast<unsigned char>(line[end])) ||
                                 std::isdigit(static_cast<unsigned char>(line[end])) || line[end] == '-'))
        ++end;
    // A name, then nothing but the end of the line or more comment text: not a string that mentions the marker.
    if (end == begin || (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '\r')) return "";
    return line.substr(begin, end - begin);
}

std::string anchor_scope(const std::string& file) {
    std::string generic = file;
    std::replace(generic.begin(), generic.end(), '\\', '/');  // a site's file as a Windows compiler spelled it
    const std::filesystem::path path(generic);
    const std::string stem = path.stem().string();
    const auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
    if (path.parent_path().filename() != "models" || path.extension() != ".cpp" || stem.size() < 4 || !digit(stem[0]) ||
        !digit(stem[1]) || stem[2] != '_')
        return "";
    std::string id = stem.substr(3);
    std::replace(id.begin(), id.end(), '_', '-');
    return id;
}

std::string anchor_name(const std::string& file, const std::string& marker) {
    const std::string scope = anchor_scope(file);
    return scope.empty() ? marker : scope + ":" + marker;
}

std::string anchor_above(const std::string& file, const std::vector<std::string>& lines, std::size_t line) {
    for (std::size_t i = std::min(line, lines.size()); i > 0; --i) {
        const std::string marker = anchor_on_line(lines[i - 1]);
        if (!marker.empty()) return anchor_name(file, marker);
    }
    return "";
}

namespace {

// The code of a line: without its // comment and without the contents of string and character literals.
std::string code_of(const std::string& line) {
    std::string code;
    char quote = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quote) {
            if (c == '\\') ++i;
            else if (c == quote) quote = 0;
            continue;
        }
        if (c == '"' || c == '\'') quote = c;
        else if (c == '/' && i + 1 < line.size() && line[i + 1] == '/') break;
        else code += c;
    }
    return trim(code);
}

// Brackets opened minus brackets closed on a line of code.
int bracket_balance(const std::string& code) {
    int balance = 0;
    for (char c : code) {
        if (c == '(' || c == '[' || c == '{') ++balance;
        else if (c == ')' || c == ']' || c == '}') --balance;
    }
    return balance;
}

}  // namespace

void quoted_range(const std::vector<std::string>& lines, std::size_t marker, int& first_line, int& last_line) {
    const std::string own_code = code_of(lines[marker]);
    if (!own_code.empty()) {
        // A trailing marker: this line, and the lines above that open what it closes.
        std::size_t first = marker;
        int balance = bracket_balance(own_code);
        while (balance < 0 && first > 0 && marker - first < 40) balance += bracket_balance(code_of(lines[--first]));
        first_line = static_cast<int>(first) + 1;
        last_line = static_cast<int>(marker) + 1;
        return;
    }
    // A marker on its own line: the comment lines after it, then the next statement.
    first_line = static_cast<int>(marker) + 2;
    last_line = first_line - 1;
    int balance = 0;
    bool code_seen = false;
    for (std::size_t i = marker + 1; i < lines.size() && i <= marker + 40; ++i) {
        const std::string code = code_of(lines[i]);
        if (trim(lines[i]).empty() || !anchor_on_line(lines[i]).empty()) break;
        last_line = static_cast<int>(i) + 1;
        if (code.empty()) continue;
        code_seen = true;
        balance += bracket_balance(code);
        if (balance <= 0 && (code.back() == ';' || code.back() == '}')) break;
    }
    if (!code_seen) last_line = std::max(last_line, first_line - 1);
}

void AnchorIndex::add_file(const std::string& file, const std::string& text) {
    std::vector<std::string>& lines = lines_[file];
    lines = split_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string marker = anchor_on_line(lines[i]);
        if (marker.empty()) continue;
        AnchorSite site;
        site.file = file;
        site.marker_line = static_cast<int>(i) + 1;
        quoted_range(lines, i, site.first_line, site.last_line);
        sites_.emplace(anchor_name(file, marker), site);
    }
}

AnchorIndex AnchorIndex::scan(const std::string& root, const std::vector<std::string>& folders) {
    namespace fs = std::filesystem;
    AnchorIndex index;
    index.root_ = root;
    index.folders_ = folders;
    std::vector<std::string> files;
    for (const std::string& folder : folders) {
        std::error_code error;
        const fs::path base = fs::path(root) / folder;
        if (!fs::is_directory(base, error)) continue;
        for (auto it = fs::recursive_directory_iterator(base, error);
             !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
            const std::string extension = it->path().extension().string();
            if (it->is_regular_file() && (extension == ".cpp" || extension == ".h"))
                files.push_back(it->path().lexically_relative(root).generic_string());
        }
    }
    std::sort(files.begin(), files.end());  // the same order on every machine
    for (const std::string& file : files) {
        bool found = false;
        const std::string text = read_text(root + "/" + file, found);
        if (found) index.add_file(file, text);
    }
    return index;
}

std::size_t AnchorIndex::count(const std::string& name) const { return sites_.count(name); }

const AnchorSite* AnchorIndex::find(const std::string& name) const {
    if (sites_.count(name) != 1) return nullptr;
    return &sites_.find(name)->second;
}

std::string AnchorIndex::problem(const std::string& name) const {
    const std::size_t times = count(name);
    if (times == 1) return "";
    if (times > 1) {
        std::string message = "anchor '" + name + "' is marked " + std::to_string(times) + " times:";
        auto [begin, end] = sites_.equal_range(name);
        for (auto it = begin; it != end; ++it)
            message += " " + it->second.file + ":" + std::to_string(it->second.marker_line);
        return message;
    }
    // Missing: say where the marker was looked for, then the model-scoped names it may have meant — the same
    // marker in any model ("wait" -> iocp:wait), or the name with '-' for ':' (a model's anchors were global once,
    // written <id>-<marker>).
    const auto colon = name.find(':');
    const std::string scope = colon == std::string::npos ? "" : name.substr(0, colon);
    const std::string marker = name.substr(colon == std::string::npos ? 0 : colon + 1);
    std::string where;
    if (scope.empty()) {
        for (const std::string& folder : folders_) where += (where.empty() ? "" : " or ") + folder + "/";
        where = (where.empty() ? std::string("the sources") : where) + " outside the model files";
    } else {
        for (const auto& [file, lines] : lines_)
            if (anchor_scope(file) == scope) where = file;
        if (where.empty()) where = "a model file models/NN_" + scope + ".cpp (there is none)";
    }
    std::string message = "anchor '" + name + "' not found: no `// LESSON: " + marker + "` in " + where;
    std::vector<std::string> similar;
    for (auto it = sites_.begin(); it != sites_.end(); it = sites_.upper_bound(it->first)) {
        const std::string& full = it->first;
        const auto at = full.find(':');
        if (at == std::string::npos) continue;
        std::string dashed = full;
        dashed[at] = '-';
        if (full.substr(at + 1) == marker || dashed == name) similar.push_back(full);
    }
    for (std::size_t i = 0; i < similar.size(); ++i)
        message += (i == 0 ? "; did you mean " : i + 1 == similar.size() ? " or " : ", ") + similar[i];
    if (!similar.empty()) message += "? (an anchor in models/NN_<id>.cpp is named <id>:<marker>)";
    return message;
}

std::vector<std::string> AnchorIndex::duplicates() const {
    std::vector<std::string> names;
    for (auto it = sites_.begin(); it != sites_.end(); it = sites_.upper_bound(it->first))
        if (sites_.count(it->first) > 1) names.push_back(it->first);
    return names;
}

std::vector<std::string> AnchorIndex::quote(const AnchorSite& site) const {
    std::vector<std::string> quoted;
    auto file = lines_.find(site.file);
    if (file == lines_.end()) return quoted;
    for (int line = site.first_line; line <= site.last_line && line <= static_cast<int>(file->second.size()); ++line) {
        std::string number = std::to_string(line);
        quoted.push_back(std::string(5 - std::min<std::size_t>(5, number.size()), ' ') + number + "  " +
                         file->second[static_cast<std::size_t>(line) - 1]);
    }
    return quoted;
}

}  // namespace socklab::lessons
