// visualizer/model/trace_writer.cpp — the wire format of common/trace/wire.h, written record by record.
#include "visualizer/model/trace_writer.h"

#include <fstream>

#include "common/trace/wire.h"
#include "visualizer/model/trace_model.h"

namespace socklab::viz {

void write_snapshot(TraceWriter& writer, const TraceModel& model) {
    writer.header();
    for (const auto& [key, value] : model.info()) writer.info(key, value);
    for (const auto& [id, site_info] : model.sites()) writer.site(site_info);
    for (const auto& lane : model.lanes())
        if (!lane.role.empty() || !lane.events.empty()) writer.thread({lane.index, lane.os_thread_id, lane.role});
    if (model.counters().dropped) writer.dropped(model.counters().dropped);
    std::vector<trace::Event> batch;
    batch.reserve(4096);
    for (const auto& stored : model.events()) {
        batch.push_back(to_wire(stored));
        if (batch.size() == 4096) {
            writer.events(batch.data(), batch.size());
            batch.clear();
        }
    }
    writer.events(batch.data(), batch.size());
    writer.events(model.queued_events().data(), model.queued_events().size());
}

bool write_trace_file(const std::string& path, const TraceModel& model, std::string& error) {
    TraceWriter writer;
    write_snapshot(writer, model);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(writer.bytes().data(), static_cast<std::streamsize>(writer.bytes().size()));
    if (!out) {
        error = path + ": cannot write";
        return false;
    }
    return true;
}

}  // namespace socklab::viz
