// common/trace/reader.cpp — the incremental decoder of the wire format in wire.h.
#include "common/trace/reader.h"

#include <cstring>
#include <fstream>

#include "common/trace/wire.h"

namespace socklab::trace {

namespace {

std::uint32_t load_u32(const char* p) {
    std::uint32_t value;
    std::memcpy(&value, p, sizeof value);
    return value;
}

std::uint16_t load_u16(const char* p) {
    std::uint16_t value;
    std::memcpy(&value, p, sizeof value);
    return value;
}

// Splits "a\0b\0" into its NUL-terminated parts; false when a part is not terminated.
bool split_strings(std::string_view text, std::string* out, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        auto end = text.find('\0');
        if (end == std::string_view::npos) return false;
        out[i] = std::string(text.substr(0, end));
        text.remove_prefix(end + 1);
    }
    return true;
}

}  // namespace

StreamDecoder::StreamDecoder(Handler handler) : handler_(std::move(handler)) {}

bool StreamDecoder::feed(const char* data, std::size_t size) {
    if (failed_) return false;
    buffer_.append(data, size);
    std::size_t offset = 0;
    if (!header_seen_) {
        if (buffer_.size() < wire::kHeaderSize) return true;
        if (!parse_header()) return false;
        offset = wire::kHeaderSize;
    }
    while (buffer_.size() - offset >= wire::kRecordHeaderSize) {
        const char* record = buffer_.data() + offset;
        std::uint32_t type = load_u32(record);
        std::uint32_t length = load_u32(record + 4);
        if (length > wire::kMaxRecordPayload) {
            failed_ = true;
            error_ = "record of " + std::to_string(length) + " bytes is larger than any socklab writes";
            return false;
        }
        if (buffer_.size() - offset - wire::kRecordHeaderSize < length) break;
        if (!parse_record(type, std::string_view(record + wire::kRecordHeaderSize, length))) {
            failed_ = true;
            return false;
        }
        offset += wire::kRecordHeaderSize + length;
    }
    buffer_.erase(0, offset);
    return true;
}

bool StreamDecoder::parse_header() {
    if (std::memcmp(buffer_.data(), wire::kMagic, sizeof wire::kMagic) != 0) {
        failed_ = true;
        error_ = "not a socklab trace (bad magic)";
        return false;
    }
    std::uint32_t version = load_u32(buffer_.data() + 8);
    std::uint32_t event_size = load_u32(buffer_.data() + 12);
    if (version != wire::kVersion || event_size != sizeof(Event)) {
        failed_ = true;
        error_ = "trace format version " + std::to_string(version) + " with " + std::to_string(event_size) +
                 "-byte events; this build reads version " + std::to_string(wire::kVersion) + " with " +
                 std::to_string(sizeof(Event)) + "-byte events";
        return false;
    }
    header_seen_ = true;
    return true;
}

bool StreamDecoder::parse_record(std::uint32_t type, std::string_view payload) {
    switch (static_cast<wire::RecordType>(type)) {
        case wire::RecordType::events: {
            if (payload.size() % sizeof(Event) != 0) {
                error_ = "events record is not a whole number of events";
                return false;
            }
            std::size_t count = payload.size() / sizeof(Event);
            if (handler_.events && count > 0) {
                // The payload may be unaligned inside the buffer; copy out in aligned batches.
                Event batch[256];
                for (std::size_t done = 0; done < count;) {
                    std::size_t n = std::min<std::size_t>(count - done, 256);
                    std::memcpy(batch, payload.data() + done * sizeof(Event), n * sizeof(Event));
                    handler_.events(batch, n);
                    done += n;
                }
            }
            return true;
        }
        case wire::RecordType::site: {
            if (payload.size() < 8) {
                error_ = "short site record";
                return false;
            }
            SiteInfo site;
            site.id = load_u16(payload.data());
            site.line = load_u32(payload.data() + 4);
            std::string parts[2];
            if (!split_strings(payload.substr(8), parts, 2)) {
                error_ = "bad site record";
                return false;
            }
            site.file = std::move(parts[0]);
            site.label = std::move(parts[1]);
            if (handler_.site) handler_.site(site);
            return true;
        }
        case wire::RecordType::thread: {
            if (payload.size() < 8) {
                error_ = "short thread record";
                return false;
            }
            ThreadInfo thread;
            thread.index = load_u16(payload.data());
            thread.os_thread_id = load_u32(payload.data() + 4);
            if (!split_strings(payload.substr(8), &thread.role, 1)) {
                error_ = "bad thread record";
                return false;
            }
            if (handler_.thread) handler_.thread(thread);
            return true;
        }
        case wire::RecordType::info: {
            std::string parts[2];
            if (!split_strings(payload, parts, 2)) {
                error_ = "bad info record";
                return false;
            }
            if (handler_.info) handler_.info(parts[0], parts[1]);
            return true;
        }
        case wire::RecordType::dropped: {
            if (payload.size() != 8) {
                error_ = "bad dropped record";
                return false;
            }
            std::uint64_t count;
            std::memcpy(&count, payload.data(), 8);
            if (handler_.dropped) handler_.dropped(count);
            return true;
        }
    }
    return true;  // a record type this build does not know: skipped, as wire.h promises
}

StreamDecoder::Handler collect_into(Trace& trace) {
    StreamDecoder::Handler handler;
    handler.events = [&trace](const Event* events, std::size_t count) {
        trace.events.insert(trace.events.end(), events, events + count);
    };
    handler.site = [&trace](const SiteInfo& site) { trace.sites[site.id] = site; };
    handler.thread = [&trace](const ThreadInfo& thread) { trace.threads[thread.index] = thread; };
    handler.info = [&trace](const std::string& key, const std::string& value) { trace.info[key] = value; };
    handler.dropped = [&trace](std::uint64_t count) { trace.dropped += count; };
    return handler;
}

bool read_trace_file(const std::string& path, Trace& trace, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": cannot open";
        return false;
    }
    StreamDecoder decoder(collect_into(trace));
    char chunk[1 << 16];
    while (in) {
        in.read(chunk, sizeof chunk);
        if (!decoder.feed(chunk, static_cast<std::size_t>(in.gcount()))) {
            error = path + ": " + decoder.error();
            return false;
        }
    }
    if (decoder.mid_record()) {
        error = path + ": the file ends inside a record (was the server killed while writing?)";
        return false;
    }
    return true;
}

}  // namespace socklab::trace
