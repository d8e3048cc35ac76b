// common/catalog/models.h — every model the suite knows, on every platform: its id, its file, its platform, and
// how it runs from here. The one list the CLI (`socklab models`, compare, report) and the visualizer (--start,
// --compare, the runs panel) read; portable, so a Windows build knows the Linux models too and can say so.
//
// The servers keep their own registry (models/registry.cpp): the models of the platform they are built for, with
// the function that runs each. This list names them all, including those not written yet, so that asking for one
// gets a clear answer ("not built yet", "a Linux model") instead of "no model".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace socklab::catalog {

// Named as the platforms are (a lower-case `linux` is a macro in GNU C++).
enum class Platform { Windows, Linux };

struct KnownModel {
    const char* id;        // "iocp", as typed on the command line
    const char* file;      // "models/06_iocp.cpp"
    Platform platform;     // where it builds and runs natively
    const char* waits_on;  // one line: what the model waits in
};

// Every model, Windows' eight first, then Linux's, in the order of their files.
const std::vector<KnownModel>& known_models();
// The model with this id, or nullptr.
const KnownModel* find_model(std::string_view id);
// The ids of one platform's models, in order.
std::vector<std::string> model_ids(Platform platform);
// "Windows", "Linux".
const char* platform_name(Platform platform);

// How a model runs from a program built for this platform.
enum class HowItRuns {
    natively,    // a model of this platform: its socklab-server runs it
    under_wine,  // a Windows model from Linux: build/mingw/bin/socklab-server.exe under cmake/wine-run
    not_here,    // a Linux model from Windows
};
HowItRuns how_it_runs(const KnownModel& model);
// The ids of every model a program built for this platform can run (natively or under Wine), in order.
std::vector<std::string> ids_that_run_here();
// "natively", "under Wine", "not on this platform".
const char* how_it_runs_words(HowItRuns how);
// For messages about starting a server: " natively", " under Wine", or "" (on Windows, running a Windows model
// is nothing worth saying). An unknown id goes where process::server_command sends it: to the Windows server.
std::string runs_where(std::string_view id);

// The first argument of a socklab-server command line that names a known model ("iocp" in
// {"--port", "0", "iocp"}), or nullptr.
const KnownModel* model_in(const std::vector<std::string>& server_arguments);

}  // namespace socklab::catalog
