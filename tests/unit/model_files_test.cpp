// The model files as students read them (docs/design.md §5, §9): every one has the same sections in the same order,
// so that a diff of two neighbours shows only what differs between the models, and each opens with its abstract.
#include <algorithm>
#include <filesystem>
#include <iterator>
#include <map>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/catch.hpp"

namespace {

const std::vector<std::string> kSections = {"abstract", "state", "listen", "wait", "dispatch", "send", "teardown", "run"};

std::vector<std::filesystem::path> model_files() {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(SOCKLAB_SOURCE_DIR) / "models")) {
        const std::string name = entry.path().filename().string();
        if (std::regex_match(name, std::regex("[0-9][0-9]_.*\\.cpp"))) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
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

TEST_CASE("every model file is registered, and its anchors carry its model id") {
    std::ifstream registry(std::filesystem::path(SOCKLAB_SOURCE_DIR) / "models" / "registry.cpp");
    std::string text((std::istreambuf_iterator<char>(registry)), std::istreambuf_iterator<char>());
    std::regex entry("\\{\"([a-z-]+)\", \"models/([0-9a-z_]+\\.cpp)\"");
    std::map<std::string, std::string> id_of_file;
    for (std::sregex_iterator it(text.begin(), text.end(), entry), end; it != end; ++it) id_of_file[(*it)[2]] = (*it)[1];
    for (const auto& file : model_files()) {
        const std::string name = file.filename().string();
        INFO(name);
        REQUIRE(id_of_file.count(name) == 1);
        std::ifstream in(file);
        std::string line;
        std::regex anchor("// LESSON: ([a-z0-9-]+)");
        std::smatch match;
        while (std::getline(in, line))
            if (std::regex_search(line, match, anchor)) CHECK(std::string(match[1]).rfind(id_of_file[name] + "-", 0) == 0);
    }
}
