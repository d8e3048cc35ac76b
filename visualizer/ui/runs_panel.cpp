// visualizer/ui/runs_panel.cpp — the servers on screen, and the ways to add one: start a model (a Windows model
// under Wine on Linux, a Linux model natively), attach to a running server's trace port, open a saved trace, run
// the reference model.
#include <algorithm>
#include <cstdio>

#include "visualizer/model/compare_plan.h"
#include "visualizer/model/synthetic_trace.h"
#include "visualizer/ui/panels.h"

namespace socklab::viz::ui {

namespace {

// The LIFO lesson of common/kernel_queue/scenario.h: four workers, then packets one by one.
const char* const kDefaultScenario =
    "concurrency 2\n"
    "threads 4\n"
    "wait w1 w2 w3 w4        # w4 waited last: it is on top of the stack\n"
    "post                    # packet 1: the kernel releases the most recent waiter at once\n"
    "post\n"
    "post                    # two run = the concurrency value: this one waits\n"
    "block w4 50             # w4 sleeps: a waiter runs in its place\n"
    "unblock w4              # three run at once, as the rules allow\n"
    "done w3\n";

// The runs, one a line: a click selects one for the sidebar's controls, x closes it.
void draw_run_list(AppState& app) {
    for (int i = 0; i < static_cast<int>(app.runs.size()); ++i) {
        ImGui::PushID(i);
        if (ImGui::Selectable(app.runs[static_cast<std::size_t>(i)]->title().c_str(), app.selected_run == i, 0,
                              ImVec2(ImGui::GetContentRegionAvail().x - 24, 0)))
            app.selected_run = i;
        ImGui::SameLine();
        if (ImGui::SmallButton("x")) {
            app.remove(i);
            ImGui::PopID();
            break;
        }
        ImGui::PopID();
    }
}

// Start a model: socklab-server (on Linux natively for a Linux model, under Wine for a Windows one), then attached to.
void draw_start_server(AppState& app) {
    const std::vector<std::string>& models = known_models();  // every model that runs here, in the suite's order
    static int io_model = static_cast<int>(std::find(models.begin(), models.end(), "iocp") - models.begin());
    if (io_model >= static_cast<int>(models.size())) io_model = 0;
    // 0: the server picks a free port and says which, so a new server never clashes with one running.
    static int port = 0, trace_port = 0;
    ImGui::SetNextItemWidth(170);
    ImGui::Combo(
        "model", &io_model,
        [](void* ids, int index, const char** text) {
            *text = (*static_cast<const std::vector<std::string>*>(ids))[static_cast<std::size_t>(index)].c_str();
            return true;
        },
        const_cast<std::vector<std::string>*>(&models), static_cast<int>(models.size()));
    ImGui::SetNextItemWidth(80);
    ImGui::InputInt("port", &port, 0);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(80);
    ImGui::InputInt("trace port", &trace_port, 0);
    if (ImGui::Button("Start server")) {
        std::string error;
        auto run =
            TracedRun::start_server(app.repo_root, models[static_cast<std::size_t>(io_model)],
                                    static_cast<std::uint16_t>(port), static_cast<std::uint16_t>(trace_port), error);
        if (run) {
            app.add(std::move(run));
            if (port) ++port;
            if (trace_port) ++trace_port;
        } else {
            app.status = error;
        }
    }
    help_marker(
        "Runs `socklab serve <model> --port P --trace-port T` from the repository; a port left at 0 is "
        "picked by the server (a free one). On Linux a Linux model (poll, epoll, io-uring) runs natively, and a "
        "Windows model is the Windows build running under Wine: its first start takes a while (Wine creates its "
        "prefix).");
}

// Attach to a server already running with a trace port.
void draw_attach(AppState& app) {
    static int attach_port = 6000, attach_server_port = 5000;
    ImGui::SetNextItemWidth(80);
    ImGui::InputInt("trace port##attach", &attach_port, 0);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(80);
    ImGui::InputInt("server port##attach", &attach_server_port, 0);
    if (ImGui::Button("Attach")) {
        app.add(TracedRun::attach("127.0.0.1", static_cast<std::uint16_t>(attach_port),
                                  static_cast<std::uint16_t>(attach_server_port)));
    }
    help_marker(
        "Connects to a server already running with --trace-port. The server port is where the "
        "built-in clients connect (0 for none).");
}

// Open a trace file.
void draw_open_trace(AppState& app) {
    static char path[256] = "";
    ImGui::SetNextItemWidth(200);
    ImGui::InputText("##path", path, sizeof path);
    ImGui::SameLine();
    if (ImGui::Button("Open trace")) {
        std::string error;
        if (auto run = TracedRun::open_replay(path, error)) app.add(std::move(run));
        else app.status = error;
    }
    help_marker("A trace recorded by a server (--trace-file) or by the Record button.");
}

// The reference model on a scenario written here, and the synthetic demo trace.
void draw_reference_and_synthetic(AppState& app) {
    static char scenario[2048] = "";
    if (scenario[0] == '\0') std::snprintf(scenario, sizeof scenario, "%s", kDefaultScenario);
    ImGui::InputTextMultiline("##scenario", scenario, sizeof scenario, ImVec2(-1, ImGui::GetTextLineHeight() * 6));
    if (ImGui::Button("Reference model")) app.add(TracedRun::reference(scenario));
    help_marker(
        "The documented Windows completion-port rules, simulated step by step (common/kernel_queue). "
        "Shows LIFO release and the concurrency value on any machine, Wine or not.");
    ImGui::SameLine();
    if (ImGui::Button("Synthetic demo")) {
        SyntheticOptions options;
        options.gate_every = 7;
        app.add(TracedRun::from_trace("synthetic demo (not a measurement)", make_synthetic_trace(options)));
    }
    help_marker("A made-up IOCP-like trace generated by the visualizer: for trying the panels without a server.");
}

}  // namespace

void draw_runs(AppState& app) {
    section_heading("Sessions",
                    "Each session is one server: live, replayed from a file, or the reference model. "
                    "They are drawn side by side, so two models can be compared under the same load. "
                    "The selected one is controlled below.");
    draw_run_list(app);
    if (!ImGui::CollapsingHeader("Add a session")) return;
    draw_start_server(app);
    draw_attach(app);
    draw_open_trace(app);
    draw_reference_and_synthetic(app);
}

}  // namespace socklab::viz::ui
