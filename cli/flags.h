// cli/flags.h — a small command-line flag reader shared by the subcommands, and what a command does when its
// command line tells it not to run.
//
// Flags are "--name value" or "--name=value"; switches are "--name". Anything unknown, a missing value or a
// malformed number is a usage error (exit code 2) with a message that says which flag and why.
//
// Each command reads its command line in a function of its own, parse_<command>_command, which prints nothing:
// it returns the request to run, or the EarlyExit to print instead (the help, or what is wrong). That is what
// the tests in tests/cli/ call, with the exact messages a user would see.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace socklab::cli {

using Arguments = std::vector<std::string>;

// What a command does instead of running, decided from its command line: --help (exit code 0, the help for
// standard output), or a wrong use (exit code 2, one line for standard error: "socklab load: --port needs a
// value").
struct EarlyExit {
    int exit_code = 0;
    std::string text;  // printed as it is, its newline included

    static EarlyExit help(std::string text) { return {0, std::move(text)}; }
    static EarlyExit usage_error(const std::string& command, const std::string& message) {
        return {2, "socklab " + command + ": " + message + "\n"};
    }
    // Prints the text (standard output for exit code 0, standard error otherwise) and returns the exit code.
    int print() const;
};

// A usage error found while a command runs (a lesson that does not exist): printed at once. Returns 2.
int usage_error(const std::string& command, const std::string& message);

// What a command read from its command line: the request to run, or why it stops there.
template <typename Request>
struct Parsed {
    Request request;
    std::optional<EarlyExit> early_exit;

    Parsed& stop(EarlyExit why) {
        early_exit = std::move(why);
        return *this;
    }
};

class Flags {
public:
    explicit Flags(std::string command) : command_(std::move(command)) {}

    void text(const std::string& name, std::string& target, const std::string& help);
    void number(const std::string& name, double& target, double min, double max, const std::string& help);
    void count(const std::string& name, std::uint64_t& target, std::uint64_t min, std::uint64_t max,
               const std::string& help);
    void toggle(const std::string& name, bool& target, const std::string& help);

    // Parses, printing nothing. False when the command must not run: early_exit() then says why ("--help", or
    // the first wrong argument). Words that are not flags go to `positional`; without it they are wrong.
    bool parse(const std::vector<std::string>& arguments, std::vector<std::string>* positional = nullptr);
    const EarlyExit& early_exit() const { return early_exit_; }
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
    EarlyExit early_exit_;
};

}  // namespace socklab::cli
