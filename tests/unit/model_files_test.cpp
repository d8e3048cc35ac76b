// The model files as students read them (docs/design.md §5, §9; models/README.md): every one has the same sections in
// the same order, each holding what its name says, so that a diff of two neighbours shows only what differs between
// the models; each opens with its abstract.
#include <algorithm>
#include <filesystem>
#include <iterator>
#include <map>
#include <utility>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "common/catalog/models.h"
#include "tests/catch.hpp"

namespace {

const std::vector<std::string> kSections = {"abstract", "state", "listen",   "wait",
                                            "dispatch", "send",  "teardown", "run"};

std::vector<std::filesystem::path> model_files() {
    std::vector<std::filesystem::path> files;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::filesystem::path(SOCKLAB_SOURCE_DIR) / "models")) {
        const std::string name = entry.path().filename().string();
        if (std::regex_match(name, std::regex("[0-9][0-9]_.*\\.cpp"))) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

// The functions (and types) a model file defines, each with the section it sits under. A definition starts at
// column 0 with a type and `name(`, and its signature (on one line or several) ends in '{' where a declaration's
// ends in ';'; `Server::broadcast` counts as `broadcast`. Types: `struct Name` and `using Name =`.
std::vector<std::pair<std::string, std::string>> definitions_by_section(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::vector<std::pair<std::string, std::string>> found;  // (name, section)
    const std::regex marker("^// SECTION: ([a-z]+)\\s*$");
    const std::regex type("^(?:struct|class) ([A-Za-z_][A-Za-z0-9_]*)\\b[^;]*$|^using ([A-Za-z_][A-Za-z0-9_]*) =");
    const std::regex function("^[A-Za-z][^(;]*?\\b([A-Za-z_][A-Za-z0-9_]*)\\(");
    const std::regex not_a_function("^(?://|#|namespace|using|constexpr|static_assert|template)");
    std::string section, line, pending;  // pending: a function's name while its signature runs over lines
    std::smatch match;
    while (std::getline(in, line)) {
        if (auto comment = line.find("  // "); comment != std::string::npos) line.erase(comment);  // `{  // locked`
        if (!pending.empty()) {  // a signature over several lines: a definition if it ends in '{'
            if (!line.empty() && line.back() == '{') found.emplace_back(pending, section);
            if (!line.empty() && (line.back() == '{' || line.back() == ';')) pending.clear();
        } else if (std::regex_match(line, match, marker)) {
            section = match[1];
        } else if (std::regex_search(line, match, type)) {
            found.emplace_back(match[1].matched ? match[1] : match[2], section);
        } else if (!std::regex_search(line, not_a_function) && std::regex_search(line, match, function)) {
            if (line.back() == '{' || line.back() == '}') found.emplace_back(match[1], section);
            else if (line.back() != ';') pending = match[1];
        }
    }
    return found;
}

// Where the glossary's names live (models/README.md, "Sections" and "Names").
std::string section_of(const std::string& name) {
    static const std::regex thread_main(".*_main");
    static const std::regex server_type(".*Server");
    static const std::map<std::string, std::string> by_name = {{"Connection", "state"},
                                                               {"IoRequest", "state"},
                                                               {"accept_clients", "listen"},
                                                               {"dispatch", "dispatch"},
                                                               {"on_received", "dispatch"},
                                                               {"on_sent", "dispatch"},
                                                               {"drain", "dispatch"},
                                                               {"start_receive", "send"},
                                                               {"queue_send", "send"},
                                                               {"broadcast", "send"},
                                                               {"close_connection", "teardown"},
                                                               {"finish_io", "teardown"},
                                                               {"shut_down", "teardown"},
                                                               {"run", "run"}};
    if (auto it = by_name.find(name); it != by_name.end()) return it->second;
    if (std::regex_match(name, thread_main)) return "wait";
    if (std::regex_match(name, server_type)) return "state";
    return "";
}

}  // namespace

TEST_CASE("every model file has the same sections in the same order") {
    const auto files = model_files();
    REQUIRE(files.size() >= 2);
    for (const auto& file : files) {
        INFO(file.filename().string());
        std::ifstream in(file);
        std::vector<std::string> found;
        std::string line;
        std::regex marker("^// SECTION: ([a-z]+)\\s*$");
        std::smatch match;
        while (std::getline(in, line))
            if (std::regex_match(line, match, marker)) found.push_back(match[1]);
        CHECK(found == kSections);
    }
}

TEST_CASE("every model file opens with a one-line title and then its abstract") {
    for (const auto& file : model_files()) {
        INFO(file.filename().string());
        std::ifstream in(file);
        std::string title, blank, abstract;
        std::getline(in, title);
        std::getline(in, blank);
        std::getline(in, abstract);
        CHECK(title.rfind("// models/" + file.filename().string() + " ", 0) == 0);
        CHECK(abstract == "// SECTION: abstract");
    }
}

// A model file's name gives its id (06_iocp.cpp: iocp), which scopes its lesson anchors: `// LESSON: wait` there is
// iocp:wait in a lesson (visualizer/model/lesson.h). So the registry says the same id, and a marker is written
// without it: the same step carries the same marker line in every model, and a diff between two does not show it.
TEST_CASE("every model file is registered under the id its name gives, and its anchors are written without it") {
    std::ifstream registry(std::filesystem::path(SOCKLAB_SOURCE_DIR) / "models" / "registry.cpp");
    std::string text((std::istreambuf_iterator<char>(registry)), std::istreambuf_iterator<char>());
    std::regex entry("\\{\"([a-z-]+)\", \"models/([0-9a-z_]+\\.cpp)\"");
    std::map<std::string, std::string> id_of_file;
    for (std::sregex_iterator it(text.begin(), text.end(), entry), end; it != end; ++it)
        id_of_file[(*it)[2]] = (*it)[1];
    for (const auto& file : model_files()) {
        const std::string name = file.filename().string();
        INFO(name);
        REQUIRE(id_of_file.count(name) == 1);
        std::string id = file.stem().string().substr(3);  // 06_iocp -> iocp, 07_iocp_acceptex -> iocp-acceptex
        std::replace(id.begin(), id.end(), '_', '-');
        CHECK(id_of_file[name] == id);
        std::ifstream in(file);
        std::string line;
        std::regex anchor("// LESSON: ([a-z0-9-]+)");
        std::smatch match;
        while (std::getline(in, line))
            if (std::regex_search(line, match, anchor)) CHECK(std::string(match[1]).rfind(id + "-", 0) != 0);
    }
}

// The CLI and the visualizer know every model through common/catalog/models.h (both platforms'), the servers through
// the registry (their own platform's, with the function that runs each): the two must agree on each model's id, file
// and platform, and every model file must be in the catalog.
TEST_CASE("every registered model and every model file is in the catalog, with the same id, file and platform") {
    namespace catalog = socklab::catalog;
    std::ifstream registry(std::filesystem::path(SOCKLAB_SOURCE_DIR) / "models" / "registry.cpp");
    std::string text((std::istreambuf_iterator<char>(registry)), std::istreambuf_iterator<char>());
    std::regex entry("\\{\"([a-z-]+)\", \"(models/[0-9a-z_]+\\.cpp)\",[^{}]*\"(Windows|Linux)\"\\}");
    std::size_t entries = 0;
    for (std::sregex_iterator it(text.begin(), text.end(), entry), end; it != end; ++it, ++entries) {
        const std::string id = (*it)[1];
        INFO("registry.cpp: " << id);
        const catalog::KnownModel* known = catalog::find_model(id);
        REQUIRE(known);
        CHECK(std::string(known->file) == std::string((*it)[2]));
        CHECK(catalog::platform_name(known->platform) == std::string((*it)[3]));
    }
    CHECK(entries == catalog::known_models().size());  // and every model of the catalog is registered
    for (const auto& file : model_files()) {
        INFO(file.filename().string());
        std::string id = file.stem().string().substr(3);
        std::replace(id.begin(), id.end(), '_', '-');
        REQUIRE(catalog::find_model(id));
        CHECK(std::string(catalog::find_model(id)->file) == "models/" + file.filename().string());
    }
}

TEST_CASE("each section of a model file holds what its name says") {
    for (const auto& file : model_files()) {
        INFO(file.filename().string());
        std::map<std::string, std::vector<std::string>> held;  // section -> the glossary's names defined under it
        for (const auto& [name, section] : definitions_by_section(file)) {
            const std::string expected = section_of(name);
            if (expected.empty()) continue;  // a model's own helper: any section that fits
            INFO(name);
            CHECK(section == expected);
            held[section].push_back(name);
        }
        // What every model has: its Connection, broadcast, shut_down, run() — and an anchored wait.
        CHECK(std::count(held["state"].begin(), held["state"].end(), "Connection") == 1);
        CHECK(held["send"].size() >= 1);  // at least broadcast
        CHECK(std::count(held["teardown"].begin(), held["teardown"].end(), "shut_down") == 1);
        // The wait is the heart of the lesson: a lesson quotes it, so an anchor marks it.
        std::ifstream in(file);
        std::string line, section;
        int wait_anchors = 0;
        while (std::getline(in, line)) {
            if (line.rfind("// SECTION: ", 0) == 0) section = line.substr(12);
            else if (section == "wait" && line.find("// LESSON: ") != std::string::npos) ++wait_anchors;
        }
        CHECK(wait_anchors >= 1);
        CHECK(held["run"] == std::vector<std::string>{"run"});
    }
}

TEST_CASE("a model on the shared overlapped steps defines the steps they call, each in its section") {
    // common/win/overlapped_steps.h does what every overlapped model does with a completion, and calls the model's
    // own steps by their glossary names: start_receive and queue_send (its WSARecv and WSASend), close_connection
    // and finish_io. So a model that includes it defines those, and its dispatch, under the sections the glossary
    // gives them; and it does not write the shared steps (on_received, on_sent, drain) again.
    int on_shared_steps = 0;
    for (const auto& file : model_files()) {
        std::ifstream in(file);
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (text.find("#include \"common/win/overlapped_steps.h\"") == std::string::npos) continue;
        ++on_shared_steps;
        INFO(file.filename().string());
        std::map<std::string, std::string> section_of_definition;
        for (const auto& [name, section] : definitions_by_section(file)) section_of_definition[name] = section;
        for (const std::string step : {"dispatch", "start_receive", "queue_send", "close_connection", "finish_io"}) {
            INFO(step);
            REQUIRE(section_of_definition.count(step) == 1);
            CHECK(section_of_definition[step] == section_of(step));
        }
        for (const std::string shared : {"on_received", "on_sent", "drain"}) {
            INFO(shared);
            CHECK(section_of_definition.count(shared) == 0);
        }
    }
    CHECK(on_shared_steps == 4);  // overlapped-event, completion-routine, iocp, iocp-acceptex
}

TEST_CASE("the section check finds definitions and their sections") {
    // A file of the model's shape, written here, so the check itself is shown to catch a misplaced step.
    const auto path = std::filesystem::temp_directory_path() / "socklab_model_files_test.cpp";
    {
        std::ofstream out(path);
        out << "// SECTION: state\nstruct Connection : win::ConnectionBase {\n};\nvoid drain(Connection& c);\n"
               "// SECTION: teardown\nvoid drain(Connection& connection) {\n}\n"
               "std::size_t EchoServer::broadcast(std::uint32_t from,\n    std::string_view m) {\n}\n"
               "void shut_down(EchoServer& server,\n    int how);\n"
               "void close_connection(Connection& connection) {  // locked\n}\n";
    }
    const auto found = definitions_by_section(path);
    std::filesystem::remove(path);
    using Found = std::vector<std::pair<std::string, std::string>>;
    CHECK(found == Found{{"Connection", "state"},
                         {"drain", "teardown"},
                         {"broadcast", "teardown"},
                         {"close_connection", "teardown"}});
    CHECK(section_of("drain") == "dispatch");  // so the misplaced drain above would fail the check
    CHECK(section_of("worker_main") == "wait");
    CHECK(section_of("read_once").empty());
}
