// common/protocol/session.h — what one connection says and what the server answers (docs/design.md §3).
//
// Every model runs the same Session for each of its connections, so a comparison of two models measures how
// they wait and nothing else. The session never touches a socket: the model hands it received bytes and
// sends the replies it returns, in order, however the model does its I/O.
//
//   text                 echoed back
//   /work <cpu> <block>  burn <cpu> ms of CPU, then block (sleep) <block> ms on this thread; "OK work <cpu> <block>"
//   /all <text>          "<id>: <text>" to every other connection; "OK all <recipients>"
//   /stats               one line of server counters
//   /quit                "BYE", then the server closes the connection
//   /anything-else       "ERR unknown-command"
//   a too-long line      "ERR line-too-long", then the server closes the connection
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/protocol/line_decoder.h"
#include "common/trace/event.h"

namespace socklab::protocol {

inline constexpr std::size_t kDefaultMaxLine = 4096;
// /work is a teaching tool, not a way to wedge a server: each argument is capped.
inline constexpr unsigned kMaxWorkMilliseconds = 10000;

// Counters every model keeps the same way; /stats prints them.
struct ServerCounters {
    std::atomic<std::uint64_t> connections_open{0};
    std::atomic<std::uint64_t> connections_total{0};
    std::atomic<std::uint64_t> connections_most{0};
    std::atomic<std::uint64_t> lines_in{0};
    std::atomic<std::uint64_t> lines_out{0};
    std::atomic<std::uint64_t> bytes_in{0};
    std::atomic<std::uint64_t> bytes_out{0};

    void connection_opened();
    void connection_closed() { connections_open.fetch_sub(1, std::memory_order_relaxed); }
    std::string stats_line(std::string_view model) const;
};

// The server executable adds the process's own figures to every /stats line (threads, memory, CPU time:
// "threads=12 working_set_kb=5120 peak_working_set_kb=6000 cpu_ms=830"); the protocol stays portable.
void set_process_figures_source(std::string (*source)());

// What a session needs from the server running it. The counters live here so that every model keeps them the
// same way: the session counts lines, the model counts connections and bytes.
class SessionHost {
public:
    virtual ~SessionHost() = default;
    ServerCounters counters;
    // Queues `message` (a whole line, "\n" included) to every connection but `from`; returns how many.
    virtual std::size_t broadcast(std::uint32_t from, std::string_view message) = 0;
    // The /stats reply, without its line end.
    virtual std::string stats_line() = 0;
};

class Session {
public:
    Session(std::uint32_t connection, SessionHost& host, std::size_t max_line = kDefaultMaxLine);

    enum class Verdict { keep_open, close_after_replies };

    // Handles received bytes. Appends this connection's replies to `replies`, in request order.
    Verdict on_receive(const char* data, std::size_t size, std::string& replies);
    // The peer closed its sending side: an unterminated last line is still answered.
    Verdict on_peer_closed(std::string& replies);

    // Why the session asked to close (quit, line_too_long), or none.
    trace::CloseReason close_reason() const { return close_reason_; }
    std::uint32_t connection() const { return connection_; }

private:
    void handle_line(std::string_view line, std::size_t wire_bytes, std::string& replies);
    void reply(std::string& replies, std::string_view text);

    std::uint32_t connection_;
    SessionHost& host_;
    LineDecoder decoder_;
    trace::CloseReason close_reason_ = trace::CloseReason::none;
};

// The /work handler: burns cpu_ms of CPU, then blocks block_ms, traced as block_begin/block_end so a viewer
// sees the thread blocked (which, on a completion port, lets another waiter run).
void do_work(std::uint32_t connection, unsigned cpu_ms, unsigned block_ms);

}  // namespace socklab::protocol
