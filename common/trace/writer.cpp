// common/trace/writer.cpp — see writer.h; the layout of each record is documented in wire.h.
#include "common/trace/writer.h"

#include <algorithm>

#include "common/trace/wire.h"

namespace socklab::trace {

namespace {

void put_u16(std::string& out, std::uint16_t value) { out.append(reinterpret_cast<const char*>(&value), 2); }
void put_u32(std::string& out, std::uint32_t value) { out.append(reinterpret_cast<const char*>(&value), 4); }
void put_text(std::string& out, const std::string& text) { out.append(text.c_str(), text.size() + 1); }

}  // namespace

void WireWriter::header() {
    bytes_.append(wire::kMagic, sizeof wire::kMagic);
    put_u32(bytes_, wire::kVersion);
    put_u32(bytes_, sizeof(Event));
}

void WireWriter::record(std::uint32_t type, const std::string& payload) {
    put_u32(bytes_, type);
    put_u32(bytes_, static_cast<std::uint32_t>(payload.size()));
    bytes_ += payload;
}

void WireWriter::site(const SiteInfo& site) {
    std::string payload;
    put_u16(payload, site.id);
    put_u16(payload, 0);
    put_u32(payload, site.line);
    put_text(payload, site.file);
    put_text(payload, site.label);
    record(static_cast<std::uint32_t>(wire::RecordType::site), payload);
}

void WireWriter::thread(const ThreadInfo& thread) {
    std::string payload;
    put_u16(payload, thread.index);
    put_u16(payload, 0);
    put_u32(payload, thread.os_thread_id);
    put_text(payload, thread.role);
    record(static_cast<std::uint32_t>(wire::RecordType::thread), payload);
}

void WireWriter::info(const std::string& key, const std::string& value) {
    std::string payload;
    put_text(payload, key);
    put_text(payload, value);
    record(static_cast<std::uint32_t>(wire::RecordType::info), payload);
}

void WireWriter::events(const Event* events, std::size_t count) {
    constexpr std::size_t kPerRecord = wire::kMaxRecordPayload / sizeof(Event);
    for (std::size_t done = 0; done < count;) {
        const std::size_t n = std::min(count - done, kPerRecord);
        put_u32(bytes_, static_cast<std::uint32_t>(wire::RecordType::events));
        put_u32(bytes_, static_cast<std::uint32_t>(n * sizeof(Event)));
        bytes_.append(reinterpret_cast<const char*>(events + done), n * sizeof(Event));
        done += n;
    }
}

void WireWriter::dropped(std::uint64_t count) {
    std::string payload(reinterpret_cast<const char*>(&count), 8);
    record(static_cast<std::uint32_t>(wire::RecordType::dropped), payload);
}

std::string WireWriter::take_bytes() {
    std::string out;
    out.swap(bytes_);
    return out;
}

}  // namespace socklab::trace
