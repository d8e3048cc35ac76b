// visualizer/main.cpp — socklab-viz: watch a server's threads wait, wake and take completion packets.
//
//   socklab-viz --start iocp                      start a model (on Linux: a Windows model under Wine, a Linux
//                                                 model such as poll natively) and watch it live
//   socklab-viz --compare iocp,select --connect 16 --saturate   models side by side under the same load, plotted
//   socklab-viz --attach 6000 --server-port 5000  attach to a running server's trace port
//   socklab-viz --replay run.sltrace              replay a saved trace (repeat to compare side by side)
//   socklab-viz --reference                       the reference model of the Windows completion-port rules
//   socklab-viz --lesson 7                        lesson 7 step by step (lessons/), its runs and checks
//   socklab-viz --replay run.sltrace --frames 5 --screenshot out.png --size 1600x900    headless, for tests
//   socklab-viz --replay run.sltrace --dump-model | --export-chrome out.json           no window at all
//   socklab-viz --start iocp --gate --step 3 --slow 200 --scale 1.5    the keys' actions as flags (keys.h)
//
// Phases, as in the Dear ImGui examples: setup (options, runs, window, ImGui), main loop (events,
// runs, headless bookkeeping), render (ImGui frame, OpenGL, screenshot), cleanup.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifdef _WIN32
#include <windows.h>  // GetThreadTimes: Windows has no per-thread CPU clock in clock_gettime
#endif

#include <GLFW/glfw3.h>
#include <stb_image_write.h>

#include "common/process/child_process.h"
#include "imgui.h"
#include "imgui_impl_glfw.h"
#include "imgui_impl_opengl3.h"
#include "visualizer/model/chrome_export.h"
#include "visualizer/model/compare_plan.h"
#include "visualizer/model/trace_model_dump.h"
#include "visualizer/model/synthetic_trace.h"
#include "visualizer/ui/panels.h"

using namespace socklab::viz;

namespace {

// ---- options ----------------------------------------------------------------------------------------------

struct Options {
    struct LiveStart {
        std::string io_model;
        int port = 0, trace_port = 0;
    };
    struct Attach {
        int trace_port = 0, server_port = 0;
    };
    std::vector<std::string> replays;
    std::vector<Attach> attaches;
    std::vector<LiveStart> starts;
    std::vector<std::string> references;  // scenario files; "" = the built-in LIFO lesson
    int synthetic_lifo = 0, synthetic_fifo = 0;
    std::string repo_root;
    std::string export_chrome;
    bool dump_trace_model = false;
    int frames = 0;  // 0 = run until the window closes
    std::string screenshot;
    int width = 1600, height = 900;
    double cursor_fraction = -1;
    int connect_clients = 0;
    double pace = 0;                   // steady lines per second from the connected clients
    bool saturate = false;             // closed loop: each client keeps one line in flight
    std::vector<std::string> compare;  // --compare A,B,...: the models, each started as a run
    std::string compare_ports;         // --compare-ports P,Q,...: their listening ports (default: free ones)
    double seconds = 0;                // headless: run this long after the clients start, then exit
    std::vector<std::string> client_lines;
    double wait_live_seconds = 30;
    bool gate = false;
    std::string record;       // live: record the first live run to this file
    std::string select_kind;  // select the last event of this kind before each cursor (wait_end, ...)
    int lesson = -1;          // --lesson N
    int lesson_step = 1;      // --lesson N --step K (or --lesson-step K): the step the lesson opens at
    // The keys' actions as flags (visualizer/ui/keys.h), applied to the selected run (the last opened):
    int steps = -1;                   // --step N: N steps (live: releases; reference: scenario lines from the start)
    int slow_ms = -1;                 // --slow MS: slow motion on every live run once connected
    std::vector<ui::Action> actions;  // --do a,b,c: any actions by name, in order, before the --step ones
    float scale = 0;                  // --scale S; 0 = from the monitor's DPI
};

const char* const kUsage =
    "usage: socklab-viz [sessions] [options]\n"
    "sessions (each may repeat; they are shown side by side):\n"
    "  --replay FILE            a saved trace (a server's --trace-file, or the Record button)\n"
    "  --attach PORT            a running server's trace port; --server-port P for the built-in clients\n"
    "  --start MODEL            start socklab-server MODEL (--port P --trace-port T apply to the last one;\n"
    "                           without them the server picks free ports); on Linux a Linux model (poll,\n"
    "                           epoll, io-uring) runs natively, a Windows model under Wine\n"
    "  --compare A,B[,...]      start each model (the servers pick free ports, so none clash), drive the same\n"
    "                           load on each (--connect N clients, default 16; --saturate, the default, or\n"
    "                           --pace N) and plot their replies/s and latency together; prints a summary at exit\n"
    "  --compare-ports P,Q[,...]  the compared servers' ports, one per model in order (default: free ones)\n"
    "  --reference [FILE]       the reference model running a scenario (default: the LIFO lesson)\n"
    "  --synthetic, --synthetic-fifo   a made-up IOCP-like trace, LIFO or FIFO (not a measurement)\n"
    "  --lesson N [--step K]    lesson N of lessons/ step by step (socklab lesson lists them), opened at step K\n"
    "                           (also --lesson-step K); each step starts what it runs and shows its checks\n"
    "options:\n"
    "  --repo DIR               repository root, for source lines and the socklab command\n"
    "  --frames N               render N frames, then exit\n"
    "  --screenshot PNG         write the last frame as a PNG (with --frames: headless, under xvfb-run)\n"
    "  --size WxH               window size (default 1600x900)\n"
    "  --cursor-fraction F      replays: put the cursor at F (0..1) of the trace instead of its end\n"
    "  --connect N, --send LINE live sessions: connect N clients, then send LINE from each once connected\n"
    "  --pace N                 live sessions: the clients send N lines per second in all, steadily (open loop)\n"
    "  --saturate               live sessions: closed loop, each client keeps one 64-byte line in flight and\n"
    "                           sends the next as its reply arrives (throughput is then what models differ in)\n"
    "  --seconds S              headless: run S seconds after the clients start (instead of --frames), then exit\n"
    "  --wait-live SECONDS      headless live: wait this long for events before counting frames (default 30)\n"
    "  --gate                   live sessions: turn the step gate on once connected (workers stop after waits)\n"
    "  --record FILE            record the first live session to FILE (a trace --replay opens)\n"
    "  --select KIND            select the last event of KIND (wait_end, packet_dequeued, ...) before the\n"
    "                           cursor, so the event and source panels show it (for screenshots)\n"
    "  --dump-model             print the first session's derived figures as text and exit\n"
    "  --export-chrome OUT.json write the first session as Chrome trace JSON (Perfetto) and exit\n"
    "  --scale S                text and sizes S times larger (0.75..3; default: the monitor's DPI); Ctrl +/-\n"
    "the keys as flags (F1 in the window lists the keys; they act on the selected session, the last opened):\n"
    "  --step N                 N steps: live, turn the gate on if needed and release N held workers one by one\n"
    "                           (the timeline zooms on each); reference, play N scenario lines from the start\n"
    "  --slow MS                live: every worker pauses MS milliseconds after each wait (slow motion)\n"
    "  --do A,B,...             actions by name: pause, step, run, slow-up, slow-down, next-step, previous-step,\n"
    "                           zoom-last-step, larger, smaller, default-size, help\n";

// Reads the option at argv[i] (and its value, leaving i on the value) into options. Throws, saying what is wrong.
void read_option(int argc, char** argv, int& i, Options& options) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
        return argv[++i];
    };
    if (arg == "--replay") options.replays.push_back(value());
    else if (arg == "--attach") options.attaches.push_back({std::stoi(value()), 0});
    else if (arg == "--server-port" && !options.attaches.empty())
        options.attaches.back().server_port = std::stoi(value());
    else if (arg == "--start") {
        // Checked at once, as --compare is: a typo or another platform's model costs no server start.
        std::string model = value(), error;
        if (!check_model(model, "--start", error)) throw std::runtime_error(error);
        options.starts.push_back({model, 0, 0});
    }
    else if (arg == "--port" && !options.starts.empty()) options.starts.back().port = std::stoi(value());
    else if (arg == "--trace-port" && !options.starts.empty()) options.starts.back().trace_port = std::stoi(value());
    else if (arg == "--reference") options.references.push_back(i + 1 < argc && argv[i + 1][0] != '-' ? argv[++i] : "");
    else if (arg == "--lesson") options.lesson = std::stoi(value());
    // Right after --lesson N, --step K is the lesson's step (as it always was); anywhere else, gate steps.
    else if (arg == "--step" && i >= 3 && std::string(argv[i - 2]) == "--lesson")
        options.lesson_step = std::stoi(value());
    else if (arg == "--lesson-step") options.lesson_step = std::stoi(value());
    else if (arg == "--step") options.steps = std::stoi(value());
    else if (arg == "--slow") options.slow_ms = std::stoi(value());
    else if (arg == "--scale") options.scale = std::stof(value());
    else if (arg == "--do") {
        std::string error;
        if (!ui::parse_actions(value(), options.actions, error)) throw std::runtime_error("--do: " + error);
    } else if (arg == "--synthetic") ++options.synthetic_lifo;
    else if (arg == "--synthetic-fifo") ++options.synthetic_fifo;
    else if (arg == "--repo") options.repo_root = value();
    else if (arg == "--export-chrome") options.export_chrome = value();
    else if (arg == "--dump-model") options.dump_trace_model = true;
    else if (arg == "--frames") options.frames = std::stoi(value());
    else if (arg == "--screenshot") options.screenshot = value();
    else if (arg == "--size") {
        const std::string size = value();
        if (std::sscanf(size.c_str(), "%dx%d", &options.width, &options.height) != 2 || options.width < 200 ||
            options.height < 150)
            throw std::runtime_error("--size wants WIDTHxHEIGHT, at least 200x150");
    } else if (arg == "--cursor-fraction") options.cursor_fraction = std::stod(value());
    else if (arg == "--connect") options.connect_clients = std::stoi(value());
    else if (arg == "--send") options.client_lines.push_back(value());
    else if (arg == "--pace") options.pace = std::stod(value());
    else if (arg == "--saturate") options.saturate = true;
    else if (arg == "--seconds") options.seconds = std::stod(value());
    else if (arg == "--compare") {
        if (!options.compare.empty())
            throw std::runtime_error("--compare once, naming every model: --compare iocp,select");
        std::string error;
        if (!parse_compare_models(value(), options.compare, error)) throw std::runtime_error(error);
    } else if (arg == "--compare-ports") options.compare_ports = value();
    else if (arg == "--wait-live") options.wait_live_seconds = std::stod(value());
    else if (arg == "--gate") options.gate = true;
    else if (arg == "--record") options.record = value();
    else if (arg == "--select") options.select_kind = value();
    else if (arg == "--help" || arg == "-h") {
        std::fputs(kUsage, stdout);
        std::exit(0);
    } else {
        throw std::runtime_error("unknown option " + arg);
    }
}

// Checks across options, so a mistake costs no Wine start-up; --compare becomes the starts and the load it implies.
bool check_options(Options& options) {
    auto refuse = [](const std::string& why) {
        std::fprintf(stderr, "socklab-viz: %s\n", why.c_str());
        return false;
    };
    if (options.saturate && options.pace > 0)
        return refuse("--saturate (closed loop) and --pace N (open loop) are two different loads: choose one");
    if (options.connect_clients < 0 || options.pace < 0 || options.seconds < 0)
        return refuse("--connect, --pace and --seconds take numbers of zero or more");
    if (options.scale != 0 && !(options.scale >= ui::kMinScale && options.scale <= ui::kMaxScale))
        return refuse("--scale takes a number from 0.75 to 3");
    if (options.slow_ms > 5000) return refuse("--slow takes 0 to 5000 milliseconds");
    if (!options.compare_ports.empty() && options.compare.empty())
        return refuse("--compare-ports goes with --compare (--start MODEL --port P for one server)");
    if (!options.compare.empty()) {
        if (options.connect_clients == 0) options.connect_clients = 16;
        if (options.pace == 0) options.saturate = true;  // the comparison is throughput unless a pace is asked for
        std::vector<std::uint16_t> ports(options.compare.size(), 0);
        std::string error;
        if (!options.compare_ports.empty() &&
            !parse_compare_ports(options.compare_ports, options.compare.size(), ports, error))
            return refuse(error);
        for (std::size_t i = 0; i < options.compare.size(); ++i)
            options.starts.push_back({options.compare[i], ports[i], 0});
    }
    return true;
}

bool parse_options(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; ++i) {
        try {
            read_option(argc, argv, i, options);
        } catch (const std::exception& error) {
            std::fprintf(stderr, "socklab-viz: %s\n%s", error.what(), kUsage);
            return false;
        }
    }
    return check_options(options);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Opens every run the options name. False (with a message printed) when one cannot be opened.
bool open_runs(const Options& options, ui::AppState& app) {
    for (const auto& path : options.replays) {
        std::string error;
        auto run = TracedRun::open_replay(path, error);
        if (!run) {
            std::fprintf(stderr, "socklab-viz: %s\n", error.c_str());
            return false;
        }
        if (options.cursor_fraction >= 0) {
            const auto& model = run->trace_model();
            run->seek(model.first_ns() +
                      static_cast<std::uint64_t>(options.cursor_fraction * double(model.last_ns() - model.first_ns())));
        }
        app.add(std::move(run));
    }
    for (const auto& reference : options.references) {
        auto run = TracedRun::reference(reference.empty() ? std::string() : read_file(reference));
        if (reference.empty()) {
            // The built-in lesson: four workers, packets one at a time (see common/kernel_queue/scenario.h).
            run = TracedRun::reference(
                "concurrency 2\nthreads 4\nwait w1 w2 w3 w4\npost\npost\npost\n"
                "block w4 50\nunblock w4\ndone w3\n");
        }
        app.add(std::move(run));  // opened at its first step (TracedRun::reference): the class plays the rest
    }
    for (int i = 0; i < options.synthetic_lifo + options.synthetic_fifo; ++i) {
        SyntheticOptions synthetic;
        synthetic.lifo = i < options.synthetic_lifo;
        synthetic.gate_every = 7;
        synthetic.runtime = synthetic.lifo ? "synthetic (LIFO, as Windows)" : "synthetic (FIFO, as Wine 8.0)";
        app.add(TracedRun::from_trace(
            synthetic.lifo ? "synthetic LIFO (not a measurement)" : "synthetic FIFO (not a measurement)",
            make_synthetic_trace(synthetic)));
    }
    for (const auto& attach : options.attaches)
        app.add(TracedRun::attach("127.0.0.1", static_cast<std::uint16_t>(attach.trace_port),
                                  static_cast<std::uint16_t>(attach.server_port)));
    for (const auto& start : options.starts) {
        std::string error;
        // Ports not given are 0: the server picks free ones and says which (TracedRun reads them from its output).
        auto run = TracedRun::start_server(app.repo_root, start.io_model, static_cast<std::uint16_t>(start.port),
                                           static_cast<std::uint16_t>(start.trace_port), error);
        if (!run) {
            std::fprintf(stderr, "socklab-viz: cannot start %s: %s\n", start.io_model.c_str(), error.c_str());
            return false;
        }
        app.add(std::move(run));
    }
    return true;
}

// Reads the window's back buffer (what the frame just drew) and writes it as a PNG.
bool write_screenshot(const std::string& path, int width, int height) {
    std::vector<unsigned char> pixels(static_cast<std::size_t>(width) * height * 4);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadBuffer(GL_BACK);
    glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
    // OpenGL's rows run bottom to top; PNG's top to bottom.
    const std::size_t row = static_cast<std::size_t>(width) * 4;
    std::vector<unsigned char> flipped(pixels.size());
    for (int y = 0; y < height; ++y)
        std::copy_n(pixels.data() + static_cast<std::size_t>(height - 1 - y) * row, row, flipped.data() + y * row);
    return stbi_write_png(path.c_str(), width, height, 4, flipped.data(), static_cast<int>(row)) != 0;
}

// Selects, in every run with nothing selected, the last event of the named kind before its cursor.
void select_last_of_kind(ui::AppState& app, const std::string& kind_name) {
    for (std::size_t i = 0; i < app.runs.size(); ++i) {
        ui::RunView& view = app.views[i];
        const TraceModel& model = app.runs[i]->trace_model();
        if (view.selected_event != kNoEvent) continue;
        std::size_t index = model.first_event_at_or_after(app.runs[i]->cursor_ns() + 1);
        for (std::size_t looked = 0; index > 0 && looked < 1'000'000; ++looked) {
            const StoredEvent& event = model.events()[--index];
            if (socklab::trace::to_string(event.kind) != kind_name) continue;
            view.selected_event = static_cast<std::uint32_t>(index);
            view.scroll_source_to_selection = true;
            break;
        }
    }
}

// ---- text size and contrast --------------------------------------------------------------------------------

// The UI's TrueType font: the first of these that exists; none, and ImGui's built-in bitmap font, scaled.
std::string ui_font_file() {
    std::vector<std::string> candidates;
#ifdef _WIN32
    // Fonts every Windows has, in the Windows folder (not always C:\Windows).
    const char* windows = std::getenv("WINDIR");
    const std::string fonts = std::string(windows ? windows : "C:\\Windows") + "\\Fonts\\";
    candidates = {fonts + "segoeui.ttf", fonts + "arial.ttf", fonts + "tahoma.ttf",
                  // Under Wine a prefix may hold no Windows fonts at all; drive Z: is the Linux root.
                  "Z:\\usr\\share\\fonts\\truetype\\dejavu\\DejaVuSans.ttf"};
#else
    candidates = {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"};
#endif
    for (const auto& file : candidates)
        if (std::ifstream(file).good()) return file;
    return "";
}

// Colours that survive a projector: the dark theme's disabled grey (0.50) and its translucent panels wash out.
void projector_colours(ImGuiStyle& style) {
    ImVec4* colours = style.Colors;
    colours[ImGuiCol_Text] = ImVec4(0.97f, 0.97f, 0.97f, 1.0f);
    colours[ImGuiCol_TextDisabled] = ImVec4(0.76f, 0.77f, 0.80f, 1.0f);
    colours[ImGuiCol_WindowBg] = ImVec4(0.05f, 0.05f, 0.06f, 1.0f);
    colours[ImGuiCol_PopupBg] = ImVec4(0.09f, 0.09f, 0.11f, 0.98f);
    colours[ImGuiCol_Border] = ImVec4(0.42f, 0.42f, 0.50f, 0.70f);
    colours[ImGuiCol_Separator] = colours[ImGuiCol_Border];
}

// Builds the font atlas at the app's scale (the TrueType font rasterized at that size, not a stretched bitmap)
// and the style's sizes with it. `upload`: replace the OpenGL font texture too (once the backend made one).
void build_fonts_and_style(ui::AppState& app, bool upload) {
    ImGuiIO& io = ImGui::GetIO();
    const float pixels = ui::font_pixels(app.ui_scale);
    io.Fonts->Clear();
    static const std::string font_file = ui_font_file();
    if (!font_file.empty()) {
        io.Fonts->AddFontFromFileTTF(font_file.c_str(), pixels);
        // A larger size for the figures a class reads from the back of the room (the compare plots).
        app.large_font =
            io.Fonts->AddFontFromFileTTF(font_file.c_str(), std::round(pixels * 20.0f / ui::kBaseFontPixels));
    } else {
        ImFontConfig config;
        config.SizePixels = std::round(13.0f * pixels / ui::kBaseFontPixels);
        io.Fonts->AddFontDefault(&config);
        app.large_font = nullptr;
    }
    io.Fonts->Build();
    if (upload) {
        ImGui_ImplOpenGL3_DestroyFontsTexture();
        ImGui_ImplOpenGL3_CreateFontsTexture();
    }
    ImGuiStyle& style = ImGui::GetStyle();
    style = ImGuiStyle();
    ImGui::StyleColorsDark(&style);
    projector_colours(style);
    style.ScaleAllSizes(pixels / ui::kBaseFontPixels);
    app.fonts_scale = app.ui_scale;
}

// ---- the keys' actions as flags -----------------------------------------------------------------------------

bool acts_on_run(ui::Action action) {
    switch (action) {
        case ui::Action::pause:
        case ui::Action::step:
        case ui::Action::run:
        case ui::Action::slow_up:
        case ui::Action::slow_down:
        case ui::Action::zoom_last_step:
            return true;
        default:
            return false;
    }
}

std::size_t held_count(const TracedRun& run) {
    std::size_t held = 0;
    for (const auto& lane : run.trace_model().lanes())
        if (lane.state == LaneState::held) ++held;
    return held;
}

// Applies the script's actions that can go now; those on a live run wait for it: until its trace connection
// is up, and a step until a worker is held (a step with nobody held releases nothing), one a frame at most every
// 150 ms so each release arrives and is zoomed on before the next.
void run_script(ui::AppState& app, std::deque<ui::Action>& script, double now_seconds, double& last_live_action) {
    while (!script.empty()) {
        const ui::Action action = script.front();
        TracedRun* run = app.runs.empty() ? nullptr : app.runs[static_cast<std::size_t>(app.selected_run)].get();
        if (acts_on_run(action) && !run) return;  // a lesson's step adds its run on its first frame
        if (acts_on_run(action) && run->live()) {
            if (run->connection().status() != LiveConnection::Status::connected) return;
            if (now_seconds - last_live_action < 0.15) return;
            if (action == ui::Action::step && !run->gate_on()) {
                run->set_gate(true);  // a step needs the gate on: on first, and the step waits for a hold
                last_live_action = now_seconds;
                return;
            }
            if (action == ui::Action::step && held_count(*run) == 0) return;
            last_live_action = now_seconds;
            ui::apply_action(app, action);
            script.pop_front();
            return;
        }
        ui::apply_action(app, action);
        script.pop_front();
    }
}

// Key presses as GLFW reports them, applied between frames. Not ImGui's key state: a presenter's clicker (and
// xdotool) presses and releases within one frame, which a per-frame "is it down" never sees.
struct KeyPress {
    int key, mods;
};
std::vector<KeyPress> pending_keys;

void on_key(GLFWwindow*, int key, int, int action, int mods) {
    if (action == GLFW_PRESS) pending_keys.push_back({key, mods});
}

void apply_pending_keys(ui::AppState& app) {
    // Typing a line for the clients is not a command (ImGui says so from the last frame).
    if (!ImGui::GetIO().WantTextInput)
        for (const KeyPress& press : pending_keys)
            ui::apply_action(app,
                             ui::action_for_key(press.key, press.mods & GLFW_MOD_CONTROL, press.mods & GLFW_MOD_SHIFT));
    pending_keys.clear();
}

// CPU time this thread has used, in milliseconds: what a frame costs, whatever else the machine does.
double thread_cpu_ms() {
#ifdef _WIN32
    // Counted in 100 ns units but advanced in scheduler ticks (about 15.6 ms): only a mean over many frames says
    // much there.
    FILETIME created, exited, kernel, user;
    GetThreadTimes(GetCurrentThread(), &created, &exited, &kernel, &user);
    auto ms = [](const FILETIME& time) {
        return double((std::uint64_t(time.dwHighDateTime) << 32) | time.dwLowDateTime) / 1e4;
    };
    return ms(kernel) + ms(user);
#else
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return double(now.tv_sec) * 1e3 + double(now.tv_nsec) / 1e6;
#endif
}

// The folder the lessons and model sources are read from (visualizer/README.md): --repo, else $SOCKLAB_ROOT,
// else this program's own folder when the lessons are beside it (the unpacked Windows zip), else the source tree
// it was built from.
std::string find_root(const std::string& repo_option) {
    if (!repo_option.empty()) return repo_option;
    if (const char* root = std::getenv("SOCKLAB_ROOT"); root && *root) return root;
    const std::string own_folder = socklab::process::this_program_folder();
    std::error_code error;
    if (std::filesystem::is_directory(std::filesystem::path(own_folder) / "lessons", error)) return own_folder;
    return SOCKLAB_SOURCE_ROOT;
}

// ---- setup ----------------------------------------------------------------------------------------------------

// --lesson N: opens it at --step K. False (with a message printed) when there is no such lesson.
bool open_lesson(const Options& options, ui::AppState& app) {
    if (options.lesson < 0) return true;
    std::string error;
    app.lesson = LessonPlayer::open(app.repo_root, options.lesson, error);
    if (!app.lesson) {
        std::fprintf(stderr, "socklab-viz: %s\n", error.c_str());
        return false;
    }
    app.lesson->go_to(static_cast<std::size_t>(std::max(1, options.lesson_step) - 1));
    return true;
}

// The keys' actions as flags, in the order they are applied: --do's, then --step N's steps.
struct Script {
    std::deque<ui::Action> actions;
    double last_live_action = -1;  // when an action last went to a live run (run_script paces them)
};

Script script_from_options(const Options& options, ui::AppState& app) {
    Script script;
    script.actions.assign(options.actions.begin(), options.actions.end());
    for (int i = 0; i < options.steps; ++i) script.actions.push_back(ui::Action::step);
    // A reference run is stepped from its start.
    if (options.steps >= 0 && !app.runs.empty()) {
        TracedRun& selected = *app.runs[static_cast<std::size_t>(app.selected_run)];
        if (selected.scenario()) selected.scenario_restart();
    }
    return script;
}

bool window_needed(const Options& options) {
    return options.frames > 0 || options.seconds > 0 || (!options.dump_trace_model && options.export_chrome.empty());
}

bool headless(const Options& options) { return options.frames > 0 || options.seconds > 0; }

// --dump-model and --export-chrome: the first run as text or as Chrome trace JSON. The exit code.
int report_first_run(const Options& options, ui::AppState& app) {
    if (app.runs.empty()) {
        std::fprintf(stderr, "socklab-viz: --dump-model and --export-chrome need a session (--replay FILE)\n");
        return 2;
    }
    TracedRun& first = *app.runs.front();
    if (options.dump_trace_model) dump_trace_model(first.trace_model(), first.cursor_ns(), std::cout);
    if (!options.export_chrome.empty()) {
        std::string error;
        if (!export_chrome_trace(first.trace_model(), options.export_chrome, error)) {
            std::fprintf(stderr, "socklab-viz: %s\n", error.c_str());
            return 1;
        }
        std::fprintf(stderr, "socklab-viz: wrote %s (open it at ui.perfetto.dev)\n", options.export_chrome.c_str());
    }
    return 0;
}

// Opens the window at the size asked, with an OpenGL 3 context and Dear ImGui on it, and sets the text scale.
// Null (with a message printed) when there is no display or no OpenGL 3.
GLFWwindow* open_window(const Options& options, ui::AppState& app) {
    glfwSetErrorCallback([](int code, const char* text) { std::fprintf(stderr, "GLFW error %d: %s\n", code, text); });
    if (!glfwInit()) {
        std::fprintf(stderr, "socklab-viz: cannot open a window (no display? headless runs go under xvfb-run -a)\n");
        return nullptr;
    }
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
    GLFWwindow* window = glfwCreateWindow(options.width, options.height, "socklab-viz", nullptr, nullptr);
    if (!window) {
        std::fprintf(stderr, "socklab-viz: cannot create an OpenGL 3 window\n");
        glfwTerminate();
        return nullptr;
    }
    // Windows keeps a window no larger than the screen unless the program sets its own limit (Wine: the screen its
    // desktop saw first, 1024x768 when that was no display at all), and a headless screenshot must have the size
    // asked for. So when the window came out smaller, the limit becomes "none" and the size is asked again.
    int window_width = 0, window_height = 0;
    glfwGetWindowSize(window, &window_width, &window_height);
    if (window_width < options.width || window_height < options.height) {
        constexpr int kNoLimit = 1 << 14;
        glfwSetWindowSizeLimits(window, GLFW_DONT_CARE, GLFW_DONT_CARE, kNoLimit, kNoLimit);
        glfwSetWindowSize(window, options.width, options.height);
    }
    glfwMakeContextCurrent(window);
    // Text size: --scale, else the monitor's content scale (its DPI over 96), so a 4K laptop is not 15 px.
    float content_scale_x = 1, content_scale_y = 1;
    glfwGetWindowContentScale(window, &content_scale_x, &content_scale_y);
    app.default_ui_scale = options.scale > 0 ? options.scale : ui::default_scale(content_scale_x);
    app.ui_scale = app.default_ui_scale;
    glfwSwapInterval(headless(options) ? 0 : 1);  // headless frames need not wait for a display

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;           // the layout is computed every frame; nothing to remember
    build_fonts_and_style(app, false);  // the backend uploads this atlas on its first frame
    if (headless(options)) io.ConfigFlags |= ImGuiConfigFlags_NoMouse;  // headless: no stray hover highlight
    glfwSetKeyCallback(window, on_key);  // before the backend's: it calls this one after its own
    ImGui_ImplGlfw_InitForOpenGL(window, true);
    ImGui_ImplOpenGL3_Init("#version 130");
    return window;
}

void close_window(GLFWwindow* window) {
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwDestroyWindow(window);
    glfwTerminate();
}

// ---- the frame loop: live runs --------------------------------------------------------------------------

bool any_live(const ui::AppState& app) {
    for (const auto& run : app.runs)
        if (run->live()) return true;
    return false;
}

// Whether every live run's trace connection is up, and whether every one has sent events yet.
struct LiveStatus {
    bool connected = true;
    bool ready = true;
};

LiveStatus live_status(ui::AppState& app) {
    LiveStatus status;
    for (auto& run : app.runs) {
        if (!run->live()) continue;
        if (run->connection().status() != LiveConnection::Status::connected) status.connected = false;
        if (run->trace_model().event_count() == 0) status.ready = false;
    }
    return status;
}

// What the options ask of the live runs, each done once, as soon as the runs are connected: the clients
// connect, a failed start is reported, the recording starts, the gate turns on, the lines go out, slow motion.
struct LiveSetup {
    double connected_for = 0;  // wall seconds every live run has been connected
    bool clients_started = false, lines_sent = false, gate_set = false, recording_started = false;
    bool start_failure_reported = false, slow_set = false;
};

void start_clients(const Options& options, ui::AppState& app, LiveSetup& setup) {
    for (auto& run : app.runs)
        if (run->live()) {
            run->clients().connect(static_cast<std::size_t>(options.connect_clients));
            run->clients().set_pace(options.pace);
            run->clients().set_saturate(options.saturate);
        }
    setup.clients_started = true;
}

// A server that dies before listening (a busy port, no Wine) would leave its column waiting forever: said once.
void report_start_failures(bool headless_run, ui::AppState& app, LiveSetup& setup, int& exit_code) {
    for (auto& run : app.runs) {
        const std::string failure = run->start_failure();
        if (failure.empty() || setup.start_failure_reported) continue;
        std::fprintf(stderr, "socklab-viz: %s: %s\n", run->title().c_str(), failure.c_str());
        setup.start_failure_reported = true;
        if (headless_run) exit_code = 1;
    }
}

// --record: the first live run.
void start_recording(const Options& options, ui::AppState& app, LiveSetup& setup, int& exit_code) {
    for (auto& run : app.runs) {
        if (!run->live()) continue;
        std::string error;
        if (!run->start_recording(options.record, error)) {
            std::fprintf(stderr, "socklab-viz: %s\n", error.c_str());
            exit_code = 1;
        }
        break;
    }
    setup.recording_started = true;
}

// --send: once every client has connected.
void send_lines_when_connected(const Options& options, ui::AppState& app, LiveSetup& setup) {
    for (auto& run : app.runs)
        if (run->live() && run->clients().figures().connecting > 0) return;
    for (auto& run : app.runs)
        for (const auto& line : options.client_lines)
            if (run->live()) run->clients().send_to_all(line);
    setup.lines_sent = true;
}

// One frame's share of the live setup. False when the frame loop must end: headless, a server failed to start.
bool drive_live_runs(const Options& options, ui::AppState& app, bool live_connected, double elapsed, LiveSetup& setup,
                     int& exit_code) {
    // The server starts sending only when its recorder next drains; a short pause after connecting lets it
    // accept this viewer first, so the clients' connections are in the trace.
    setup.connected_for = live_connected ? setup.connected_for + elapsed : 0;
    if (live_connected && setup.connected_for > 0.3 && options.connect_clients > 0 && !setup.clients_started)
        start_clients(options, app, setup);
    report_start_failures(headless(options), app, setup, exit_code);
    if (headless(options) && exit_code != 0 && setup.start_failure_reported) return false;
    if (live_connected && !options.record.empty() && !setup.recording_started)
        start_recording(options, app, setup, exit_code);
    if (live_connected && options.gate && !setup.gate_set) {
        for (auto& run : app.runs)
            if (run->live()) run->set_gate(true);
        setup.gate_set = true;
    }
    if (setup.clients_started && !setup.lines_sent) send_lines_when_connected(options, app, setup);
    if (live_connected && options.slow_ms >= 0 && !setup.slow_set) {
        for (auto& run : app.runs)
            if (run->live()) run->set_slow_motion(static_cast<unsigned>(options.slow_ms));
        setup.slow_set = true;
    }
    return true;
}

// ---- the frame loop: drawing and the headless run's bookkeeping -----------------------------------------------

// Draws one frame into the back buffer; width and height are the framebuffer's.
void render_frame(GLFWwindow* window, ui::AppState& app, bool first_frame, int& width, int& height) {
    // Ctrl +/- (or --do larger) changed the scale last frame: rebuild the fonts between frames.
    if (app.ui_scale != app.fonts_scale) build_fonts_and_style(app, !first_frame);
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    ui::draw_app(app);
    ImGui::Render();
    glfwGetFramebufferSize(window, &width, &height);
    glViewport(0, 0, width, height);
    glClearColor(0.08f, 0.08f, 0.09f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

// Frames counted toward --frames, their CPU cost, and the load time --seconds counts.
struct FrameFigures {
    int rendered = 0;
    int drawn = 0;  // counted: headless live runs count only once events arrive (a server sends nothing until
                    // something happens)
    double cpu_total_ms = 0, cpu_worst_ms = 0;
    double load_seconds = 0;  // wall time since the clients started

    void count(double cpu_ms) {
        ++drawn;
        // The first two frames build the font atlas and lay the window out once: not a typical frame.
        if (drawn > 2) {
            cpu_total_ms += cpu_ms;
            cpu_worst_ms = std::max(cpu_worst_ms, cpu_ms);
        }
    }
};

// The screenshot of this frame, if one is due: --screenshot on the last frame, or the Screenshot button's.
void write_screenshots(const Options& options, ui::AppState& app, bool last_frame, int width, int height,
                       int& exit_code) {
    if (app.screenshot_request.empty() && !(last_frame && !options.screenshot.empty())) return;
    const std::string path = last_frame && !options.screenshot.empty() ? options.screenshot : app.screenshot_request;
    if (write_screenshot(path, width, height)) {
        app.status = "screenshot written to " + path;
    } else {
        std::fprintf(stderr, "socklab-viz: cannot write %s\n", path.c_str());
        exit_code = 1;
    }
    app.screenshot_request.clear();
}

// Until the window closes, or headless until the last frame: reads keys, drives the runs, draws. The exit code.
int run_frame_loop(GLFWwindow* window, const Options& options, ui::AppState& app, Script& script, LiveSetup& setup,
                   FrameFigures& frames) {
    const bool headless_run = headless(options);
    const bool live = any_live(app);
    auto last = std::chrono::steady_clock::now();
    const auto started = last;
    int exit_code = 0;
    while (!glfwWindowShouldClose(window)) {
        glfwPollEvents();
        apply_pending_keys(app);
        const auto now = std::chrono::steady_clock::now();
        const double elapsed = std::chrono::duration<double>(now - last).count();
        last = now;
        const double cpu_before = thread_cpu_ms();
        for (auto& run : app.runs) run->update(elapsed);

        const LiveStatus status = live_status(app);
        const double waited = std::chrono::duration<double>(now - started).count();
        if (!drive_live_runs(options, app, status.connected, elapsed, setup, exit_code)) break;
        if (!options.select_kind.empty()) select_last_of_kind(app, options.select_kind);
        if (!options.gate || setup.gate_set) run_script(app, script.actions, waited, script.last_live_action);

        int width = 0, height = 0;
        render_frame(window, app, frames.rendered == 0, width, height);
        ++frames.rendered;
        const double cpu_ms = thread_cpu_ms() - cpu_before;

        const bool counting = !headless_run || !live || status.ready || waited > options.wait_live_seconds;
        if (counting) frames.count(cpu_ms);
        // --seconds counts load time; if the clients never start (nothing live connected), the wait for
        // live events bounds it as it bounds --frames.
        if (setup.clients_started || (counting && (options.connect_clients == 0 || waited > options.wait_live_seconds)))
            frames.load_seconds += elapsed;
        const bool last_frame = headless_run && (options.seconds > 0 ? frames.load_seconds >= options.seconds
                                                                     : frames.drawn >= options.frames);
        write_screenshots(options, app, last_frame, width, height, exit_code);
        glfwSwapBuffers(window);
        if (last_frame) break;
        if (headless_run && live) std::this_thread::sleep_for(std::chrono::milliseconds(16));  // let events flow
    }
    return exit_code;
}

// ---- after the loop ---------------------------------------------------------------------------------------------

// Headless: what the run measured and where it ended, and --dump-model/--export-chrome of its last state.
void report_headless_run(const Options& options, ui::AppState& app, const Script& script, const FrameFigures& frames,
                         int& exit_code) {
    std::fprintf(stderr, "socklab-viz: %d frames, CPU per frame after the first two: mean %.2f ms, worst %.2f ms\n",
                 frames.drawn, frames.drawn > 2 ? frames.cpu_total_ms / (frames.drawn - 2) : 0.0, frames.cpu_worst_ms);
    std::fprintf(stderr, "socklab-viz: text %.0f px (scale %.3g)\n", ImGui::GetFontSize(), app.ui_scale);
    if (app.lesson)
        std::fprintf(stderr, "socklab-viz: lesson %d step %zu\n", app.lesson->lesson().number,
                     app.lesson->step_index() + 1);
    if (!script.actions.empty())
        std::fprintf(stderr, "socklab-viz: %zu scripted actions not applied (nothing to step?)\n",
                     script.actions.size());
    if (options.dump_trace_model || !options.export_chrome.empty()) {
        const int code = report_first_run(options, app);
        exit_code = exit_code ? exit_code : code;
    }
}

// A compare run ends with its figures as text, to paste into notes or compare with `socklab compare`.
void print_compare_summary(const Options& options, const ui::AppState& app) {
    std::vector<CompareRow> rows;
    for (const auto& run : app.runs)
        if (run->live())
            rows.push_back({run->trace_model().io_model().empty() ? run->title() : run->trace_model().io_model(),
                            run->trace_model().runtime(), summarize(run->clients().series())});
    const std::string load =
        std::to_string(options.connect_clients) + " clients on each server, " +
        (options.saturate ? std::string("closed loop (one line in flight per client)")
                          : "open loop (" + std::to_string(static_cast<long>(options.pace)) + " lines/s in all)");
    std::fputs(format_compare_summary(rows, load).c_str(), stdout);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    if (!parse_options(argc, argv, options)) return 2;
    ui::AppState app;
    app.repo_root = find_root(options.repo_root);
    if (!open_runs(options, app)) return 1;
    app.compare_view = !options.compare.empty();
    if (!open_lesson(options, app)) return 1;
    Script script = script_from_options(options, app);

    // No window needed: print or export, then leave.
    if (!window_needed(options)) {
        run_script(app, script.actions, 0, script.last_live_action);  // a replay or the reference model: all at once
        return report_first_run(options, app);
    }

    GLFWwindow* window = open_window(options, app);
    if (!window) return 1;
    LiveSetup setup;
    FrameFigures frames;
    int exit_code = run_frame_loop(window, options, app, script, setup, frames);
    if (headless(options)) report_headless_run(options, app, script, frames, exit_code);
    if (!options.compare.empty() && !setup.start_failure_reported) print_compare_summary(options, app);

    app.runs.clear();  // stops servers started here and closes connections before the window goes
    close_window(window);
    return exit_code;
}
