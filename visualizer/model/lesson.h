// visualizer/model/lesson.h — a lesson as the runners see it: Markdown read into steps, and the anchors that
// let a lesson quote a model's code without copying it (docs/design.md §8).
//
// Portable and free of any UI: the terminal runner (cli/lesson.cpp) and the visualizer's lesson panel
// (visualizer/ui/lesson_panel.cpp) read lessons with this same code, so a lesson that parses and checks in one
// parses and checks in the other. Running a step (starting a model, driving clients, deciding checks) is in
// lesson_run.h.
//
// ---- The lesson format (lessons/README.md says the same for lesson writers) --------------------------------
//
//   # Title of the lesson                 the first level-1 heading
//   Prose before the first step           the lesson's introduction
//   ## Step 1: Title of the step          a step; numbered in order, the number written is checked
//   Prose, any Markdown                   shown as it is written
//   ```socklab                            what the step shows, runs and checks (one command per line):
//   show ANCHOR                             quote the code its anchor marks (iocp:wait, blocking-accept)
//   run reference                           run the step's ```scenario block in the reference model
//   run live MODEL [server flags]           start the model (under Wine on Linux) with a trace file
//   connect 4 / send hello / work 0 200 …   client actions of a live step (lesson_run.h lists them all)
//   expect echo / expect trace … / …        checks: decided from what the run did
//   ```
//   ```scenario                           a reference step's scenario (common/kernel_queue/scenario.h);
//   threads 4 …                             its own `expect` lines are checks too
//   ```
//
// `#` starts a comment in a socklab block. Other fenced blocks (```sh, ```text) are prose.
//
// ---- Anchors ----------------------------------------------------------------------------------------------
//
// A source line marks the code a lesson quotes with `// LESSON: name` (a name of a-z, 0-9 and '-'), written:
//   - at the end of a line of code: the anchor quotes that line, and the lines above it that open what it
//     closes (a call spread over several lines ends on the marked line);
//   - on a line of its own: the anchor quotes the next statement — from the line after the marker to the line
//     where every bracket opened since is closed and the line ends in ';', '{...}' or '}' (at most 40 lines).
// Anchors are looked up in the source folders of the tree (models/, common/). An anchor in a model file,
// models/NN_<id>.cpp, is scoped to its model: `// LESSON: wait` in models/06_iocp.cpp is named `iocp:wait` (the
// id is the file's name without its number, '_' written '-': 07_iocp_acceptex -> iocp-acceptex), so the same
// step carries the same marker in every model and a diff between two models does not show it. Anywhere else
// (common/, models/registry.cpp) the name is the one written: `blocking-accept`. Full names must be unique.
// anchor_name() is the one place that names an anchor; the index, the checks and the source panel use it.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace socklab::lessons {

// One line of a ```socklab block: its words, and where it was written.
struct Command {
    int line = 0;                    // line number in the lesson file, from 1
    std::string text;                // as written, comment removed, trimmed
    std::vector<std::string> words;  // split on spaces
};

struct Step {
    int number = 0;  // as written in "## Step N:"
    std::string title;
    int line = 0;                      // of the heading
    std::string prose;                 // Markdown of the step, without its socklab and scenario blocks
    std::vector<std::string> anchors;  // `show` lines, in order
    Command run;                       // the `run` line (run.words empty: the step only reads)
    std::vector<Command> actions;      // client actions of a live step, in order
    std::vector<Command> checks;       // `expect` lines of the socklab block
    std::string scenario;              // text of the ```scenario block (reference steps)
    int scenario_line = 0;             // first line of that text in the lesson file

    bool runs_reference() const { return run.words.size() >= 2 && run.words[1] == "reference"; }
    bool runs_live() const { return run.words.size() >= 3 && run.words[1] == "live"; }
    std::string live_model() const { return runs_live() ? run.words[2] : ""; }
    // The server flags after the model: `run live iocp --workers 4` -> {"--workers", "4"}.
    std::vector<std::string> live_flags() const;
};

struct Lesson {
    int number = 0;    // from the file name: 07-iocp.md -> 7
    std::string file;  // path as given to parse
    std::string title;
    std::string introduction;  // prose before the first step
    std::vector<Step> steps;
    std::vector<std::string> errors;  // "07-iocp.md:41: unknown command 'shwo'"; empty when it parsed

    bool parsed() const { return errors.empty(); }
};

// Reads a lesson's Markdown. Never throws: what is wrong is in errors, with file and line.
Lesson parse_lesson(const std::string& text, const std::string& file_name);
Lesson load_lesson(const std::string& path);

// The lessons in reading order: lessons/order.txt lists one file name a line (# comments allowed).
// Returns paths; a listed file that does not exist is returned anyway so that loading it reports the error.
std::vector<std::string> lesson_files(const std::string& lessons_folder, std::string& error);

// ---- anchors --------------------------------------------------------------------------------------------

struct AnchorSite {
    std::string file;  // relative to the root: "models/06_iocp.cpp"
    int marker_line = 0;
    int first_line = 0;  // the lines quoted, inclusive, from 1
    int last_line = 0;
};

// Every `// LESSON:` anchor under the given folders of a tree (recursively, .cpp and .h files).
class AnchorIndex {
public:
    static AnchorIndex scan(const std::string& root, const std::vector<std::string>& folders = {"models", "common"});

    // The site of the anchor with this full name ("iocp:wait", "blocking-accept"), or nullptr when the tree has no
    // such anchor or has it more than once.
    const AnchorSite* find(const std::string& name) const;
    // How often the full name is marked (0 = missing, 2+ = not unique).
    std::size_t count(const std::string& name) const;
    // Why find(name) failed, "" when it did not: "anchor 'iocp:wat' not found: no `// LESSON: wat` in
    // models/06_iocp.cpp"; for a name a model scopes, "... did you mean iocp:wait or select:wait?";
    // "anchor 'iocp:wait' is marked 2 times: models/06_iocp.cpp:3 models/06_iocp.cpp:9".
    std::string problem(const std::string& name) const;
    // Full names marked more than once.
    std::vector<std::string> duplicates() const;
    const std::multimap<std::string, AnchorSite>& all() const { return sites_; }
    const std::string& root() const { return root_; }

    // A scanned file's lines (nullptr when the file was not scanned): for a source view around the quote.
    const std::vector<std::string>* lines_of(const std::string& file) const {
        auto found = lines_.find(file);
        return found == lines_.end() ? nullptr : &found->second;
    }
    // The quoted lines, each "  123  code" (file:line numbering, as an editor counts).
    std::vector<std::string> quote(const AnchorSite& site) const;

    // Scans one file's text (for tests, and for scan()); `file` names it in the sites.
    void add_file(const std::string& file, const std::string& text);

private:
    std::string root_;
    std::vector<std::string> folders_;
    std::multimap<std::string, AnchorSite> sites_;
    std::map<std::string, std::vector<std::string>> lines_;  // file -> its lines
};

// The marker on a source line, as written, or "" when the line has none: "x();  // LESSON: wait" -> "wait".
std::string anchor_on_line(const std::string& line);
// The model id that scopes a file's anchors: "models/06_iocp.cpp" -> "iocp", "models/07_iocp_acceptex.cpp" ->
// "iocp-acceptex"; "" for any other file (its anchors are global).
std::string anchor_scope(const std::string& file);
// The full name of the anchor marked `// LESSON: marker` in a file: "iocp:wait" in models/06_iocp.cpp,
// "blocking-accept" in common/win/connection.cpp.
std::string anchor_name(const std::string& file, const std::string& marker);
// The full name of the anchor nearest above a line (from 1, the line itself included) of a file given as its
// lines, or "" when there is none: what the visualizer's source panel shows beside a trace site.
std::string anchor_above(const std::string& file, const std::vector<std::string>& lines, std::size_t line);
// Where an anchor's quote begins and ends, given the file's lines and the marker's index (from 0).
void quoted_range(const std::vector<std::string>& lines, std::size_t marker, int& first_line, int& last_line);

}  // namespace socklab::lessons
