// cli/flags.h — a small command-line flag reader shared by the subcommands.
//
// Flags are "--name value" or "--name=value"; switches are "--name". Anything unknown, a missing value or a
// malformed number is a usage error (exit code 2) with a message that says which flag and why.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace socklab::cli {

class Flags {
public:
    explicit Flags(std::string command) : command_(std::move(command)) {}

    void text(const std::string& name, std::string& target, const std::string& help);
    void number(const std::string& name, double& target, double min, double max, const std::string& help);
    void count(const std::string& name, std::uint64_t& target, std::uint64_t min, std::uint64_t max,
               const std::string& help);
    void toggle(const std::string& name, bool& target, const std::string& help);

    // Parses; on error prints it and returns false with exit_code 2. "--help" prints help, exit_code 0.
    bool parse(const std::vector<std::string>& arguments, std::vector<std::string>* positional = nullptr);
    int exit_code() const { return exit_code_; }
    std::string help() const;
    void set_synopsis(std::string synopsis) { synopsis_ = std::move(synopsis); }

private:
    struct Flag {
        std::string help;
        bool takes_value = true;
        std::string shown_default;
        std::function<bool(const std::string&, std::string& error)> apply;
    };
    std::string command_;
    std::string synopsis_;
    std::map<std::string, Flag> flags_;
    std::vector<std::string> order_;
    int exit_code_ = 0;
};

}  // namespace socklab::cli
