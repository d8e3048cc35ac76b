// tests/visualizer/json_check.h — a strict little JSON parser, enough to prove an export is valid JSON and to
// look inside it. Test code only: the visualizer writes JSON, it never reads it.
#pragma once

#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace socklab::viz::testing {

struct JsonValue {
    enum class Type { null, boolean, number, string, array, object } type = Type::null;
    bool boolean = false;
    double number = 0;
    std::string text;
    std::vector<JsonValue> items;
    std::map<std::string, JsonValue> members;

    const JsonValue* get(const std::string& key) const {
        auto found = members.find(key);
        return found == members.end() ? nullptr : &found->second;
    }
};

class JsonParser {
public:
    explicit JsonParser(const std::string& text) : text_(text) {}

    // The whole text as one value; false (with error()) on anything that is not strict JSON.
    bool parse(JsonValue& out) {
        if (!value(out)) return false;
        skip_space();
        if (at_ != text_.size()) return fail("text after the value");
        return true;
    }
    const std::string& error() const { return error_; }

private:
    bool fail(const std::string& why) {
        error_ = why + " at byte " + std::to_string(at_);
        return false;
    }
    void skip_space() {
        while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
    }
    bool literal(const char* word) {
        const std::string w(word);
        if (text_.compare(at_, w.size(), w) != 0) return fail("expected " + w);
        at_ += w.size();
        return true;
    }
    bool string(std::string& out) {
        if (text_[at_] != '"') return fail("expected a string");
        for (++at_; at_ < text_.size(); ++at_) {
            const char c = text_[at_];
            if (c == '"') {
                ++at_;
                return true;
            }
            if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
            if (c == '\\') {
                if (++at_ >= text_.size()) break;
                const char e = text_[at_];
                if (e == 'u') {
                    if (at_ + 4 >= text_.size()) return fail("short \\u escape");
                    for (int i = 1; i <= 4; ++i)
                        if (!std::isxdigit(static_cast<unsigned char>(text_[at_ + i]))) return fail("bad \\u escape");
                    out += '?';
                    at_ += 4;
                } else if (std::string("\"\\/bfnrt").find(e) != std::string::npos) {
                    out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
                } else {
                    return fail("bad escape");
                }
            } else {
                out += c;
            }
        }
        return fail("unterminated string");
    }
    bool number(double& out) {
        const std::size_t start = at_;
        if (text_[at_] == '-') ++at_;
        if (at_ >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[at_]))) return fail("bad number");
        if (text_[at_] == '0' && at_ + 1 < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_ + 1])))
            return fail("leading zero");
        while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) ++at_;
        if (at_ < text_.size() && text_[at_] == '.') {
            ++at_;
            if (at_ >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[at_])))
                return fail("bad fraction");
            while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) ++at_;
        }
        if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
            ++at_;
            if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
            while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) ++at_;
        }
        out = std::strtod(text_.substr(start, at_ - start).c_str(), nullptr);
        return true;
    }
    bool value(JsonValue& out) {
        skip_space();
        if (at_ >= text_.size()) return fail("unexpected end");
        const char c = text_[at_];
        if (c == '{') {
            out.type = JsonValue::Type::object;
            ++at_;
            skip_space();
            if (at_ < text_.size() && text_[at_] == '}') return ++at_, true;
            for (;;) {
                skip_space();
                std::string key;
                if (!string(key)) return false;
                skip_space();
                if (at_ >= text_.size() || text_[at_] != ':') return fail("expected ':'");
                ++at_;
                if (!value(out.members[key])) return false;
                skip_space();
                if (at_ < text_.size() && text_[at_] == ',') {
                    ++at_;
                    continue;
                }
                if (at_ < text_.size() && text_[at_] == '}') return ++at_, true;
                return fail("expected ',' or '}'");
            }
        }
        if (c == '[') {
            out.type = JsonValue::Type::array;
            ++at_;
            skip_space();
            if (at_ < text_.size() && text_[at_] == ']') return ++at_, true;
            for (;;) {
                out.items.emplace_back();
                if (!value(out.items.back())) return false;
                skip_space();
                if (at_ < text_.size() && text_[at_] == ',') {
                    ++at_;
                    continue;
                }
                if (at_ < text_.size() && text_[at_] == ']') return ++at_, true;
                return fail("expected ',' or ']'");
            }
        }
        if (c == '"') {
            out.type = JsonValue::Type::string;
            return string(out.text);
        }
        if (c == 't') {
            out.type = JsonValue::Type::boolean;
            out.boolean = true;
            return literal("true");
        }
        if (c == 'f') {
            out.type = JsonValue::Type::boolean;
            return literal("false");
        }
        if (c == 'n') return literal("null");
        out.type = JsonValue::Type::number;
        return number(out.number);
    }

    std::string text_;  // a copy: callers often pass a temporary
    std::size_t at_ = 0;
    std::string error_;
};

}  // namespace socklab::viz::testing
