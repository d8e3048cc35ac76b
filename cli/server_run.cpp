// cli/server_run.cpp — see server_run.h.
#include "cli/server_run.h"

#include "cli/commands.h"

namespace socklab::cli {

bool ServerRun::start(const std::vector<std::string>& arguments, std::string& error) {
    const std::vector<std::string> command = process::server_command(repository_root(), arguments, error);
    return !command.empty() && server_.start(command, {}, error);
}

int ServerRun::wait(const process::LineHandler& on_line) {
    while (server_.pump(100, on_line)) {
    }
    return server_.exit_code();
}

}  // namespace socklab::cli
