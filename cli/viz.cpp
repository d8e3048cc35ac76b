// cli/viz.cpp — `socklab viz [visualizer flags]`: the visualizer, told where the checkout is.
//
// On Linux socklab becomes the visualizer (exec); Windows has no exec, so there the visualizer runs as our child,
// its output passed through, until it closes.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/locate.h"
#include "common/process/child_process.h"

#ifndef _WIN32
#include <unistd.h>
#endif

namespace socklab::cli {

int viz_command(const Arguments& arguments) {
    const std::string program = visualizer_program();
    if (!std::filesystem::exists(program)) {
        std::fprintf(stderr, "socklab viz: %s is not built (it needs GLFW and Dear ImGui: ./socklab build)\n",
                     program.c_str());
        return 1;
    }
    std::vector<std::string> words{program, "--repo", repository_root()};
    words.insert(words.end(), arguments.begin(), arguments.end());
#ifdef _WIN32
    process::ChildProcess viewer;
    std::string error;
    if (!viewer.start(words, {true}, error)) {
        std::fprintf(stderr, "socklab viz: %s\n", error.c_str());
        return 1;
    }
    while (viewer.pump(200, [](const std::string& line) { std::fputs(line.c_str(), stdout); })) {}
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
