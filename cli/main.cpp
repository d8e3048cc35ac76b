// cli/main.cpp — socklab: serve, connect, load, demo and the visualizer from a terminal.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "cli/commands.h"
#include "cli/terminal.h"

#ifndef _WIN32
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace socklab::cli {

std::string repository_root() {
    if (const char* root = std::getenv("SOCKLAB_ROOT"); root && *root) return root;
#ifndef _WIN32
    std::error_code error;
    auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error) return self.parent_path().parent_path().parent_path().parent_path().string();  // build/<preset>/cli
#endif
    return std::filesystem::current_path().string();
}

std::string windows_program(const std::string& relative_path) {
#ifdef _WIN32
    return (std::filesystem::path(relative_path).filename()).string();
#else
    return repository_root() + "/build/mingw/bin/" + relative_path;
#endif
}

int usage_error(const std::string& command, const std::string& message) {
    std::fprintf(stderr, "socklab %s: %s\n", command.c_str(), message.c_str());
    return 2;
}

int viz_command(const Arguments& arguments) {
#ifdef _WIN32
    std::string program = "socklab-viz.exe";
#else
    std::string program = repository_root() + "/build/linux/visualizer/socklab-viz";
#endif
    if (!std::filesystem::exists(program)) {
        std::fprintf(stderr, "socklab viz: %s is not built (it needs GLFW and Dear ImGui: ./socklab build)\n",
                     program.c_str());
        return 1;
    }
    std::vector<std::string> words{program, "--repo", repository_root()};
    words.insert(words.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
#ifndef _WIN32
    execv(program.c_str(), argv.data());
#endif
    std::perror("socklab viz");
    return 1;
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
