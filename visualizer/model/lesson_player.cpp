// visualizer/model/lesson_player.cpp — see lesson_player.h.
#include "visualizer/model/lesson_player.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "common/net/socket.h"
#include "visualizer/model/server_process.h"

namespace socklab::viz {

namespace {

// A free loopback port for the server's live trace: bind port 0, read what the system chose, let it go.
std::uint16_t free_port() {
    static net::Startup startup;
    std::string error;
    net::Socket probe = net::listen_tcp("127.0.0.1", 0, error);
    return probe.valid() ? net::local_port(probe) : 0;
}

// A live step's server, started the way the visualizer starts every server (ServerProcess), with a trace file
// (for the checks) and a trace port (for the live view).
class VisualizerServer : public lessons::LiveServer {
public:
    VisualizerServer(std::string root, std::uint16_t trace_port) : root_(std::move(root)), trace_port_(trace_port) {}

    bool start(const std::string& io_model, const std::vector<std::string>& flags, const std::string& trace_file,
               std::uint16_t& port, std::string& error) override {
        std::vector<std::string> arguments{io_model, "--port", "0", "--trace-file", trace_file};
        if (trace_port_) arguments.insert(arguments.end(), {"--trace-port", std::to_string(trace_port_)});
        arguments.insert(arguments.end(), flags.begin(), flags.end());
        if (!process_.start(root_, arguments, error)) return false;
        for (auto started = std::chrono::steady_clock::now();;) {
            process_.poll();
            for (const std::string& line : process_.output()) {
                const auto at = line.find(" listening on ");
                if (at == std::string::npos) continue;
                port = static_cast<std::uint16_t>(std::atoi(line.c_str() + line.find(':', at) + 1));
                return port != 0;
            }
            if (process_.exited()) {
                error = "it stopped before listening";
                for (const std::string& line : process_.output()) error += "\n" + line;
                return false;
            }
            if (std::chrono::steady_clock::now() - started > std::chrono::seconds(120)) {
                error = "it did not listen within 120 s";
                process_.stop();
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    bool stop(std::string&) override {
        process_.stop();  // stdin closed, then ended after 5 s: the trace file is then whatever was written
        return true;
    }

private:
    std::string root_;
    std::uint16_t trace_port_;
    ServerProcess process_;
};

}  // namespace

std::unique_ptr<LessonPlayer> LessonPlayer::open(const std::string& repo_root, int number, std::string& error) {
    std::unique_ptr<LessonPlayer> run(new LessonPlayer());
    for (const std::string& file : lessons::lesson_files(repo_root + "/lessons", error)) {
        lessons::Lesson lesson = lessons::load_lesson(file);
        if (lesson.number != number) continue;
        if (!lesson.parsed()) {
            error.clear();
            for (const std::string& problem : lesson.errors) error += problem + "\n";
            return nullptr;
        }
        run->lesson_ = std::move(lesson);
    }
    if (!error.empty()) return nullptr;
    if (run->lesson_.steps.empty()) {
        error = "no lesson " + std::to_string(number) + " in " + repo_root + "/lessons/order.txt";
        return nullptr;
    }
    run->anchors_ = lessons::AnchorIndex::scan(repo_root);
    run->root_ = repo_root;
    run->go_to(0);
    return run;
}

LessonPlayer::~LessonPlayer() { join(); }

void LessonPlayer::join() {
    if (worker_.joinable()) worker_.join();
}

void LessonPlayer::go_to(std::size_t index) {
    if (index >= lesson_.steps.size()) return;
    join();
    step_ = index;
    ++serial_;
    shown_anchor = step().anchors.empty() ? "" : step().anchors.front();
    std::lock_guard guard(lock_);
    log_.clear();
    result_.reset();
    attach_trace_port_ = attach_server_port_ = 0;
    finished_pending_ = false;
    decided_for_lines_ = static_cast<std::size_t>(-1);
    reference_decided_.clear();
}

void LessonPlayer::start_live_run() {
    if (running_ || !step().runs_live()) return;
    join();
    {
        std::lock_guard guard(lock_);
        log_.clear();
        result_.reset();
    }
    running_ = true;
    worker_ = std::thread([this, step = step()] {
        const std::uint16_t trace_port = free_port();
        VisualizerServer server(root_, trace_port);
        lessons::StepResult result = lessons::run_live_step(step, server, [&](const std::string& line) {
            std::lock_guard guard(lock_);
            log_.push_back(line);
            const auto at = line.find("listening on 127.0.0.1:");
            if (at != std::string::npos && trace_port) {
                attach_trace_port_ = trace_port;
                attach_server_port_ = static_cast<std::uint16_t>(std::atoi(line.c_str() + at + 23));
            }
        });
        std::lock_guard guard(lock_);
        result_ = std::move(result);
        finished_pending_ = true;
        running_ = false;
    });
}

std::vector<std::string> LessonPlayer::live_log() const {
    std::lock_guard guard(lock_);
    return log_;
}

bool LessonPlayer::take_attach(std::uint16_t& trace_port, std::uint16_t& server_port) {
    std::lock_guard guard(lock_);
    if (!attach_trace_port_) return false;
    trace_port = attach_trace_port_;
    server_port = attach_server_port_;
    attach_trace_port_ = 0;
    return true;
}

bool LessonPlayer::take_finished(std::string& trace_file) {
    std::lock_guard guard(lock_);
    if (!finished_pending_) return false;
    finished_pending_ = false;
    trace_file = result_ ? result_->trace_file : "";
    return true;
}

std::optional<lessons::StepResult> LessonPlayer::live_result() const {
    std::lock_guard guard(lock_);
    return result_;
}

std::vector<LessonPlayer::CheckView> LessonPlayer::checks(const kernel_queue::ScenarioPlayer* player) {
    std::vector<CheckView> views;
    const lessons::Step& current = step();
    if (current.runs_live()) {
        const auto result = live_result();
        for (const lessons::Command& check : current.checks) {
            CheckView view{check.line, check.text, CheckState::pending, ""};
            if (result) {
                view.state = CheckState::not_met;
                view.detail = result->error;
                for (const lessons::CheckResult& decided : result->checks)
                    if (decided.line == check.line) {
                        view.state = decided.met ? CheckState::met : CheckState::not_met;
                        view.detail = decided.detail;
                    }
            }
            views.push_back(view);
        }
        return views;
    }
    if (!current.runs_reference() || !player) return views;
    const kernel_queue::ScenarioRun& run = player->run();
    // The step's own checks read the trace of the whole scenario: decided once it has been played to the end.
    if (player->finished() && decided_for_lines_ != run.lines.size()) {
        viz::TraceModel model;
        lessons::load_trace(run.model.trace(), model);
        reference_decided_ = lessons::decide_checks(current, {}, model);
        decided_for_lines_ = run.lines.size();
    }
    for (const lessons::Command& check : current.checks) {
        CheckView view{check.line, check.text, CheckState::pending, "when the scenario has been played"};
        for (const lessons::CheckResult& decided : reference_decided_)
            if (player->finished() && decided.line == check.line) {
                view.state = decided.met ? CheckState::met : CheckState::not_met;
                view.detail = decided.detail;
            }
        views.push_back(view);
    }
    // The scenario's expect lines: pending until played, then as the model found.
    std::vector<std::string> lines;
    for (std::size_t begin = 0; begin <= current.scenario.size();) {
        auto end = current.scenario.find('\n', begin);
        if (end == std::string::npos) end = current.scenario.size();
        lines.push_back(current.scenario.substr(begin, end - begin));
        begin = end + 1;
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto words = kernel_queue::scenario_words(lines[i]);
        if (words.empty() || words[0] != "expect") continue;
        CheckView view{current.scenario_line + static_cast<int>(i), "", CheckState::pending, "not played yet"};
        for (const std::string& word : words) view.text += (view.text.empty() ? "" : " ") + word;
        for (const kernel_queue::ScenarioLineOutcome& outcome : run.lines)
            if (outcome.line.number == static_cast<int>(i) + 1 && outcome.is_expectation) {
                view.state = outcome.expectation_met ? CheckState::met : CheckState::not_met;
                view.detail = outcome.expectation_met ? "as the rules say" : "";
                for (const auto& failure : run.failed_expectations)
                    if (failure.line.number == outcome.line.number) view.detail = failure.message;
            }
        views.push_back(view);
    }
    return views;
}

}  // namespace socklab::viz
