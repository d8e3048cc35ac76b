// cli/server_run.cpp — see server_run.h.
#include "cli/server_run.h"

#include <cstdio>
#include <cstdlib>

#include "cli/locate.h"
#include "common/catalog/models.h"

namespace socklab::cli {

std::optional<Listening> listening_announcement(const std::string& line) {
    const auto at = line.find(" listening on ");
    if (at == std::string::npos) return std::nullopt;
    Listening listening;
    if (const auto colon = line.find(':', at); colon != std::string::npos)
        listening.port = static_cast<std::uint16_t>(std::atoi(line.c_str() + colon + 1));
    const auto open = line.rfind('('), close = line.rfind(')');  // "... (Wine 8.0)"
    if (open != std::string::npos && close != std::string::npos && close > open)
        listening.runtime = line.substr(open + 1, close - open - 1);
    return listening;
}

std::string runs_where(const std::string& model) { return catalog::runs_where(model); }

std::string starting_line(unsigned tick, double waited_seconds, bool say_why_slow, const std::string& where) {
    const char* const why_slow = where == " under Wine" ? " (the first run creates the Wine prefix)" : "";
    char text[160];
    std::snprintf(text, sizeof text, "\r%c starting the server%s... %.1f s%s", "|/-\\"[tick % 4], where.c_str(),
                  waited_seconds, say_why_slow && waited_seconds > 6 ? why_slow : "");
    return text;
}

bool ServerRun::start(const std::vector<std::string>& arguments, std::string& error) {
    const catalog::KnownModel* model = catalog::model_in(arguments);
    where_ = model ? catalog::runs_where(model->id) : kUnderWine;
    const std::vector<std::string> command = process::server_command(repository_root(), arguments, error);
    return !command.empty() && server_.start(command, {}, error);
}

StartWait ServerRun::wait_until_listening(std::chrono::seconds limit, const process::LineHandler& on_line,
                                          const std::function<void(unsigned, double)>& on_tick) {
    const auto started = std::chrono::steady_clock::now();
    for (unsigned tick = 0;; ++tick) {
        std::optional<Listening> heard;
        const bool alive = server_.pump(100, [&](const std::string& line) {
            if (on_line) on_line(line);
            if (!heard) heard = listening_announcement(line);
        });
        if (heard) return {StartWait::Outcome::listening, *heard};
        if (!alive) return {StartWait::Outcome::exited, {}};
        const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (waited > static_cast<double>(limit.count())) return {StartWait::Outcome::timed_out, {}};
        if (on_tick) on_tick(tick, waited);
    }
}

int ServerRun::wait(const process::LineHandler& on_line) {
    while (server_.pump(100, on_line)) {}
    return server_.exit_code();
}

}  // namespace socklab::cli
