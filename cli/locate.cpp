// cli/locate.cpp — see locate.h.
#include "cli/locate.h"

#include <cstdlib>
#include <filesystem>

#include "common/process/child_process.h"

namespace socklab::cli {

std::string repository_root() {
    if (const char* root = std::getenv("SOCKLAB_ROOT"); root && *root) return root;
    // The nearest folder above this program that holds the lessons: the checkout (build/<preset>/cli/socklab,
    // build/mingw/bin/socklab.exe) or an unpacked Windows zip (socklab.exe beside lessons/).
    for (std::filesystem::path folder = process::this_program_folder(); !folder.empty();
         folder = folder.parent_path()) {
        if (std::filesystem::exists(folder / "lessons" / "order.txt")) return folder.string();
        if (folder == folder.parent_path()) break;
    }
    return std::filesystem::current_path().string();
}

std::string visualizer_program() {
#ifdef _WIN32
    return (std::filesystem::path(process::this_program_folder()) / "socklab-viz.exe").string();
#else
    return repository_root() + "/build/linux/visualizer/socklab-viz";
#endif
}

}  // namespace socklab::cli
