// cli/commands.h — the subcommands of `socklab`, one file each; main.cpp reads the command's name and calls one.
//
// Each command reads its own command line (parse_<command>_command in its header, printing nothing, so tests can
// call it) and then runs. What commands share lives in files named for it: flags.h (reading flags, usage
// errors), locate.h (where the checkout and the other programs are), server_run.h (a socklab-server started
// and stopped), terminal.h and table.h (text for the terminal), measure.h and compare.h (measuring models).
#pragma once

#include "cli/flags.h"

namespace socklab::cli {

int serve_command(const Arguments& arguments);
int load_command(const Arguments& arguments);
int demo_command(const Arguments& arguments);
int compare_command(const Arguments& arguments);
int report_command(const Arguments& arguments);
int viz_command(const Arguments& arguments);
int lesson_command(const Arguments& arguments);
int connect_command(const Arguments& arguments);
int models_command(const Arguments& arguments);

}  // namespace socklab::cli
