// visualizer/model/trace_model_dump.cpp — see trace_model_dump.h.
#include "visualizer/model/trace_model_dump.h"

#include <iomanip>

#include "visualizer/model/runtime_note.h"
#include "visualizer/model/trace_model.h"

namespace socklab::viz {

void dump_trace_model(const TraceModel& model, std::uint64_t time_ns, std::ostream& out) {
    const auto& counters = model.counters();
    const auto& conformance = model.conformance();
    out << "model " << (model.io_model().empty() ? "-" : model.io_model()) << "\n";
    out << "runtime " << (model.runtime().empty() ? "-" : model.runtime()) << "\n";
    out << "runtime_note " << (runtime_note(model).empty() ? "-" : runtime_note(model)) << "\n";
    out << "events " << model.event_count() << "\n";
    out << "duration_ns " << (model.last_ns() - model.first_ns()) << "\n";
    out << "cursor_ns " << time_ns << "\n";

    std::size_t threads = 0;
    for (const auto& lane : model.lanes()) {
        if (lane.events.empty()) continue;
        ++threads;
        out << "thread " << lane.index << " role " << (lane.role.empty() ? "-" : lane.role) << " state "
            << to_string(model.state_at(lane, time_ns)) << " events " << lane.events.size() << " changes "
            << lane.state_changes.size() << "\n";
    }
    out << "threads " << threads << "\n";

    for (const auto& port : model.ports()) {
        out << "port " << port.index << " waiters";
        for (const auto& waiter : model.waiters_at(port.index, time_ns)) out << " " << waiter.thread;
        out << " (oldest first)\n";
        out << "port " << port.index << " counted_depth " << model.counted_depth_at(port.index, time_ns)
            << " sampled_depth " << model.sampled_depth_at(port.index, time_ns) << " depth "
            << model.depth_at(port.index, time_ns) << "\n";
        out << "port " << port.index << " packets_waiting";
        for (auto posted : model.packets_waiting_at(port.index, time_ns)) out << " " << model.events()[posted].arg1;
        out << "\n";
        out << "port " << port.index << " wake_positions";
        for (auto wake : model.recent_wakes(port.index, time_ns, 64)) out << " " << model.events()[wake].derived;
        out << "\n";
    }

    out << "connections_total " << model.connections().size() << "\n";
    out << "connections_open " << model.connections_open_at(time_ns) << "\n";
    out << "lines_in " << counters.lines_in << "\nlines_out " << counters.lines_out << "\n";
    out << "bytes_in " << counters.bytes_in << "\nbytes_out " << counters.bytes_out << "\n";
    out << "packets_posted " << counters.packets_posted << "\npackets_dequeued " << counters.packets_dequeued << "\n";
    out << "errors " << counters.errors << "\ngate_holds " << counters.gate_holds << "\n";
    out << "dropped " << counters.dropped << "\nlate_events " << counters.late_events << "\n";
    out << "latency_count " << model.latency().count << "\n";
    out << "latency_mean_ns " << static_cast<std::uint64_t>(model.latency().mean_ns()) << "\n";
    out << "latency_max_ns " << model.latency().max_ns << "\n";

    out << "wakes " << conformance.wakes << "\n";
    out << "wakes_with_choice " << conformance.wakes_with_choice << "\n";
    out << "lifo_wakes " << conformance.lifo_wakes << "\n";
    out << "fifo_wakes " << conformance.fifo_wakes << "\n";
    out << "lifo_share ";
    if (conformance.lifo_share() < 0) out << "-\n";
    else out << std::fixed << std::setprecision(3) << conformance.lifo_share() << "\n";
    out << "concurrency " << conformance.concurrency << "\n";
    out << "most_running " << conformance.most_running << "\n";
    out << "wakes_at_or_over_concurrency " << conformance.wakes_at_or_over_concurrency << "\n";
}

}  // namespace socklab::viz
