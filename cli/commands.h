// cli/commands.h — the subcommands of `socklab`, one file each.
#pragma once

#include <string>
#include <vector>

namespace socklab::cli {

using Arguments = std::vector<std::string>;

int serve_command(const Arguments& arguments);
int load_command(const Arguments& arguments);
int demo_command(const Arguments& arguments);
int compare_command(const Arguments& arguments);
int report_command(const Arguments& arguments);
int viz_command(const Arguments& arguments);
int lesson_command(const Arguments& arguments);
int connect_command(const Arguments& arguments);

// The checkout the CLI belongs to: $SOCKLAB_ROOT, else three folders above the executable (build/<preset>/cli).
std::string repository_root();
// Where the Windows build puts its programs (build/mingw/bin/...), or next to this program on Windows.
std::string windows_program(const std::string& relative_path);

// Exit code 2 and a message naming the command, for every wrong use.
int usage_error(const std::string& command, const std::string& message);

}  // namespace socklab::cli
