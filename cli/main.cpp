// cli/main.cpp — socklab: reads which command was asked for and runs it. Everything a command does is in its
// own file (cli/commands.h); what several share is in files named for it.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/process_setup.h"
#include "cli/terminal.h"

namespace {

using socklab::cli::Arguments;

const char* const kHelp =
    "usage: socklab <command> [options]\n"
    "\n"
    "socklab teaches the socket I/O models: eight Windows servers and their Linux twins (poll, epoll,\n"
    "io-uring) that speak one line protocol and differ only in how they wait, a tracer that records what\n"
    "their threads do, and a visualizer that shows it.\n"
    "\n"
    "commands:\n"
    "  demo                 the visualizer on a live IOCP server (a terminal rendition without a display)\n"
    "  serve <model>        run a model's server (a Windows model under Wine on Linux, a Linux model\n"
    "                       natively); Ctrl-C stops it gracefully\n"
    "  connect [host:]port  type lines to a server and see its replies and broadcasts (like nc)\n"
    "  load                 drive a server with clients; every echoed byte is checked\n"
    "  compare [model...]   the same load against several models, one table (echo, slow handlers,\n"
    "                       broadcast, capacity, tracing overhead)\n"
    "  report [model...]    every comparison, written as the benchmark report in docs/report with plots\n"
    "  viz                  the visualizer (live, replay, reference model, headless screenshots)\n"
    "  models               list the models, their platform and how each runs here\n"
    "  lesson [N]           the lessons: list them, read one step by step, --check runs its checks\n"
    "\n"
    "`socklab <command> --help` tells more. From a checkout, ./socklab also has `build` and `test`.\n";

struct Command {
    const char* name;
    int (*run)(const Arguments& arguments);
};

const Command kCommands[] = {
    {"serve", socklab::cli::serve_command},
    {"connect", socklab::cli::connect_command},
    {"load", socklab::cli::load_command},
    {"demo", socklab::cli::demo_command},
    {"compare", socklab::cli::compare_command},
    {"report", socklab::cli::report_command},
    {"viz", socklab::cli::viz_command},
    {"models", socklab::cli::models_command},
    {"lesson", socklab::cli::lesson_command},
};

// The help, laid out for the terminal it is read in.
std::string help_text() {
    return socklab::cli::fit_help(kHelp, static_cast<std::size_t>(socklab::cli::terminal_width()));
}

}  // namespace

int main(int argc, char** argv) {
    socklab::cli::raise_open_file_limit();  // before any command starts a server, which inherits it
    // A double-click means "show me": the demo, not a help text in a window that closes at once.
    if (argc < 2 && socklab::cli::started_by_double_click()) return socklab::cli::demo_command({});
    if (argc < 2) {
        std::fputs(help_text().c_str(), stderr);
        return 2;
    }
    const std::string name = argv[1];
    const Arguments arguments(argv + 2, argv + argc);
    if (name == "--help" || name == "-h" || name == "help") {
        std::fputs(help_text().c_str(), stdout);
        return 0;
    }
    for (const Command& command : kCommands)
        if (name == command.name) return command.run(arguments);
    std::fprintf(stderr, "socklab: unknown command '%s'\n\n%s", name.c_str(), help_text().c_str());
    return 2;
}
