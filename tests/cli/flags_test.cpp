// tests/cli/flags_test.cpp — the flag reader every command uses (cli/flags.h), as a user meets it: the exact
// message for each kind of wrong use, exit code 2 for those and 0 for --help, and values in both spellings.
#include <cstdint>
#include <string>
#include <vector>

#include "cli/flags.h"
#include "tests/catch.hpp"

using socklab::cli::EarlyExit;
using socklab::cli::Flags;

namespace {

// A command "try" with one flag of each kind.
struct TryFlags {
    std::string name = "none";
    double rate = 1.5;
    std::uint64_t count = 3;
    bool loud = false;
    Flags flags{"try"};

    TryFlags() {
        flags.set_synopsis("[options]\n\nTries things.");
        flags.text("name", name, "a name");
        flags.number("rate", rate, 0.5, 10, "a rate");
        flags.count("count", count, 1, 100, "a count");
        flags.toggle("loud", loud, "say it loud");
    }
    // The message of the early exit when parse stops, or "" when it goes on.
    std::string stops_with(const std::vector<std::string>& arguments, std::vector<std::string>* positional = nullptr) {
        return flags.parse(arguments, positional) ? "" : flags.early_exit().text;
    }
};

}  // namespace

TEST_CASE("flags: values in both spellings, switches, and the defaults kept for the rest") {
    TryFlags t;
    CHECK(t.stops_with({"--name", "iocp", "--rate=2.5", "--loud"}) == "");
    CHECK(t.name == "iocp");
    CHECK(t.rate == 2.5);
    CHECK(t.loud);
    CHECK(t.count == 3);
}

TEST_CASE("flags: each wrong use is exit code 2 and one line naming the command and the flag") {
    TryFlags t;
    CHECK(t.stops_with({"--bogus"}) == "socklab try: unknown option '--bogus' (see --help)\n");
    CHECK(t.flags.early_exit().exit_code == 2);
    CHECK(TryFlags().stops_with({"--name"}) == "socklab try: --name needs a value\n");
    CHECK(TryFlags().stops_with({"--rate", "fast"}) ==
          "socklab try: --rate wants a number from 0.5 to 10, not 'fast'\n");
    CHECK(TryFlags().stops_with({"--rate=11"}) == "socklab try: --rate wants a number from 0.5 to 10, not '11'\n");
    CHECK(TryFlags().stops_with({"--count", "-1"}) ==
          "socklab try: --count wants a whole number from 1 to 100, not '-1'\n");
    CHECK(TryFlags().stops_with({"--count", "2x"}) ==
          "socklab try: --count wants a whole number from 1 to 100, not '2x'\n");
    CHECK(TryFlags().stops_with({"stray"}) == "socklab try: unexpected argument 'stray' (see --help)\n");
}

TEST_CASE("flags: words that are not flags are positional where the command takes them, in order") {
    TryFlags t;
    std::vector<std::string> positional;
    CHECK(t.stops_with({"iocp", "--count", "7", "select", "--"}, &positional) == "");
    CHECK(positional == std::vector<std::string>{"iocp", "select", "--"});
    CHECK(t.count == 7);
}

TEST_CASE("flags: --help stops with exit code 0 and the help, defaults shown, wherever it stands") {
    TryFlags t;
    const std::string help = t.stops_with({"--count", "5", "--help", "--bogus"});
    CHECK(t.flags.early_exit().exit_code == 0);
    CHECK(help.rfind("usage: socklab try [options]\n\nTries things.\n\noptions:\n", 0) == 0);
    CHECK(help.find("  --rate VALUE          a rate (default 1.5)\n") != std::string::npos);
    CHECK(help.find("  --loud                say it loud\n") != std::string::npos);
    CHECK(help.find("  --help                this help\n") != std::string::npos);
    CHECK(TryFlags().stops_with({"-h"}) == help);
}

TEST_CASE("flags: a usage error found later reads the same as the reader's own") {
    const EarlyExit wrong = EarlyExit::usage_error("lesson", "one lesson number at a time");
    CHECK(wrong.exit_code == 2);
    CHECK(wrong.text == "socklab lesson: one lesson number at a time\n");
}
