// common/protocol/session.cpp — the shared protocol, the same in every model.
#include "common/protocol/session.h"

#include <charconv>
#include <chrono>
#include <thread>

#include "common/trace/recorder.h"

namespace socklab::protocol {

using trace::CloseReason;

void ServerCounters::connection_opened() {
    std::uint64_t open = connections_open.fetch_add(1, std::memory_order_relaxed) + 1;
    connections_total.fetch_add(1, std::memory_order_relaxed);
    std::uint64_t most = connections_most.load(std::memory_order_relaxed);
    while (open > most && !connections_most.compare_exchange_weak(most, open, std::memory_order_relaxed)) {}
}

namespace {
std::string (*g_process_figures)() = nullptr;
}

void set_process_figures_source(std::string (*source)()) { g_process_figures = source; }

std::string ServerCounters::stats_line(std::string_view model) const {
    auto value = [](const std::atomic<std::uint64_t>& counter) {
        return std::to_string(counter.load(std::memory_order_relaxed));
    };
    return "OK stats model=" + std::string(model) + " connections=" + value(connections_open) +
           " total=" + value(connections_total) + " most=" + value(connections_most) + " lines_in=" + value(lines_in) +
           " lines_out=" + value(lines_out) + " bytes_in=" + value(bytes_in) + " bytes_out=" + value(bytes_out) +
           (g_process_figures ? " " + g_process_figures() : std::string());
}

Session::Session(std::uint32_t connection, SessionHost& host, std::size_t max_line)
    : connection_(connection), host_(host), decoder_(max_line) {}

Session::Verdict Session::on_receive(const char* data, std::size_t size, std::string& replies) {
    if (close_reason_ != CloseReason::none) return Verdict::close_after_replies;  // ignore bytes after /quit
    auto result = decoder_.feed(std::string_view(data, size), [&](std::string_view line, std::size_t wire_bytes) {
        // Lines that arrived in the same read after /quit are not answered: the client asked to leave.
        if (close_reason_ == CloseReason::none) handle_line(line, wire_bytes, replies);
    });
    if (result == LineDecoder::Result::line_too_long && close_reason_ == CloseReason::none) {
        reply(replies, "ERR line-too-long");
        close_reason_ = CloseReason::line_too_long;
    }
    return close_reason_ == CloseReason::none ? Verdict::keep_open : Verdict::close_after_replies;
}

Session::Verdict Session::on_peer_closed(std::string& replies) {
    if (close_reason_ == CloseReason::none && !decoder_.pending().empty()) {
        std::string last(decoder_.pending());
        decoder_.clear_pending();
        const std::size_t wire_bytes = last.size();  // a last line with no end: its bytes are all it took
        if (!last.empty() && last.back() == '\r') last.pop_back();
        handle_line(last, wire_bytes, replies);
    }
    return Verdict::close_after_replies;
}

void Session::reply(std::string& replies, std::string_view text) {
    replies.append(text);
    replies.push_back('\n');
    host_.counters.lines_out.fetch_add(1, std::memory_order_relaxed);
    TRACE(line_out, connection_, 0, text.size() + 1, 0);
}

// Parses a decimal argument; false for anything else (signs, spaces, overflow).
static bool parse_milliseconds(std::string_view text, unsigned& value) {
    if (text.empty()) return false;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() && value <= kMaxWorkMilliseconds;
}

void Session::handle_line(std::string_view line, std::size_t wire_bytes, std::string& replies) {
    // The bytes the line took on the wire, its end included, as line_out counts the "\n" of a reply: so the
    // visualizer's bytes in and out compare like with like.
    TRACE(line_in, connection_, 0, wire_bytes, 0);
    host_.counters.lines_in.fetch_add(1, std::memory_order_relaxed);
    if (line.empty() || line.front() != '/') {
        replies.append(line);
        replies.push_back('\n');
        host_.counters.lines_out.fetch_add(1, std::memory_order_relaxed);
        TRACE(line_out, connection_, 0, line.size() + 1, 0);
        return;
    }
    std::string_view command = line.substr(0, line.find(' '));
    std::string_view rest = command.size() < line.size() ? line.substr(command.size() + 1) : std::string_view();
    if (command == "/work") {
        auto space = rest.find(' ');
        unsigned cpu_ms = 0, block_ms = 0;
        if (space == std::string_view::npos || !parse_milliseconds(rest.substr(0, space), cpu_ms) ||
            !parse_milliseconds(rest.substr(space + 1), block_ms)) {
            reply(replies,
                  "ERR usage: /work <cpu_ms> <block_ms> (each 0.." + std::to_string(kMaxWorkMilliseconds) + ")");
            return;
        }
        do_work(connection_, cpu_ms, block_ms);
        reply(replies, "OK work " + std::to_string(cpu_ms) + " " + std::to_string(block_ms));
    } else if (command == "/all") {
        // "/all" and "/all " alone would send every other client an empty "<id>: " line: a mistake, not a message.
        if (rest.empty()) {
            reply(replies, "ERR usage: /all <text>");
            return;
        }
        std::string message = std::to_string(connection_) + ": " + std::string(rest) + "\n";
        std::size_t recipients = host_.broadcast(connection_, message);
        reply(replies, "OK all " + std::to_string(recipients));
    } else if (command == "/stats") {
        reply(replies, host_.stats_line());
    } else if (command == "/quit") {
        reply(replies, "BYE");
        close_reason_ = CloseReason::quit;
    } else {
        reply(replies, "ERR unknown-command");
    }
}

void do_work(std::uint32_t connection, unsigned cpu_ms, unsigned block_ms) {
    using clock = std::chrono::steady_clock;
    // Burn CPU: the thread stays runnable the whole time, as a real handler doing computation would.
    auto until = clock::now() + std::chrono::milliseconds(cpu_ms);
    volatile std::uint64_t sink = 0;
    while (clock::now() < until) {
        for (int i = 0; i < 1000; ++i) sink = sink + static_cast<std::uint64_t>(i);
    }
    if (block_ms > 0) {
        TRACE(block_begin, connection, 0, block_ms, 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(block_ms));
        TRACE(block_end, connection, 0, block_ms, 0);
    }
}

}  // namespace socklab::protocol
