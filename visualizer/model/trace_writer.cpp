// visualizer/model/trace_writer.cpp — the wire format of common/trace/wire.h, written record by record.
#include "visualizer/model/trace_writer.h"

#include <cstring>
#include <fstream>

#include "common/trace/wire.h"
#include "visualizer/model/trace_model.h"

namespace socklab::viz {

namespace {

void put_u16(std::string& out, std::uint16_t value) { out.append(reinterpret_cast<const char*>(&value), 2); }
void put_u32(std::string& out, std::uint32_t value) { out.append(reinterpret_cast<const char*>(&value), 4); }
void put_text(std::string& out, const std::string& text) { out.append(text.c_str(), text.size() + 1); }

}  // namespace

void TraceWriter::header() {
    bytes_.append(trace::wire::kMagic, sizeof trace::wire::kMagic);
    put_u32(bytes_, trace::wire::kVersion);
    put_u32(bytes_, sizeof(trace::Event));
}

void TraceWriter::record(std::uint32_t type, const std::string& payload) {
    put_u32(bytes_, type);
    put_u32(bytes_, static_cast<std::uint32_t>(payload.size()));
    bytes_ += payload;
}

void TraceWriter::site(const trace::SiteInfo& site) {
    std::string payload;
    put_u16(payload, site.id);
    put_u16(payload, 0);
    put_u32(payload, site.line);
    put_text(payload, site.file);
    put_text(payload, site.label);
    record(static_cast<std::uint32_t>(trace::wire::RecordType::site), payload);
}

void TraceWriter::thread(const trace::ThreadInfo& thread) {
    std::string payload;
    put_u16(payload, thread.index);
    put_u16(payload, 0);
    put_u32(payload, thread.os_thread_id);
    put_text(payload, thread.role);
    record(static_cast<std::uint32_t>(trace::wire::RecordType::thread), payload);
}

void TraceWriter::info(const std::string& key, const std::string& value) {
    std::string payload;
    put_text(payload, key);
    put_text(payload, value);
    record(static_cast<std::uint32_t>(trace::wire::RecordType::info), payload);
}

void TraceWriter::events(const trace::Event* events, std::size_t count) {
    // One record holds at most what a reader accepts (wire::kMaxRecordPayload).
    constexpr std::size_t kPerRecord = trace::wire::kMaxRecordPayload / sizeof(trace::Event);
    for (std::size_t done = 0; done < count;) {
        const std::size_t n = std::min(count - done, kPerRecord);
        put_u32(bytes_, static_cast<std::uint32_t>(trace::wire::RecordType::events));
        put_u32(bytes_, static_cast<std::uint32_t>(n * sizeof(trace::Event)));
        bytes_.append(reinterpret_cast<const char*>(events + done), n * sizeof(trace::Event));
        done += n;
    }
}

void TraceWriter::dropped(std::uint64_t count) {
    std::string payload(reinterpret_cast<const char*>(&count), 8);
    record(static_cast<std::uint32_t>(trace::wire::RecordType::dropped), payload);
}

void TraceWriter::snapshot(const TraceModel& model) {
    header();
    for (const auto& [key, value] : model.info()) info(key, value);
    for (const auto& [id, site_info] : model.sites()) site(site_info);
    for (const auto& lane : model.lanes())
        if (!lane.role.empty() || !lane.events.empty()) thread({lane.index, lane.os_thread_id, lane.role});
    if (model.counters().dropped) dropped(model.counters().dropped);
    std::vector<trace::Event> batch;
    batch.reserve(4096);
    for (const auto& stored : model.events()) {
        batch.push_back(to_wire(stored));
        if (batch.size() == 4096) {
            events(batch.data(), batch.size());
            batch.clear();
        }
    }
    events(batch.data(), batch.size());
    events(model.queued_events().data(), model.queued_events().size());
}

std::string TraceWriter::take_bytes() {
    std::string out;
    out.swap(bytes_);
    return out;
}

bool write_trace_file(const std::string& path, const TraceModel& model, std::string& error) {
    TraceWriter writer;
    writer.snapshot(model);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(writer.bytes().data(), static_cast<std::streamsize>(writer.bytes().size()));
    if (!out) {
        error = path + ": cannot write";
        return false;
    }
    return true;
}

}  // namespace socklab::viz
