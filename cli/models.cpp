// cli/models.cpp — `socklab models`: see models.h.
#include "cli/models.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/locate.h"
#include "cli/terminal.h"
#include "common/catalog/models.h"
#include "common/process/child_process.h"

namespace socklab::cli {

std::string runs_here(const std::string& model, const BuiltServers& built) {
    const catalog::KnownModel* known = catalog::find_model(model);
    if (!known) return "";
    const catalog::HowItRuns how = catalog::how_it_runs(*known);
    std::string words = catalog::how_it_runs_words(how);
    const bool is_built = how == catalog::HowItRuns::natively
                              ? std::find(built.native.begin(), built.native.end(), model) != built.native.end()
                              : built.windows_under_wine;
    if (how != catalog::HowItRuns::not_here && !is_built) words += " (not built yet)";
    return words;
}

std::string models_listing(const BuiltServers& built, std::size_t width) {
    std::string table;
    std::size_t widest = 0;
    char line[320];
    auto row = [&](const char* id, const char* platform, const std::string& here, const char* file,
                   const char* waits_on) {
        std::snprintf(line, sizeof line, "%-19s %-8s %-26s %-32s %s\n", id, platform, here.c_str(), file, waits_on);
        table += line;
        widest = std::max(widest, std::string(line).size() - 1);
    };
    row("model", "platform", "runs here", "file", "waits in");
    for (const catalog::KnownModel& model : catalog::known_models())
        row(model.id, catalog::platform_name(model.platform), runs_here(model.id, built), model.file, model.waits_on);
    if (width == 0 || widest <= width) return table;
    // Too narrow for the columns: a block a model, what it waits in wrapped under it.
    std::string blocks;
    for (const catalog::KnownModel& model : catalog::known_models()) {
        for (const std::string& text :
             wrap_words(std::string(model.id) + ": " + catalog::platform_name(model.platform) + ", " +
                            runs_here(model.id, built) + ", " + model.file,
                        width, "", "    "))
            blocks += text + "\n";
        for (const std::string& text : wrap_words(model.waits_on, width, "    ", "    ")) blocks += text + "\n";
    }
    return blocks;
}

BuiltServers built_servers(const std::string& root) {
    BuiltServers built;
    built.native = process::listed_models(process::native_server_program(root));
#ifndef _WIN32
    std::error_code ignored;
    built.windows_under_wine = std::filesystem::exists(root + "/build/mingw/bin/socklab-server.exe", ignored);
#endif
    return built;
}

int models_command(const Arguments& arguments) {
    Flags flags("models");
    flags.set_synopsis(
        "\n\nLists every model: its platform (Windows or Linux), how it runs from here (natively, under Wine, or\n"
        "not on this platform; \"not built yet\" until its server is built), its file and what it waits in.\n"
        "Any of them that runs here can be named to serve, compare, report and viz.");
    if (!flags.parse(arguments)) return flags.early_exit().print();
    const std::size_t width = is_terminal(stdout) ? static_cast<std::size_t>(terminal_width()) : 0;
    std::fputs(models_listing(built_servers(repository_root()), width).c_str(), stdout);
    return 0;
}

}  // namespace socklab::cli
