// The lessons (docs/design.md §8): every lesson parses, anchors are unique and quote what they say they quote, a
// model's anchors are named by its model (iocp:wait), a missing, doubled or unscoped anchor is reported, the
// reference steps pass, and checks are decided from what a run really did.
// Live steps run under Wine through `socklab lesson N --check` (tests/lessons/CMakeLists.txt).
#include <fstream>
#include <sstream>
#include <string>

#include "tests/catch.hpp"
#include "tests/visualizer/event_builder.h"
#include "visualizer/model/lesson.h"
#include "visualizer/model/lesson_run.h"
#include "visualizer/model/lesson_player.h"
#include "visualizer/model/lesson_text.h"

namespace lessons = socklab::lessons;

namespace {

const std::string kRoot = SOCKLAB_SOURCE_ROOT;

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<lessons::Lesson> every_lesson() {
    std::string error;
    std::vector<lessons::Lesson> all;
    for (const std::string& file : lessons::lesson_files(kRoot + "/lessons", error))
        all.push_back(lessons::load_lesson(file));
    REQUIRE(error.empty());
    return all;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines) text += line + "\n";
    return text;
}

}  // namespace

TEST_CASE("every lesson in the reading order parses, numbered 0 to 12", "[lessons]") {
    const auto all = every_lesson();
    REQUIRE(all.size() == 13);
    for (std::size_t i = 0; i < all.size(); ++i) {
        INFO(all[i].file << "\n" << joined(all[i].errors));
        CHECK(all[i].parsed());
        CHECK(all[i].number == static_cast<int>(i));
        CHECK(all[i].steps.size() >= 3);
    }
}

TEST_CASE("every LESSON anchor in the tree is unique", "[lessons]") {
    const auto anchors = lessons::AnchorIndex::scan(kRoot);
    std::string problems;
    for (const std::string& name : anchors.duplicates()) problems += anchors.problem(name) + "\n";
    INFO(problems);
    CHECK(anchors.duplicates().empty());
    CHECK(anchors.count("iocp:wait") == 1);
    CHECK(anchors.count("iocp-acceptex:wait") == 1);
    CHECK(anchors.count("wait") == 0);  // every model marks its wait, each under its own name
    CHECK(anchors.count("reference-lifo-release") == 1);
    CHECK(anchors.count("blocking-accept") == 1);  // common/win: global
}

TEST_CASE("a model file scopes its anchors by the model's id; other files do not", "[lessons]") {
    CHECK(lessons::anchor_scope("models/06_iocp.cpp") == "iocp");
    CHECK(lessons::anchor_scope("models/07_iocp_acceptex.cpp") == "iocp-acceptex");
    CHECK(lessons::anchor_scope("/home/me/socklab/models/02_async_select.cpp") == "async-select");
    CHECK(lessons::anchor_scope("models\\05_completion_routine.cpp") == "completion-routine");
    CHECK(lessons::anchor_scope("models/registry.cpp").empty());
    CHECK(lessons::anchor_scope("models/model.h").empty());
    CHECK(lessons::anchor_scope("common/win/connection.cpp").empty());
    CHECK(lessons::anchor_scope("common/models/06_iocp.h").empty());
    CHECK(lessons::anchor_name("models/07_iocp_acceptex.cpp", "wait") == "iocp-acceptex:wait");
    CHECK(lessons::anchor_name("common/win/connection.cpp", "blocking-accept") == "blocking-accept");
}

TEST_CASE("the same marker in two models is two anchors, each shown by its model's name", "[lessons]") {
    lessons::AnchorIndex index;
    index.add_file("models/06_iocp.cpp", "\nGetQueuedCompletionStatus(port);  // LESSON: wait\n");
    index.add_file("models/07_iocp_acceptex.cpp", "GetQueuedCompletionStatus(port);  // LESSON: wait\n");
    index.add_file("common/win/connection.cpp", "accept(listener);  // LESSON: blocking-accept\n");
    CHECK(index.duplicates().empty());
    REQUIRE(index.find("iocp:wait"));
    CHECK(index.find("iocp:wait")->file == "models/06_iocp.cpp");
    CHECK(index.find("iocp:wait")->first_line == 2);
    REQUIRE(index.find("iocp-acceptex:wait"));
    CHECK(index.find("iocp-acceptex:wait")->file == "models/07_iocp_acceptex.cpp");
    CHECK(index.find("blocking-accept"));
    CHECK(index.find("wait") == nullptr);
}

TEST_CASE("a scoped show that names no marker of its model is reported with the file looked in", "[lessons]") {
    lessons::AnchorIndex index;
    index.add_file("models/06_iocp.cpp", "GetQueuedCompletionStatus(port);  // LESSON: wait\n");
    CHECK(index.find("iocp:post-receive") == nullptr);
    CHECK(index.problem("iocp:post-receive") ==
          "anchor 'iocp:post-receive' not found: no `// LESSON: post-receive` in models/06_iocp.cpp");
    CHECK(index.problem("iocpx:wait")
              .rfind("anchor 'iocpx:wait' not found: no `// LESSON: wait` in a model file models/NN_iocpx.cpp", 0) ==
          0);
    CHECK(index.problem("iocpx:wait").find("did you mean iocp:wait?") != std::string::npos);
}

TEST_CASE("a bare name for a model's anchor is not found, and the scoped names are suggested", "[lessons]") {
    lessons::AnchorIndex index;
    index.add_file("models/01_select.cpp", "select(0, &read_set);  // LESSON: wait\n");
    index.add_file("models/06_iocp.cpp",
                   "GetQueuedCompletionStatus(port);  // LESSON: wait\nPostQueuedCompletionStatus(port);  // LESSON: "
                   "post-packet\n");
    CHECK(index.find("wait") == nullptr);
    CHECK(index.problem("wait") ==
          "anchor 'wait' not found: no `// LESSON: wait` in the sources outside the model files; did you mean "
          "iocp:wait or select:wait? (an anchor in models/NN_<id>.cpp is named <id>:<marker>)");
    // The global spelling a model's anchor had before anchors were scoped: iocp-post-packet.
    CHECK(index.problem("iocp-post-packet").find("; did you mean iocp:post-packet? ") != std::string::npos);
    CHECK(index.problem("iocp-post").find("did you mean") == std::string::npos);
}

TEST_CASE("a name marked twice in one model is ambiguous, reported with both places", "[lessons]") {
    lessons::AnchorIndex index;
    index.add_file("models/06_iocp.cpp", "f();  // LESSON: wait\n\ng();  // LESSON: wait\n");
    index.add_file("models/07_iocp_acceptex.cpp", "f();  // LESSON: wait\n");
    CHECK(index.find("iocp:wait") == nullptr);
    CHECK(index.duplicates() == std::vector<std::string>{"iocp:wait"});
    CHECK(index.problem("iocp:wait") ==
          "anchor 'iocp:wait' is marked 2 times: models/06_iocp.cpp:1 models/06_iocp.cpp:3");
}

TEST_CASE("the anchor above a trace site is named as lessons name it", "[lessons]") {
    const std::vector<std::string> lines = {"void worker() {", "    // LESSON: wait", "    BOOL ok = Get(port);",
                                            "    TRACE(wake);", "}"};
    CHECK(lessons::anchor_above("models/06_iocp.cpp", lines, 4) == "iocp:wait");
    CHECK(lessons::anchor_above("models/06_iocp.cpp", lines, 2) == "iocp:wait");  // the marker's own line
    CHECK(lessons::anchor_above("models/06_iocp.cpp", lines, 1).empty());
    CHECK(lessons::anchor_above("models/06_iocp.cpp", lines, 99) == "iocp:wait");
    CHECK(lessons::anchor_above("common/win/connection.cpp", lines, 4) == "wait");
}

TEST_CASE("a trailing anchor quotes its line and the lines that open what it closes", "[lessons]") {
    lessons::AnchorIndex index;
    index.add_file("example.cpp",
                   "void f() {\n"
                   "    start();\n"
                   "    HANDLE thread = CreateThread(nullptr, 0, client_main,\n"
                   "                                 nullptr, 0, nullptr);  // LESSON: example-thread\n"
                   "    int n = recv(s, b, 1, 0);  // LESSON: example-recv\n"
                   "}\n");
    const lessons::AnchorSite* thread = index.find("example-thread");
    REQUIRE(thread);
    CHECK(thread->first_line == 3);
    CHECK(thread->last_line == 4);
    const lessons::AnchorSite* receive = index.find("example-recv");
    REQUIRE(receive);
    CHECK(receive->first_line == 5);
    CHECK(receive->last_line == 5);
    CHECK(index.quote(*receive).front() == "    5      int n = recv(s, b, 1, 0);  // LESSON: example-recv");
}

TEST_CASE("an anchor on its own line quotes its comments and the next statement", "[lessons]") {
    lessons::AnchorIndex index;
    index.add_file("example.cpp",
                   "    // LESSON: example-if\n"
                   "    // Why: the call may fail.\n"
                   "    if (CreateIoCompletionPort(socket, port,\n"
                   "                               key, 0) == nullptr) {\n"
                   "        report();\n"
                   "    }\n"
                   "    next();\n");
    const lessons::AnchorSite* site = index.find("example-if");
    REQUIRE(site);
    CHECK(site->first_line == 2);
    CHECK(site->last_line == 6);
}

TEST_CASE("a string that mentions the marker is not an anchor", "[lessons]") {
    CHECK(lessons::anchor_on_line("    const std::string marker = \"// LESSON:\";").empty());
    CHECK(lessons::anchor_on_line("if (text.find(\"// LESSON: \") != npos)").empty());
    CHECK(lessons::anchor_on_line("x();  // LESSON: wait") == "wait");
    CHECK(lessons::anchor_on_line("x();  // LESSON: iocp:wait").empty());  // a marker is written without its scope
    CHECK(lessons::anchor_on_line("// LESSON: fd-setsize  (why it is 4096)") == "fd-setsize");
}

TEST_CASE("an anchor removed from a copy of a model is reported missing", "[lessons]") {
    const std::string model = read_file(kRoot + "/models/06_iocp.cpp");
    const std::string marker = "// LESSON: wait\n";
    REQUIRE(model.find(marker) != std::string::npos);
    lessons::AnchorIndex intact, edited;
    intact.add_file("models/06_iocp.cpp", model);
    std::string without = model;
    without.erase(without.find(marker), marker.size());
    edited.add_file("models/06_iocp.cpp", without);
    CHECK(intact.find("iocp:wait") != nullptr);
    CHECK(edited.find("iocp:wait") == nullptr);
    CHECK(edited.problem("iocp:wait").find("anchor 'iocp:wait' not found") != std::string::npos);
    // The lesson that shows it no longer resolves.
    const lessons::Lesson lesson = lessons::load_lesson(kRoot + "/lessons/07-iocp.md");
    bool shown = false;
    for (const auto& step : lesson.steps)
        for (const auto& name : step.anchors) shown = shown || name == "iocp:wait";
    CHECK(shown);
}

TEST_CASE("an anchor marked twice is reported with both places", "[lessons]") {
    lessons::AnchorIndex index;
    index.add_file("a.cpp", "f();  // LESSON: twice\n");
    index.add_file("b.cpp", "\ng();  // LESSON: twice\n");
    CHECK(index.find("twice") == nullptr);
    CHECK(index.problem("twice") == "anchor 'twice' is marked 2 times: a.cpp:1 b.cpp:2");
}

TEST_CASE("a malformed lesson is reported with its file and line", "[lessons]") {
    const lessons::Lesson lesson = lessons::parse_lesson(
        "# A lesson\n\n## Step 1: Reading\n\n```socklab\nshwo iocp:wait\n"
        "expect echo twice\n```\n\n## Step 3: Wrong number\n\n"
        "```socklab\nrun reference\n```\n",
        "lessons/42-broken.md");
    const std::string errors = joined(lesson.errors);
    INFO(errors);
    CHECK(errors.find("42-broken.md:6: unknown command 'shwo'") != std::string::npos);
    CHECK(errors.find("42-broken.md:7: expect echo takes nothing after it") != std::string::npos);
    CHECK(errors.find("42-broken.md:10: step 3 should be numbered 2") != std::string::npos);
    CHECK(errors.find("has no ```scenario block") != std::string::npos);
}

TEST_CASE("the reference steps of every lesson pass", "[lessons]") {
    unsigned reference_steps = 0;
    for (const lessons::Lesson& lesson : every_lesson())
        for (const lessons::Step& step : lesson.steps) {
            if (!step.runs_reference()) continue;
            ++reference_steps;
            const lessons::StepResult result = lessons::run_reference_step(step);
            std::string failed = result.error;
            for (const auto& check : result.checks)
                if (!check.met)
                    failed += "\nline " + std::to_string(check.line) + ": " + check.text + ": " + check.detail;
            INFO(lesson.file << " step " << step.number << failed);
            CHECK(result.passed());
        }
    CHECK(reference_steps >= 4);
}

TEST_CASE("a reference step whose expectation is wrong is not met", "[lessons]") {
    const lessons::Lesson lesson = lessons::parse_lesson(
        "# LIFO\n\n## Step 1: Who wakes\n\n```socklab\nrun reference\nexpect lifo-share >= 1\n```\n\n```scenario\n"
        "threads 2\nwait w1 w2\npost\nexpect released w1\n```\n",
        "lessons/43-wrong.md");
    REQUIRE(lesson.parsed());
    const lessons::StepResult result = lessons::run_reference_step(lesson.steps[0]);
    REQUIRE(result.checks.size() == 2);
    CHECK(result.checks[0].met);         // lifo-share, from the model's trace
    CHECK_FALSE(result.checks[1].met);   // the model released w2, not w1
    CHECK(result.checks[1].line == 14);  // the expect line, in the lesson file
    CHECK_FALSE(result.passed());
}

TEST_CASE("live checks are decided from the replies that came back", "[lessons]") {
    const lessons::Lesson lesson = lessons::parse_lesson(
        "# Echo\n\n## Step 1: Echo\n\n```socklab\nrun live blocking\nconnect 2\nsend hello\nexpect echo\n"
        "expect reply hello\nwork 0 200\nexpect elapsed < 750\nexpect runtime named\n```\n",
        "lessons/44-echo.md");
    REQUIRE(lesson.parsed());
    const lessons::Step& step = lesson.steps[0];
    std::vector<lessons::ActionOutcome> outcomes(3);
    outcomes[0].action = step.actions[0];
    outcomes[1].action = step.actions[1];
    outcomes[1].exchanges = {{1, "hello", "hello"}, {2, "hello", "hellO"}};
    outcomes[2].action = step.actions[2];
    outcomes[2].elapsed_ms = 810;
    socklab::viz::TraceModel empty;
    const auto checks = lessons::decide_checks(step, outcomes, empty);
    REQUIRE(checks.size() == 4);
    CHECK_FALSE(checks[0].met);  // c2 got hellO
    CHECK(checks[0].detail == "c2 sent 'hello', got 'hellO'");
    CHECK_FALSE(checks[1].met);
    CHECK_FALSE(checks[2].met);  // 810 ms
    CHECK_FALSE(checks[3].met);  // an empty trace names no runtime
}

namespace {

// A live step that only measures the runtime, as lesson 7 step 6 does.
lessons::Step measuring_step() {
    static const lessons::Lesson lesson = lessons::parse_lesson(
        "# Port\n\n## Step 1: Port\n\n```socklab\nrun live iocp --workers 3 --concurrency 2\nconnect 1\n"
        "expect measured lifo-share\nexpect measured most-running\n```\n",
        "lessons/45-port.md");
    REQUIRE(lesson.parsed());
    return lesson.steps[0];
}

// Three workers wait on a port with concurrency value 2; every packet releases the OLDEST waiter (FIFO, what
// Wine does), and the released workers keep running, so three run at once without any of them blocking.
socklab::viz::testing::EventBuilder fifo_and_over_the_value() {
    socklab::viz::testing::EventBuilder b;
    b.server_start(2);
    for (std::uint16_t worker : {1, 2, 3}) b.wait_port(worker);  // waiters: 1 (oldest), 2, 3 (most recent)
    b.wake(1);                                                   // oldest of three
    b.wait_port(1);                                              // 2, 3, 1
    b.wake(2);                                                   // oldest of three
    b.wait_port(2);                                              // 3, 1, 2
    b.wake(3);                                                   // oldest of three
    b.wake(1);                                                   // oldest of two; 3 and 1 running
    b.wake(2);  // the last waiter: 3 running against a value of 2, none blocked
    return b;
}

}  // namespace

TEST_CASE("measured port checks hold a Windows trace to the documented rules and only measure under Wine",
          "[lessons]") {
    const lessons::Step step = measuring_step();
    socklab::viz::testing::EventBuilder b = fifo_and_over_the_value();
    socklab::viz::TraceModel windows = b.model(), wine = b.model();
    windows.take_info("runtime", "Windows 10.0.19045");
    wine.take_info("runtime", "Wine 8.0");
    REQUIRE(windows.conformance().lifo_share() == 0);
    REQUIRE(windows.conformance().most_running == 3);

    const auto on_windows = lessons::decide_checks(step, {}, windows);
    REQUIRE(on_windows.size() == 2);
    INFO(on_windows[0].detail << "\n" << on_windows[1].detail);
    CHECK_FALSE(on_windows[0].met);  // FIFO: LIFO share 0, Windows documents LIFO
    CHECK(on_windows[0].detail.find("NOT MET on Windows") != std::string::npos);
    CHECK_FALSE(on_windows[1].met);  // 3 ran against a value of 2 with nobody blocked
    CHECK(on_windows[1].detail.find("3 ran where 2 would be allowed (2 + 0 blocked)") != std::string::npos);

    const auto under_wine = lessons::decide_checks(step, {}, wine);
    REQUIRE(under_wine.size() == 2);
    INFO(under_wine[0].detail << "\n" << under_wine[1].detail);
    CHECK(under_wine[0].met);  // measured and named: Wine's FIFO is what the lesson shows, not a failure
    CHECK(under_wine[0].detail.find("under Wine 8.0") != std::string::npos);
    CHECK(under_wine[0].detail.find("this runtime differs") != std::string::npos);
    CHECK(under_wine[1].met);
    CHECK(under_wine[1].detail.find("this runtime let more run") != std::string::npos);
}

TEST_CASE("a Windows trace may run more workers than the value while the others were blocked", "[lessons]") {
    // Lesson 7 step 7 as a trace: value 2, four workers. Two are released (LIFO) and block in /work; the port
    // releases the other two, which block too; then all four Sleeps return: 4 run, the value plus the 2 blocked
    // when the last waiter was released.
    socklab::viz::testing::EventBuilder b;
    b.server_start(2);
    for (std::uint16_t worker : {1, 2, 3, 4}) b.wait_port(worker);
    b.wake(4);
    b.wake(3);
    for (std::uint16_t worker : {4, 3}) b.add(socklab::viz::Kind::block_begin, worker, 0, 200);
    b.wake(2);
    b.wake(1);
    for (std::uint16_t worker : {2, 1}) b.add(socklab::viz::Kind::block_begin, worker, 0, 200);
    for (std::uint16_t worker : {4, 3, 2, 1}) b.add(socklab::viz::Kind::block_end, worker);
    socklab::viz::TraceModel windows = b.model();
    windows.take_info("runtime", "Windows 10.0.19045");
    REQUIRE(windows.conformance().most_running == 4);
    const auto checks = lessons::decide_checks(measuring_step(), {}, windows);
    REQUIRE(checks.size() == 2);
    INFO(checks[0].detail << "\n" << checks[1].detail);
    CHECK(checks[0].met);  // every wake with a choice took the most recent waiter
    CHECK(checks[1].met);
    CHECK(checks[1].detail.find("4 ran where 4 would be allowed (2 + 2 blocked)") != std::string::npos);

    // Then two more wait; 4 and 3 block and come back (4 run again), and the port releases a fifth worker on
    // top: Windows releases none while the value is reached, whoever was blocked a moment ago.
    b.wait_port(5);
    b.wait_port(6);
    for (std::uint16_t worker : {4, 3}) b.add(socklab::viz::Kind::block_begin, worker, 0, 200);
    for (std::uint16_t worker : {4, 3}) b.add(socklab::viz::Kind::block_end, worker);
    b.wake(6);
    socklab::viz::TraceModel over = b.model();
    over.take_info("runtime", "Windows 10.0.19045");
    const auto over_checks = lessons::decide_checks(measuring_step(), {}, over);
    INFO(over_checks[1].detail);
    CHECK_FALSE(over_checks[1].met);
}

TEST_CASE("the lesson panel checks turn met as the scenario is played", "[lessons]") {
    std::string error;
    auto lesson = socklab::viz::LessonPlayer::open(kRoot, 7, error);
    REQUIRE(lesson);
    lesson->go_to(3);  // step 4: LIFO in the reference model
    REQUIRE(lesson->step().runs_reference());
    socklab::kernel_queue::ScenarioPlayer player(lesson->step().scenario);
    using State = socklab::viz::LessonPlayer::CheckState;
    auto count = [&](State state) {
        std::size_t n = 0;
        for (const auto& check : lesson->checks(&player)) n += check.state == state;
        return n;
    };
    const std::size_t all = lesson->checks(&player).size();
    CHECK(count(State::pending) == all);
    for (int i = 0; i < 4; ++i) player.play_next_line();  // up to and including the first expect
    CHECK(count(State::met) == 1);
    player.play_to_end();
    CHECK(count(State::met) == all);
}

TEST_CASE("a lesson's Markdown becomes styled blocks: emphasis, code spans, lists, headings, tables", "[lessons]") {
    using socklab::viz::TextBlock;
    const auto blocks = socklab::viz::parse_lesson_text(
        "## Why\n\nThe *most recent* waiter runs `models/06_iocp.cpp`\nfirst.\n\n"
        "1. one\n2. **two**\n   - nested\n\n| model | wakes |\n|---|---|\n| iocp | LIFO |\n\n```\ncode  kept\n```\n");
    REQUIRE(blocks.size() == 8);
    CHECK(blocks[0].kind == TextBlock::Kind::heading);
    CHECK(blocks[0].depth == 2);
    CHECK(blocks[0].runs[0].text == "Why");
    // The paragraph: plain, emphasised, plain, code, plain; its line break is a space (re-flowed on screen).
    const auto& runs = blocks[1].runs;
    REQUIRE(runs.size() == 5);
    CHECK((runs[1].text == "most recent" && runs[1].emphasis && !runs[1].code));
    CHECK((runs[3].text == "models/06_iocp.cpp" && runs[3].code));
    CHECK(runs[4].text == " first.");
    CHECK((blocks[2].kind == TextBlock::Kind::list_item && blocks[2].marker == "1." && blocks[2].depth == 1));
    CHECK((blocks[3].marker == "2." && blocks[3].runs[0].strong && blocks[3].runs[0].text == "two"));
    CHECK((blocks[4].kind == TextBlock::Kind::list_item && blocks[4].depth == 2 && blocks[4].runs[0].text == "nested"));
    CHECK((blocks[5].kind == TextBlock::Kind::table_row && blocks[5].header_row && blocks[5].cells.size() == 2));
    CHECK((blocks[6].kind == TextBlock::Kind::table_row && !blocks[6].header_row &&
           blocks[6].cells[1][0].text == "LIFO"));
    CHECK((blocks[7].kind == TextBlock::Kind::code_block && blocks[7].runs[0].text == "code  kept"));
}
