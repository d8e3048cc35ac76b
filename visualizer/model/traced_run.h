// visualizer/model/traced_run.h — one run the visualizer shows, through its trace: where the events come from,
// what they rebuild (trace_model()), and playback.
//
// A traced run is one column on screen (the window's words call it a session; in the code that name belongs to
// the line protocol's per-connection state, common/protocol/session.h). Its events come from one of:
//   replay      a saved trace file, loaded whole; a cursor scrubs through it, play/pause moves the cursor;
//   attached    a running server's live trace port (--trace-port);
//   started     a server the visualizer started (`socklab serve ...`), then attached to;
//   reference   the reference model of the completion port (common/kernel_queue), driven by a scenario.
// Every panel shows the trace model as it was at cursor_ns(), so live and replay are drawn by the same code.
// A live run bounds its history (TraceModel::kDefaultLiveHistoryEvents): a class runs for an hour, and
// the whole-run figures need none of the old events. A replay keeps every event of its file.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "common/kernel_queue/scenario.h"
#include "common/trace/reader.h"
#include "visualizer/model/client_pool.h"
#include "visualizer/model/live_connection.h"
#include "visualizer/model/server_process.h"
#include "visualizer/model/trace_model.h"
#include "visualizer/model/trace_writer.h"

namespace socklab::viz {

class TracedRun {
public:
    enum class Source { replay, attached, started, reference };

    static std::unique_ptr<TracedRun> open_replay(const std::string& path, std::string& error);
    // server_port is where the run's clients connect (0 = no clients).
    static std::unique_ptr<TracedRun> attach(const std::string& host, std::uint16_t trace_port,
                                             std::uint16_t server_port);
    // Runs socklab-server MODEL --port P --trace-port T (ServerProcess), then attaches once its trace port answers.
    // A port of 0 lets the server pick a free one, read back from the line it prints once listening, so
    // several servers (and other programs' servers) never clash. A port given and already in use fails here,
    // with the error saying so, instead of after Wine's seconds of start-up.
    static std::unique_ptr<TracedRun> start_server(const std::string& root, const std::string& io_model,
                                                   std::uint16_t port, std::uint16_t trace_port, std::string& error);
    // A finished trace held in memory: a test's, or a synthetic one.
    static std::unique_ptr<TracedRun> from_trace(std::string title, const trace::Trace& trace);
    // The reference model of the completion port (common/kernel_queue), driven by a scenario's lines
    // (common/kernel_queue/scenario.h), one line per Next.
    static std::unique_ptr<TracedRun> reference(std::string scenario_text);

    ~TracedRun();

    // Once per frame: reads the live stream, advances playback. wall_seconds = time since the last call.
    void update(double wall_seconds);

    Source source() const { return source_; }
    const std::string& title() const { return title_; }
    bool live() const { return source_ == Source::attached || source_ == Source::started; }
    // One line saying where the run stands: "live", "starting Wine… 2.4 s", "closed: ...".
    std::string status_text() const;

    // What the visualizer knows of the run, rebuilt from its events (the data model every panel asks).
    TraceModel& trace_model() { return trace_model_; }
    const TraceModel& trace_model() const { return trace_model_; }

    // ---- cursor and playback ----
    std::uint64_t cursor_ns() const { return cursor_ns_; }
    void seek(std::uint64_t time_ns);
    // Live: keep the cursor on the newest event. Replay: false while scrubbing.
    bool following() const { return follow_; }
    void set_following(bool follow);
    bool playing() const { return playing_; }
    void set_playing(bool playing);
    double speed() const { return speed_; }  // trace seconds per wall second
    void set_speed(double speed) { speed_ = speed; }

    // ---- live control (docs/design.md §4) ----
    bool gate_on() const { return gate_on_; }
    void set_gate(bool on);
    void step();         // releases the thread held longest
    void release_all();  // releases every thread held; the gate stays on
    unsigned slow_motion_ms() const { return slow_ms_; }
    void set_slow_motion(unsigned milliseconds);
    LiveConnection& connection() { return connection_; }
    const ServerProcess* server() const { return server_.get(); }
    ClientPool& clients() { return clients_; }
    std::uint16_t server_port() const { return server_port_; }
    // A started server that exited before this viewer ever attached (a busy port, a bad option, no Wine):
    // its last line of output says why. "" while all is well.
    std::string start_failure() const;

    // ---- the reference model ----
    const kernel_queue::ScenarioPlayer* scenario() const { return scenario_.get(); }
    const std::string& scenario_text() const { return scenario_text_; }
    // Applies the scenario's next line; false when finished (or a line stopped the run).
    bool scenario_next();
    void scenario_restart();
    void scenario_to_end();

    // ---- recording: the stream as received, re-encoded (trace_writer.h) ----
    bool start_recording(const std::string& path, std::string& error);
    void stop_recording();
    bool recording() const { return record_file_.is_open(); }
    const std::string& recording_path() const { return recording_path_; }

private:
    TracedRun() = default;
    void install_decoder();
    void pump_live(double wall_seconds);
    void learn_ports_from_output();
    void flush_recording();
    void load_trace(const trace::Trace& trace);

    Source source_ = Source::replay;
    std::string title_;
    TraceModel trace_model_;
    std::unique_ptr<trace::StreamDecoder> decoder_;
    std::string decode_error_;

    std::uint64_t cursor_ns_ = 0;
    bool follow_ = true;
    bool playing_ = false;
    double speed_ = 1.0;
    double playback_remainder_ns_ = 0;

    LiveConnection connection_;
    std::string host_ = "127.0.0.1";
    std::uint16_t trace_port_ = 0;
    std::uint16_t server_port_ = 0;
    std::unique_ptr<ServerProcess> server_;
    std::string started_io_model_;  // the I/O model a started server runs (iocp, select, ...)
    double since_connect_attempt_ = 0;
    double since_bytes_ = 0;
    double since_newest_event_ = 0;  // wall seconds since the newest event arrived (live)
    std::uint64_t newest_seen_ns_ = 0;
    bool ever_connected_ = false;
    bool gate_on_ = false;
    unsigned slow_ms_ = 0;
    ClientPool clients_;

    std::unique_ptr<kernel_queue::ScenarioPlayer> scenario_;
    std::string scenario_text_;

    std::ofstream record_file_;
    std::string recording_path_;
    TraceWriter record_writer_;
};

}  // namespace socklab::viz
