// visualizer/model/lesson_player.h — a lesson open in the visualizer: which step is shown, and the step's run.
//
// The lesson panel (visualizer/ui/lesson_panel.cpp) draws this; it holds no ImGui. A reference step is played by
// a reference TracedRun the panel adds (one scenario line per Next line, so the class sees each decision), and its
// checks turn met or not met as their lines are played. A live step runs in a background thread — the same
// run_live_step as `socklab lesson N --check` — against socklab-server started by ServerProcess, which also serves
// its trace live so the panel can attach a live run while it runs; when the step is over its checks are
// decided from the server's trace file, which the panel then opens as a replay.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/kernel_queue/scenario.h"
#include "visualizer/model/lesson.h"
#include "visualizer/model/lesson_run.h"

namespace socklab::viz {

class LessonPlayer {
public:
    enum class CheckState { pending, met, not_met };
    struct CheckView {
        int line = 0;
        std::string text;
        CheckState state = CheckState::pending;
        std::string detail;
    };

    // Opens lesson `number` of repo_root/lessons (order.txt). Null with a message when there is none or it does
    // not parse.
    static std::unique_ptr<LessonPlayer> open(const std::string& repo_root, int number, std::string& error);
    ~LessonPlayer();

    const lessons::Lesson& lesson() const { return lesson_; }
    const lessons::AnchorIndex& anchors() const { return anchors_; }
    std::size_t step_index() const { return step_; }
    const lessons::Step& step() const { return lesson_.steps[step_]; }
    // Moves to another step (waits for a live run in progress to finish first).
    void go_to(std::size_t index);
    // Counts up on every go_to: the panel starts the new step's run when it changes.
    unsigned step_serial() const { return serial_; }
    // The anchor whose source is shown (the step's first, until one is clicked).
    std::string shown_anchor;

    // ---- live steps ----
    void start_live_run();
    bool live_running() const { return running_; }
    std::vector<std::string> live_log() const;
    // Once, when the server listens: where the panel attaches a live run.
    bool take_attach(std::uint16_t& trace_port, std::uint16_t& server_port);
    // Once, when the run is over: the trace file to replay (empty when none was written).
    bool take_finished(std::string& trace_file);
    std::optional<lessons::StepResult> live_result() const;

    // ---- every step ----
    // The step's checks as they stand: for a reference step, given the scenario as played so far.
    std::vector<CheckView> checks(const kernel_queue::ScenarioPlayer* player);

private:
    LessonPlayer() = default;
    void join();

    lessons::Lesson lesson_;
    lessons::AnchorIndex anchors_;
    std::string root_;  // the tree of lessons/ and, on Linux, build/mingw/bin/socklab-server.exe
    std::size_t step_ = 0;
    unsigned serial_ = 0;

    std::thread worker_;
    std::atomic<bool> running_{false};
    mutable std::mutex lock_;  // guards everything below
    std::vector<std::string> log_;
    std::optional<lessons::StepResult> result_;
    std::uint16_t attach_trace_port_ = 0, attach_server_port_ = 0;
    bool finished_pending_ = false;

    // The reference step's own checks (lifo-share, count, ...), decided once its scenario has been played.
    std::size_t decided_for_lines_ = static_cast<std::size_t>(-1);
    std::vector<lessons::CheckResult> reference_decided_;
};

}  // namespace socklab::viz
