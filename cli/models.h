// cli/models.h — `socklab models`: every model the suite knows (common/catalog/models.h), its platform, and how it
// runs from here: natively, under Wine, or not on this platform, and whether its server is built yet.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace socklab::cli {

// What is built here: the ids the native socklab-server lists, and whether the Windows server is there to run
// under Wine (Linux only).
struct BuiltServers {
    std::vector<std::string> native;
    bool windows_under_wine = false;
};
// "natively", "natively (not built yet)", "under Wine", "under Wine (not built yet)", "not on this platform".
std::string runs_here(const std::string& model, const BuiltServers& built);
// The listing: a heading, then one line a model: id, platform, how it runs here, file, what it waits in. Where
// those lines are wider than `width` (0: no limit), a block a model instead, every line within the width.
std::string models_listing(const BuiltServers& built, std::size_t width = 0);
// What this checkout or folder has built: the native server asked for its --list (no Wine is started).
BuiltServers built_servers(const std::string& root);

}  // namespace socklab::cli
