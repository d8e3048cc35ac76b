// common/trace/reader.h — turns a trace byte stream (a file, or a live TCP stream) back into events.
//
// StreamDecoder is incremental: feed it whatever bytes arrived, in pieces of any size, and it calls the
// handler for each complete record. read_trace_file() is the whole-file convenience built on it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/trace/event.h"

namespace socklab::trace {

struct SiteInfo {
    std::uint16_t id = 0;
    std::uint32_t line = 0;
    std::string file;   // as the compiler spelled it, made relative to the source root when possible
    std::string label;  // the API name for an error site, else the kind written at the site
};

struct ThreadInfo {
    std::uint16_t index = 0;
    std::uint32_t os_thread_id = 0;
    std::string role;  // "acceptor", "worker", "client-handler", "collector", ...
};

// Everything a trace holds, in the order the stream delivered it.
struct Trace {
    std::vector<Event> events;
    std::map<std::uint16_t, SiteInfo> sites;
    std::map<std::uint16_t, ThreadInfo> threads;
    std::map<std::string, std::string> info;  // model, runtime, processors, concurrency, ...
    std::uint64_t dropped = 0;
};

class StreamDecoder {
public:
    struct Handler {
        std::function<void(const Event*, std::size_t count)> events;
        std::function<void(const SiteInfo&)> site;
        std::function<void(const ThreadInfo&)> thread;
        std::function<void(const std::string& key, const std::string& value)> info;
        std::function<void(std::uint64_t count)> dropped;
    };

    explicit StreamDecoder(Handler handler);

    // Consumes bytes; returns false (and stops for good) when the stream is not a socklab trace or is corrupt.
    bool feed(const char* data, std::size_t size);
    const std::string& error() const { return error_; }
    // True when the stream stopped inside a record (a truncated file).
    bool mid_record() const { return !buffer_.empty(); }

private:
    bool parse_header();
    bool parse_record(std::uint32_t type, std::string_view payload);

    Handler handler_;
    std::string buffer_;
    bool header_seen_ = false;
    bool failed_ = false;
    std::string error_;
};

// Fills a Trace from a stream decoder: the usual handler for code that keeps every event.
StreamDecoder::Handler collect_into(Trace& trace);

// Reads a whole trace file. Returns false with a message naming the file and the problem.
bool read_trace_file(const std::string& path, Trace& trace, std::string& error);

}  // namespace socklab::trace
