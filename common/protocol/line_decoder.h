// common/protocol/line_decoder.h — splits a TCP byte stream into lines (docs/design.md §3).
//
// TCP delivers bytes, not messages: one recv may hold half a line, or a hundred lines, or a line's "\r" without
// its "\n". The decoder keeps the unfinished tail between calls so that every way of cutting the same stream
// yields the same lines. A line ends with "\n"; a "\r" right before it is dropped; every other byte (UTF-8
// included) passes untouched.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace socklab::protocol {

class LineDecoder {
public:
    explicit LineDecoder(std::size_t max_line) : max_line_(max_line) {}

    enum class Result { ok, line_too_long };

    // Calls on_line(std::string_view line) — or on_line(line, wire_bytes), the bytes the line took in the stream
    // with its "\n" or "\r\n" — for each complete line in data. Stops at, and reports, the first line longer
    // than max_line bytes (counted without its end); after that the stream is not trusted any more.
    template <class OnLine>
    Result feed(std::string_view data, OnLine&& on_line) {
        if (overflowed_) return Result::line_too_long;
        while (!data.empty()) {
            std::size_t end = data.find('\n');
            if (end == std::string_view::npos) {
                // No line end yet: keep the tail, unless it is already too long to ever become a valid line.
                // (+1 leaves room for a "\r" that the next read's "\n" will turn into a line end.)
                if (partial_.size() + data.size() > max_line_ + 1) return overflow();
                partial_.append(data);
                return Result::ok;
            }
            std::string_view line = data.substr(0, end);
            data.remove_prefix(end + 1);
            if (!partial_.empty()) {
                // The common case (a line wholly inside one read) is handled without copying.
                if (partial_.size() + line.size() > max_line_ + 1) return overflow();
                partial_.append(line);
                line = partial_;
            }
            const std::size_t wire_bytes = line.size() + 1;
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.size() > max_line_) return overflow();
            if constexpr (std::is_invocable_v<OnLine&, std::string_view, std::size_t>) on_line(line, wire_bytes);
            else on_line(line);
            partial_.clear();
        }
        return Result::ok;
    }

    // The unterminated tail, for a stream that ended without a final "\n".
    std::string_view pending() const { return partial_; }
    void clear_pending() { partial_.clear(); }

private:
    Result overflow() {
        overflowed_ = true;
        partial_.clear();
        return Result::line_too_long;
    }

    std::size_t max_line_;
    std::string partial_;
    bool overflowed_ = false;
};

}  // namespace socklab::protocol
