// cli/flags.cpp — see flags.h.
#include "cli/flags.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "cli/terminal.h"

namespace socklab::cli {

namespace {
std::string shown(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}
}  // namespace

void Flags::text(const std::string& name, std::string& target, const std::string& help) {
    order_.push_back(name);
    flags_[name] = {help, true, target, [&target](const std::string& value, std::string&) {
                        target = value;
                        return true;
                    }};
}

void Flags::number(const std::string& name, double& target, double min, double max, const std::string& help) {
    order_.push_back(name);
    flags_[name] = {help, true, shown(target), [&target, min, max, name](const std::string& value, std::string& error) {
                        char* end = nullptr;
                        double parsed = std::strtod(value.c_str(), &end);
                        if (value.empty() || *end != '\0' || !std::isfinite(parsed) || parsed < min || parsed > max) {
                            error = "--" + name + " wants a number from " + shown(min) + " to " + shown(max) +
                                    ", not '" + value + "'";
                            return false;
                        }
                        target = parsed;
                        return true;
                    }};
}

void Flags::count(const std::string& name, std::uint64_t& target, std::uint64_t min, std::uint64_t max,
                  const std::string& help) {
    order_.push_back(name);
    flags_[name] = {help, true, std::to_string(target),
                    [&target, min, max, name](const std::string& value, std::string& error) {
                        char* end = nullptr;
                        unsigned long long parsed = std::strtoull(value.c_str(), &end, 10);
                        if (value.empty() || value[0] == '-' || *end != '\0' || parsed < min || parsed > max) {
                            error = "--" + name + " wants a whole number from " + std::to_string(min) + " to " +
                                    std::to_string(max) + ", not '" + value + "'";
                            return false;
                        }
                        target = parsed;
                        return true;
                    }};
}

void Flags::toggle(const std::string& name, bool& target, const std::string& help) {
    order_.push_back(name);
    flags_[name] = {help, false, "", [&target](const std::string&, std::string&) {
                        target = true;
                        return true;
                    }};
}

int EarlyExit::print() const {
    std::fputs(text.c_str(), exit_code == 0 ? stdout : stderr);
    return exit_code;
}

int usage_error(const std::string& command, const std::string& message) {
    return EarlyExit::usage_error(command, message).print();
}

bool Flags::parse(const std::vector<std::string>& arguments, std::vector<std::string>* positional) {
    auto wrong = [this](const std::string& message) {
        early_exit_ = EarlyExit::usage_error(command_, message);
        return false;
    };
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const std::string& argument = arguments[i];
        if (argument == "--help" || argument == "-h") {
            early_exit_ = EarlyExit::help(help());
            return false;
        }
        if (argument.rfind("--", 0) != 0 || argument.size() == 2) {
            if (!positional) return wrong("unexpected argument '" + argument + "' (see --help)");
            positional->push_back(argument);
            continue;
        }
        std::string name = argument.substr(2), value;
        bool has_value = false;
        if (auto equals = name.find('='); equals != std::string::npos) {
            value = name.substr(equals + 1);
            name = name.substr(0, equals);
            has_value = true;
        }
        auto found = flags_.find(name);
        if (found == flags_.end()) return wrong("unknown option '--" + name + "' (see --help)");
        if (found->second.takes_value && !has_value) {
            if (i + 1 >= arguments.size()) return wrong("--" + name + " needs a value");
            value = arguments[++i];
        }
        std::string error;
        if (!found->second.apply(value, error)) return wrong(error);
    }
    return true;
}

std::string Flags::help() const {
    std::string text = "usage: socklab " + command_ + " " + synopsis_ + "\n\noptions:\n";
    for (const std::string& name : order_) {
        const Flag& flag = flags_.at(name);
        std::string left = "  --" + name + (flag.takes_value ? " VALUE" : "");
        if (left.size() < 24) left.resize(24, ' ');
        else left += "  ";
        text += left + flag.help;
        if (flag.takes_value && !flag.shown_default.empty()) text += " (default " + flag.shown_default + ")";
        text += "\n";
    }
    text += "  --help                this help\n";
    return fit_help(text, static_cast<std::size_t>(terminal_width()));  // a help read on a projector fits it too
}

}  // namespace socklab::cli
