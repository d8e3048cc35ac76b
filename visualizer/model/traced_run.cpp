// visualizer/model/traced_run.cpp — see traced_run.h.
//
// Sections:
//   1. Opening a run (replay, attach, start, from a trace)
//   2. Each frame: the live stream, the reorder window, playback
//   3. Live control and recording
#include "visualizer/model/traced_run.h"

#include <algorithm>
#include <cstdio>

#include "common/catalog/models.h"

namespace socklab::viz {

// ---- 1. Opening a run -------------------------------------------------------------------------------

std::unique_ptr<TracedRun> TracedRun::open_replay(const std::string& path, std::string& error) {
    std::unique_ptr<TracedRun> run(new TracedRun());
    run->source_ = Source::replay;
    const auto slash = path.find_last_of('/');
    run->title_ = slash == std::string::npos ? path : path.substr(slash + 1);
    run->install_decoder();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": cannot open";
        return nullptr;
    }
    std::vector<char> chunk(1 << 20);
    while (in) {
        in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        if (!run->decoder_->feed(chunk.data(), static_cast<std::size_t>(in.gcount()))) {
            error = path + ": " + run->decoder_->error();
            return nullptr;
        }
    }
    if (run->decoder_->mid_record()) {
        // A server killed mid-write leaves a partial record: show everything before it rather than nothing.
        std::fprintf(stderr, "socklab-viz: %s ends inside a record; showing the events before it\n", path.c_str());
    }
    run->trace_model_.finish();
    run->follow_ = false;
    run->cursor_ns_ = run->trace_model_.last_ns();
    if (!run->trace_model_.io_model().empty()) run->title_ = run->trace_model_.io_model() + " - " + run->title_;
    return run;
}

std::unique_ptr<TracedRun> TracedRun::attach(const std::string& host, std::uint16_t trace_port,
                                             std::uint16_t server_port) {
    std::unique_ptr<TracedRun> run(new TracedRun());
    run->source_ = Source::attached;
    run->host_ = host;
    run->trace_port_ = trace_port;
    run->server_port_ = server_port;
    run->title_ = "trace port " + std::to_string(trace_port);
    run->trace_model_.set_history_limit(TraceModel::kDefaultLiveHistoryEvents);
    run->install_decoder();
    run->connection_.open(host, trace_port);
    if (server_port) run->clients_.set_server(host, server_port);
    return run;
}

std::unique_ptr<TracedRun> TracedRun::start_server(const std::string& root, const std::string& io_model,
                                                   std::uint16_t port, std::uint16_t trace_port, std::string& error) {
    for (const std::uint16_t wanted : {port, trace_port}) {
        if (wanted != 0 && port_in_use(wanted)) {
            error = "port " + std::to_string(wanted) +
                    " is in use (something already listens on 127.0.0.1:" + std::to_string(wanted) +
                    "); choose another, or leave the port out and the server picks a free one";
            return nullptr;
        }
    }
    std::unique_ptr<TracedRun> run(new TracedRun());
    run->source_ = Source::started;
    run->trace_port_ = trace_port;
    run->server_port_ = port;
    run->started_io_model_ = io_model;
    run->title_ = port ? io_model + " :" + std::to_string(port) : io_model;
    run->trace_model_.set_history_limit(TraceModel::kDefaultLiveHistoryEvents);
    run->install_decoder();
    run->server_ = std::make_unique<ServerProcess>();
    if (!run->server_->start(
            root, {io_model, "--port", std::to_string(port), "--trace-port", std::to_string(trace_port)}, error))
        return nullptr;
    if (port) run->clients_.set_server(run->host_, port);
    return run;  // update() attaches once the trace port answers (and learns the ports chosen, if any)
}

std::unique_ptr<TracedRun> TracedRun::from_trace(std::string title, const trace::Trace& trace) {
    std::unique_ptr<TracedRun> run(new TracedRun());
    run->source_ = Source::reference;
    run->title_ = std::move(title);
    run->load_trace(trace);
    return run;
}

void TracedRun::load_trace(const trace::Trace& trace) {
    trace_model_ = TraceModel();
    for (const auto& [key, value] : trace.info) trace_model_.take_info(key, value);
    for (const auto& [id, site] : trace.sites) trace_model_.take_site(site);
    for (const auto& [index, thread] : trace.threads) trace_model_.take_thread(thread);
    trace_model_.take(trace.events.data(), trace.events.size());
    if (trace.dropped) trace_model_.take_dropped(trace.dropped);
    trace_model_.finish();
    follow_ = false;
    cursor_ns_ = trace_model_.last_ns();
}

std::unique_ptr<TracedRun> TracedRun::reference(std::string scenario_text) {
    std::unique_ptr<TracedRun> run(new TracedRun());
    run->source_ = Source::reference;
    run->title_ = "reference model (Windows rules)";
    run->scenario_text_ = std::move(scenario_text);
    run->scenario_restart();
    // Opened at its first step, not at line 0: the setup lines (concurrency, threads) draw nothing and leave
    // no port, so the views would say "No completion port" and the timeline would span a nanosecond. Play up
    // to the first line that starts the model (the port and its first waiters), and no further: the class
    // steps the rest (Next line).
    while (run->trace_model_.ports().empty() && !run->scenario_->finished()) {
        if (!run->scenario_next()) break;
    }
    return run;
}

bool TracedRun::scenario_next() {
    if (!scenario_) return false;
    const bool applied = scenario_->play_next_line();
    load_trace(scenario_->run().model.trace());
    return applied;
}

void TracedRun::scenario_restart() {
    scenario_ = std::make_unique<kernel_queue::ScenarioPlayer>(scenario_text_);
    load_trace(scenario_->run().model.trace());
}

void TracedRun::scenario_to_end() {
    if (!scenario_) return;
    scenario_->play_to_end();
    load_trace(scenario_->run().model.trace());
}

TracedRun::~TracedRun() {
    // Leaving a server with its workers held at the gate would stall it for every other client.
    if (gate_on_) connection_.send_control("gate off");
    stop_recording();
    clients_.disconnect_all();
    connection_.close();
    if (server_) server_->stop();
}

void TracedRun::install_decoder() {
    // The model takes every record; a recording in progress gets a copy of it, re-encoded.
    trace::StreamDecoder::Handler handler = trace_model_.decoder_handler();
    auto events = handler.events;
    handler.events = [this, events](const trace::Event* batch, std::size_t count) {
        events(batch, count);
        if (recording()) record_writer_.events(batch, count);
    };
    auto site = handler.site;
    handler.site = [this, site](const trace::SiteInfo& info) {
        site(info);
        if (recording()) record_writer_.site(info);
    };
    auto thread = handler.thread;
    handler.thread = [this, thread](const trace::ThreadInfo& info) {
        thread(info);
        if (recording()) record_writer_.thread(info);
    };
    auto info = handler.info;
    handler.info = [this, info](const std::string& key, const std::string& value) {
        info(key, value);
        if (recording()) record_writer_.info(key, value);
        if (key == "model" && source_ == Source::attached)
            title_ = value + " (trace port " + std::to_string(trace_port_) + ")";
    };
    auto dropped = handler.dropped;
    handler.dropped = [this, dropped](std::uint64_t count) {
        dropped(count);
        if (recording()) record_writer_.dropped(count);
    };
    decoder_ = std::make_unique<trace::StreamDecoder>(std::move(handler));
}

// ---- 2. Each frame --------------------------------------------------------------------------------------

void TracedRun::update(double wall_seconds) {
    if (live()) pump_live(wall_seconds);
    clients_.poll();

    if (follow_) {
        cursor_ns_ = trace_model_.horizon_ns();
    } else if (playing_) {
        playback_remainder_ns_ += wall_seconds * speed_ * 1e9;
        const auto advance = static_cast<std::uint64_t>(playback_remainder_ns_);
        playback_remainder_ns_ -= double(advance);
        cursor_ns_ = std::min(trace_model_.last_ns(), cursor_ns_ + advance);
        if (cursor_ns_ >= trace_model_.last_ns() && !live()) playing_ = false;  // the end of a replay
    }
    // A live history discards its oldest events: a paused cursor they left behind moves to where it begins.
    if (live()) cursor_ns_ = std::max(cursor_ns_, trace_model_.first_ns());
    flush_recording();
}

void TracedRun::pump_live(double wall_seconds) {
    if (server_) {
        server_->poll();
        if (server_port_ == 0 || trace_port_ == 0) learn_ports_from_output();
        if (trace_port_ == 0) return;  // the server has not said where it listens yet
        // While the server starts (Wine takes seconds), knock on its trace port four times a second.
        since_connect_attempt_ += wall_seconds;
        const auto status = connection_.status();
        if (!ever_connected_ && server_->running() && status != LiveConnection::Status::connecting &&
            status != LiveConnection::Status::connected && since_connect_attempt_ > 0.25) {
            since_connect_attempt_ = 0;
            connection_.open(host_, trace_port_);
        }
    }
    bool got_bytes = false;
    const auto status = connection_.pump([this, &got_bytes](const char* data, std::size_t size) {
        got_bytes = true;
        if (!decoder_->feed(data, size)) {
            decode_error_ = decoder_->error();
            connection_.close();
        }
    });
    if (status == LiveConnection::Status::connected) ever_connected_ = true;

    // Events arrive grouped per server thread; settle() puts them in time order behind a short window. When
    // the stream goes quiet, nothing newer can come to reorder against, so the rest is placed at once.
    since_bytes_ = got_bytes ? 0 : since_bytes_ + wall_seconds;
    if (since_bytes_ > 0.1 || status == LiveConnection::Status::closed) trace_model_.finish();
    else trace_model_.settle();

    // A quiet server is still running: its threads stay in their last state while the wall clock moves.
    // The horizon extends the lanes to "now" on the server's clock, estimated from the newest event.
    if (trace_model_.last_ns() != newest_seen_ns_) {
        newest_seen_ns_ = trace_model_.last_ns();
        since_newest_event_ = 0;
    } else {
        since_newest_event_ += wall_seconds;
    }
    if (status == LiveConnection::Status::connected && trace_model_.event_count() > 0)
        trace_model_.extend_horizon(newest_seen_ns_ + static_cast<std::uint64_t>(since_newest_event_ * 1e9));
}

void TracedRun::learn_ports_from_output() {
    for (const std::string& line : server_->output()) {
        std::uint16_t port = 0, trace_port = 0;
        if (!parse_listening_line(line, port, trace_port)) continue;
        if (server_port_ == 0) {
            server_port_ = port;
            clients_.set_server(host_, port);
            title_ = started_io_model_ + " :" + std::to_string(port);
        }
        if (trace_port_ == 0) trace_port_ = trace_port;
        return;
    }
}

std::string TracedRun::start_failure() const {
    if (!server_ || !server_->exited() || ever_connected_) return "";
    std::string why = "the server exited with status " + std::to_string(server_->exit_status());
    // The last line that says something (Wine may print blank lines).
    for (auto line = server_->output().rbegin(); line != server_->output().rend(); ++line)
        if (line->find_first_not_of(" \t\r") != std::string::npos) return why + ": " + *line;
    return why;
}

std::string TracedRun::status_text() const {
    char text[160];
    if (!decode_error_.empty()) return "stopped: the stream is not a socklab trace (" + decode_error_ + ")";
    switch (source_) {
        case Source::replay:
            return "replay";
        case Source::reference:
            return scenario_ ? "reference model" : "in memory";
        default:
            break;
    }
    switch (connection_.status()) {
        case LiveConnection::Status::connected:
            std::snprintf(text, sizeof text, "live, %.1f MB received", double(connection_.bytes_received()) / 1e6);
            return text;
        case LiveConnection::Status::closed:
            return "closed: " + connection_.error();
        default:
            break;
    }
    if (server_) {
        if (server_->exited())
            return "the server exited with status " + std::to_string(server_->exit_status()) +
                   (server_->output().empty() ? "" : ": " + server_->output().back());
        const bool under_wine = catalog::runs_where(started_io_model_) == " under Wine";
        std::snprintf(text, sizeof text, "starting the server%s... %.1f s",
                      under_wine ? " (Wine takes a few seconds)" : " natively", server_->seconds_since_start());
        return text;
    }
    if (connection_.status() == LiveConnection::Status::failed) return "failed: " + connection_.error();
    return "connecting to trace port " + std::to_string(trace_port_) + "...";
}

void TracedRun::seek(std::uint64_t time_ns) {
    follow_ = false;
    cursor_ns_ = std::clamp(time_ns, trace_model_.first_ns(), trace_model_.horizon_ns());
}

void TracedRun::set_following(bool follow) {
    follow_ = follow;
    if (follow) playing_ = false;
}

void TracedRun::set_playing(bool playing) {
    playing_ = playing;
    if (playing) {
        follow_ = false;
        if (cursor_ns_ >= trace_model_.last_ns() && !live())
            cursor_ns_ = trace_model_.first_ns();  // play again from the start
    }
}

// ---- 3. Live control and recording ----------------------------------------------------------------------

void TracedRun::set_gate(bool on) {
    if (connection_.send_control(on ? "gate on" : "gate off")) gate_on_ = on;
}

void TracedRun::step() { connection_.send_control("step"); }
void TracedRun::release_all() { connection_.send_control("run"); }

void TracedRun::set_slow_motion(unsigned milliseconds) {
    if (connection_.send_control("slow " + std::to_string(milliseconds))) slow_ms_ = milliseconds;
}

bool TracedRun::start_recording(const std::string& path, std::string& error) {
    stop_recording();
    record_file_.open(path, std::ios::binary | std::ios::trunc);
    if (!record_file_) {
        error = path + ": cannot create";
        return false;
    }
    recording_path_ = path;
    // Begins with everything known so far, so a recording started mid-run is a complete trace.
    record_writer_.take_bytes();
    write_snapshot(record_writer_, trace_model_);
    flush_recording();
    return true;
}

void TracedRun::flush_recording() {
    if (!recording() || record_writer_.bytes().empty()) return;
    const std::string bytes = record_writer_.take_bytes();
    record_file_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    record_file_.flush();
}

void TracedRun::stop_recording() {
    if (!recording()) return;
    flush_recording();
    record_file_.close();
}

}  // namespace socklab::viz
