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

// The tree the CLI reads lessons/ and the model sources from: $SOCKLAB_ROOT, else the nearest folder above the
// program that has lessons/ (the checkout, or the unpacked Windows zip), else the current folder.
std::string repository_root();

// Exit code 2 and a message naming the command, for every wrong use.
int usage_error(const std::string& command, const std::string& message);

}  // namespace socklab::cli
