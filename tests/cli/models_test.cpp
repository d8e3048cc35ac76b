// tests/cli/models_test.cpp — every model the suite knows (common/catalog/models.h) and how the CLI starts each:
// `socklab models`, the program a model id runs (process::server_command: a Linux model natively, a Windows one
// under Wine), and the words every message uses for where a server runs. Native, no Wine: nothing is started but
// the native server's --list.
#include <filesystem>
#include <string>
#include <vector>

#include "cli/models.h"
#include "cli/server_run.h"
#include "common/catalog/models.h"
#include "common/process/child_process.h"
#include "tests/catch.hpp"

namespace cli = socklab::cli;
namespace catalog = socklab::catalog;
namespace process = socklab::process;

TEST_CASE("models: one list of every model, the eight Windows ones first, then poll, epoll and io-uring on Linux") {
    CHECK(catalog::model_ids(catalog::Platform::Windows) ==
          std::vector<std::string>{"blocking", "select", "async-select", "event-select", "overlapped-event",
                                   "completion-routine", "iocp", "iocp-acceptex"});
    CHECK(catalog::model_ids(catalog::Platform::Linux) == std::vector<std::string>{"poll", "epoll", "io-uring"});
    REQUIRE(catalog::find_model("poll"));
    CHECK(std::string(catalog::find_model("poll")->file) == "models/08_poll.cpp");
    CHECK(std::string(catalog::platform_name(catalog::find_model("io-uring")->platform)) == "Linux");
    CHECK_FALSE(catalog::find_model("kqueue"));
    // Every file named is where the model is, or will be: 00..10 in the order of the list.
    for (std::size_t i = 0; i < catalog::known_models().size(); ++i) {
        const std::string file = catalog::known_models()[i].file;
        CHECK(file.substr(7, 2) == (i < 10 ? "0" : "") + std::to_string(i));
    }
}

TEST_CASE("models: from Linux a Linux model runs natively, a Windows one under Wine, and messages say which") {
    CHECK(catalog::how_it_runs(*catalog::find_model("poll")) == catalog::HowItRuns::natively);
    CHECK(catalog::how_it_runs(*catalog::find_model("iocp")) == catalog::HowItRuns::under_wine);
    CHECK(cli::runs_where("poll") == " natively");
    CHECK(cli::runs_where("iocp") == " under Wine");
    CHECK(cli::starting_line(0, 0.2, true, cli::runs_where("poll")) == "\r| starting the server natively... 0.2 s");
    // No Wine prefix to blame when a native server is slow.
    CHECK(cli::starting_line(6, 7.0, true, " natively") == "\r- starting the server natively... 7.0 s");
}

TEST_CASE("models: the listing names each model's platform and how it runs here, built or not") {
    cli::BuiltServers built;
    built.native = {"poll"};
    built.windows_under_wine = true;
    CHECK(cli::runs_here("poll", built) == "natively");
    CHECK(cli::runs_here("epoll", built) == "natively (not built yet)");
    CHECK(cli::runs_here("iocp", built) == "under Wine");
    CHECK(cli::runs_here("iocp", cli::BuiltServers{}) == "under Wine (not built yet)");
    const std::string listing = cli::models_listing(built);
    CHECK(listing.rfind("model ", 0) == 0);
    CHECK(listing.find("\npoll                Linux    natively                   models/08_poll.cpp ") !=
          std::string::npos);
    CHECK(listing.find("\niocp                Windows  under Wine                 models/06_iocp.cpp ") !=
          std::string::npos);
    CHECK(listing.find("\nio-uring ") != std::string::npos);
    // An 80-column terminal: a block a model, no line wider than the terminal.
    const std::string narrow = cli::models_listing(built, 80);
    CHECK(narrow.rfind("blocking: Windows, under Wine, models/00_blocking.cpp\n    accept() and recv()", 0) == 0);
    CHECK(narrow.find("\npoll: Linux, natively, models/08_poll.cpp\n") != std::string::npos);
    std::size_t start = 0, longest = 0;
    for (std::size_t end; (end = narrow.find('\n', start)) != std::string::npos; start = end + 1)
        longest = std::max(longest, end - start);
    CHECK(longest <= 80);
}

TEST_CASE("models: a Linux model's command is the native server, a Windows model's is Wine's, with clear errors") {
    const std::string root = SOCKLAB_SOURCE_DIR;
    std::string error;
    const std::string native = root + "/build/linux/models/socklab-server";
    CHECK(process::native_server_program(root) == native);
    if (std::filesystem::exists(native)) {
        const auto command = process::server_command(root, {"poll", "--port", "0"}, error);
        CHECK(command == std::vector<std::string>{native, "poll", "--port", "0", "--stop-on-stdin-eof"});
        // The model is found wherever it stands among the server's flags.
        CHECK(process::server_command(root, {"--port", "0", "poll"}, error).front() == native);
        const std::vector<std::string> listed = process::listed_models(native);
        CHECK(std::find(listed.begin(), listed.end(), "poll") != listed.end());
    }
    if (std::filesystem::exists(root + "/build/mingw/bin/socklab-server.exe"))
        CHECK(process::server_command(root, {"iocp"}, error).front() == root + "/cmake/wine-run");
    // Nothing built in this folder: the message says what to build, and no command is made.
    const std::string empty = (std::filesystem::temp_directory_path() / "socklab-no-build").string();
    error.clear();
    CHECK(process::server_command(empty, {"epoll", "--port", "0"}, error).empty());
    CHECK(error == empty +
                       "/build/linux/models/socklab-server is not built yet "
                       "(cmake --build build/linux --target socklab-server)");
    error.clear();
    CHECK(process::server_command(empty, {"iocp"}, error).empty());
    CHECK(error.find("build/mingw/bin/socklab-server.exe is not built yet") != std::string::npos);
    CHECK(process::listed_models(empty + "/nothing").empty());
}
