// cli/main.cpp — socklab: serve, connect, load, demo and the visualizer from a terminal.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "cli/commands.h"
#include "cli/terminal.h"
#include "common/process/child_process.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace socklab::cli {

std::string repository_root() {
    if (const char* root = std::getenv("SOCKLAB_ROOT"); root && *root) return root;
    // The nearest folder above this program that holds the lessons: the checkout (build/<preset>/cli/socklab,
    // build/mingw/bin/socklab.exe) or an unpacked Windows zip (socklab.exe beside lessons/).
    for (std::filesystem::path folder = process::this_program_folder(); !folder.empty(); folder = folder.parent_path()) {
        if (std::filesystem::exists(folder / "lessons" / "order.txt")) return folder.string();
        if (folder == folder.parent_path()) break;
    }
    return std::filesystem::current_path().string();
}

int usage_error(const std::string& command, const std::string& message) {
    std::fprintf(stderr, "socklab %s: %s\n", command.c_str(), message.c_str());
    return 2;
}

int viz_command(const Arguments& arguments) {
#ifdef _WIN32
    const std::string program = (std::filesystem::path(process::this_program_folder()) / "socklab-viz.exe").string();
#else
    const std::string program = repository_root() + "/build/linux/visualizer/socklab-viz";
#endif
    if (!std::filesystem::exists(program)) {
        std::fprintf(stderr, "socklab viz: %s is not built (it needs GLFW and Dear ImGui: ./socklab build)\n",
                     program.c_str());
        return 1;
    }
    std::vector<std::string> words{program, "--repo", repository_root()};
    words.insert(words.end(), arguments.begin(), arguments.end());
#ifdef _WIN32
    // No exec on Windows: the viewer runs as our child, its output passed through, until it closes.
    process::ChildProcess viewer;
    std::string error;
    if (!viewer.start(words, {true}, error)) {
        std::fprintf(stderr, "socklab viz: %s\n", error.c_str());
        return 1;
    }
    while (viewer.pump(200, [](const std::string& line) { std::fputs(line.c_str(), stdout); })) {
    }
    return viewer.exit_code();
#else
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    std::perror("socklab viz");
    return 1;
#endif
}

}  // namespace socklab::cli

namespace {

const char* const kHelp =
    "usage: socklab <command> [options]\n"
    "\n"
    "socklab teaches the Windows socket I/O models: eight servers that speak one line protocol and differ\n"
    "only in how they wait, a tracer that records what their threads do, and a visualizer that shows it.\n"
    "\n"
    "commands:\n"
    "  demo                 the visualizer on a live IOCP server (a terminal rendition without a display)\n"
    "  serve <model>        run a model's server (under Wine on Linux); Ctrl-C stops it gracefully\n"
    "  connect [host:]port  type lines to a server and see its replies and broadcasts (like nc)\n"
    "  load                 drive a server with clients; every echoed byte is checked\n"
    "  compare [model...]   the same load against several models, one table (echo, slow handlers,\n"
    "                       broadcast, capacity, tracing overhead)\n"
    "  report [model...]    every comparison, written as the benchmark report in docs/report with plots\n"
    "  viz                  the visualizer (live, replay, reference model, headless screenshots)\n"
    "  models               list the models\n"
    "  lesson [N]           the lessons: list them, read one step by step, --check runs its checks\n"
    "\n"
    "`socklab <command> --help` tells more. From a checkout, ./socklab also has `build` and `test`.\n";

// Whether socklab.exe was started by a double-click in Explorer rather than typed in a console: then Windows made
// a console for it alone, so it is the only process attached to that console.
bool started_by_double_click() {
#ifdef _WIN32
    DWORD processes[2];
    return GetConsoleProcessList(processes, 2) == 1;
#else
    return false;
#endif
}

// The help, laid out for the terminal it is read in.
std::string help_text() { return socklab::cli::fit_help(kHelp, static_cast<std::size_t>(socklab::cli::terminal_width())); }

}  // namespace

int main(int argc, char** argv) {
    using namespace socklab::cli;
#ifndef _WIN32
    // A load of thousands of clients (socklab load, compare --scenario capacity) needs a socket each: lift the
    // soft open-file limit (often 1024) to the hard one this user is allowed.
    if (rlimit files; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
#endif
    // A double-click means "show me": the demo, not a help text in a window that closes at once.
    if (argc < 2 && started_by_double_click()) return demo_command({});
    if (argc < 2) {
        std::fputs(help_text().c_str(), stderr);
        return 2;
    }
    std::string command = argv[1];
    Arguments arguments(argv + 2, argv + argc);
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(help_text().c_str(), stdout);
        return 0;
    }
    if (command == "serve") return serve_command(arguments);
    if (command == "connect") return connect_command(arguments);
    if (command == "load") return load_command(arguments);
    if (command == "demo") return demo_command(arguments);
    if (command == "compare") return compare_command(arguments);
    if (command == "report") return report_command(arguments);
    if (command == "viz") return viz_command(arguments);
    if (command == "models") return serve_command({"--list"});
    if (command == "lesson") return lesson_command(arguments);
    std::fprintf(stderr, "socklab: unknown command '%s'\n\n%s", command.c_str(), help_text().c_str());
    return 2;
}
