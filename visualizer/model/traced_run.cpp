// visualizer/model/session.cpp — see session.h.
//
// Sections:
//   1. Opening a session (replay, attach, start, from a trace)
//   2. Each frame: the live stream, the reorder window, playback
//   3. Live control and recording
#include "visualizer/model/session.h"

#include <algorithm>
#include <cstdio>

namespace socklab::viz {

// ---- 1. Opening a session -------------------------------------------------------------------------------

std::unique_ptr<Session> Session::open_replay(const std::string& path, std::string& error) {
    std::unique_ptr<Session> session(new Session());
    session->source_ = Source::replay;
    const auto slash = path.find_last_of('/');
    session->title_ = slash == std::string::npos ? path : path.substr(slash + 1);
    session->install_decoder();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": cannot open";
        return nullptr;
    }
    std::vector<char> chunk(1 << 20);
    while (in) {
        in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        if (!session->decoder_->feed(chunk.data(), static_cast<std::size_t>(in.gcount()))) {
            error = path + ": " + session->decoder_->error();
            return nullptr;
        }
    }
    if (session->decoder_->mid_record()) {
        // A server killed mid-write leaves a partial record: show everything before it rather than nothing.
        std::fprintf(stderr, "socklab-viz: %s ends inside a record; showing the events before it\n", path.c_str());
    }
    session->model_.finish();
    session->follow_ = false;
    session->cursor_ns_ = session->model_.last_ns();
    if (!session->model_.model_name().empty()) session->title_ = session->model_.model_name() + " - " + session->title_;
    return session;
}

std::unique_ptr<Session> Session::attach(const std::string& host, std::uint16_t trace_port,
                                         std::uint16_t server_port) {
    std::unique_ptr<Session> session(new Session());
    session->source_ = Source::attached;
    session->host_ = host;
    session->trace_port_ = trace_port;
    session->server_port_ = server_port;
    session->title_ = "trace port " + std::to_string(trace_port);
    session->model_.set_history_limit(TraceModel::kDefaultLiveHistoryEvents);
    session->install_decoder();
    session->connection_.open(host, trace_port);
    if (server_port) session->clients_.set_server(host, server_port);
    return session;
}

std::unique_ptr<Session> Session::start_server(const std::string& root, const std::string& model,
                                               std::uint16_t port, std::uint16_t trace_port, std::string& error) {
    for (const std::uint16_t wanted : {port, trace_port}) {
        if (wanted != 0 && port_in_use(wanted)) {
            error = "port " + std::to_string(wanted) + " is in use (something already listens on 127.0.0.1:" +
                    std::to_string(wanted) + "); choose another, or leave the port out and the server picks a free one";
            return nullptr;
        }
    }
    std::unique_ptr<Session> session(new Session());
    session->source_ = Source::started;
    session->trace_port_ = trace_port;
    session->server_port_ = port;
    session->started_model_ = model;
    session->title_ = port ? model + " :" + std::to_string(port) : model;
    session->model_.set_history_limit(TraceModel::kDefaultLiveHistoryEvents);
    session->install_decoder();
    session->server_ = std::make_unique<ServerProcess>();
    if (!session->server_->start(root, {model, "--port", std::to_string(port), "--trace-port", std::to_string(trace_port)},
                                 error))
        return nullptr;
    if (port) session->clients_.set_server(session->host_, port);
    return session;  // update() attaches once the trace port answers (and learns the ports chosen, if any)
}

std::unique_ptr<Session> Session::from_trace(std::string title, const trace::Trace& trace) {
    std::unique_ptr<Session> session(new Session());
    session->source_ = Source::reference;
    session->title_ = std::move(title);
    session->load_trace(trace);
    return session;
}

void Session::load_trace(const trace::Trace& trace) {
    model_ = TraceModel();
    for (const auto& [key, value] : trace.info) model_.take_info(key, value);
    for (const auto& [id, site] : trace.sites) model_.take_site(site);
    for (const auto& [index, thread] : trace.threads) model_.take_thread(thread);
    model_.take(trace.events.data(), trace.events.size());
    if (trace.dropped) model_.take_dropped(trace.dropped);
    model_.finish();
    follow_ = false;
    cursor_ns_ = model_.last_ns();
}

std::unique_ptr<Session> Session::reference(std::string scenario_text) {
    std::unique_ptr<Session> session(new Session());
    session->source_ = Source::reference;
    session->title_ = "reference model (Windows rules)";
    session->scenario_text_ = std::move(scenario_text);
    session->scenario_restart();
    // Opened at its first step, not at line 0: the setup lines (concurrency, threads) draw nothing and leave
    // no port, so the views would say "No completion port" and the timeline would span a nanosecond. Play up
    // to the first line that starts the model (the port and its first waiters), and no further: the class
    // steps the rest (Next line).
    while (session->model_.ports().empty() && !session->scenario_->finished()) {
        if (!session->scenario_next()) break;
    }
    return session;
}

bool Session::scenario_next() {
    if (!scenario_) return false;
    const bool applied = scenario_->play_next_line();
    load_trace(scenario_->run().model.trace());
    return applied;
}

void Session::scenario_restart() {
    scenario_ = std::make_unique<kernel_queue::ScenarioPlayer>(scenario_text_);
    load_trace(scenario_->run().model.trace());
}

void Session::scenario_to_end() {
    if (!scenario_) return;
    scenario_->play_to_end();
    load_trace(scenario_->run().model.trace());
}

Session::~Session() {
    // Leaving a server with its workers held at the gate would stall it for every other client.
    if (gate_on_) connection_.send_control("gate off");
    stop_recording();
    clients_.disconnect_all();
    connection_.close();
    if (server_) server_->stop();
}

void Session::install_decoder() {
    // The model takes every record; a recording in progress gets a copy of it, re-encoded.
    trace::StreamDecoder::Handler handler = model_.decoder_handler();
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
        if (key == "model" && source_ == Source::attached) title_ = value + " (trace port " + std::to_string(trace_port_) + ")";
    };
    auto dropped = handler.dropped;
    handler.dropped = [this, dropped](std::uint64_t count) {
        dropped(count);
        if (recording()) record_writer_.dropped(count);
    };
    decoder_ = std::make_unique<trace::StreamDecoder>(std::move(handler));
}

// ---- 2. Each frame --------------------------------------------------------------------------------------

void Session::update(double wall_seconds) {
    if (live()) pump_live(wall_seconds);
    clients_.poll();

    if (follow_) {
        cursor_ns_ = model_.horizon_ns();
    } else if (playing_) {
        playback_remainder_ns_ += wall_seconds * speed_ * 1e9;
        const auto advance = static_cast<std::uint64_t>(playback_remainder_ns_);
        playback_remainder_ns_ -= double(advance);
        cursor_ns_ = std::min(model_.last_ns(), cursor_ns_ + advance);
        if (cursor_ns_ >= model_.last_ns() && !live()) playing_ = false;  // the end of a replay
    }
    // A live history discards its oldest events: a paused cursor they left behind moves to where it begins.
    if (live()) cursor_ns_ = std::max(cursor_ns_, model_.first_ns());
    flush_recording();
}

void Session::pump_live(double wall_seconds) {
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
    if (since_bytes_ > 0.1 || status == LiveConnection::Status::closed) model_.finish();
    else model_.settle();

    // A quiet server is still running: its threads stay in their last state while the wall clock moves.
    // The horizon extends the lanes to "now" on the server's clock, estimated from the newest event.
    if (model_.last_ns() != newest_seen_ns_) {
        newest_seen_ns_ = model_.last_ns();
        since_newest_event_ = 0;
    } else {
        since_newest_event_ += wall_seconds;
    }
    if (status == LiveConnection::Status::connected && model_.event_count() > 0)
        model_.extend_horizon(newest_seen_ns_ + static_cast<std::uint64_t>(since_newest_event_ * 1e9));
}

void Session::learn_ports_from_output() {
    for (const std::string& line : server_->output()) {
        std::uint16_t port = 0, trace_port = 0;
        if (!parse_listening_line(line, port, trace_port)) continue;
        if (server_port_ == 0) {
            server_port_ = port;
            clients_.set_server(host_, port);
            title_ = started_model_ + " :" + std::to_string(port);
        }
        if (trace_port_ == 0) trace_port_ = trace_port;
        return;
    }
}

std::string Session::start_failure() const {
    if (!server_ || !server_->exited() || ever_connected_) return "";
    std::string why = "the server exited with status " + std::to_string(server_->exit_status());
    // The last line that says something (Wine may print blank lines).
    for (auto line = server_->output().rbegin(); line != server_->output().rend(); ++line)
        if (line->find_first_not_of(" \t\r") != std::string::npos) return why + ": " + *line;
    return why;
}

std::string Session::status_text() const {
    char text[160];
    if (!decode_error_.empty()) return "stopped: the stream is not a socklab trace (" + decode_error_ + ")";
    switch (source_) {
    case Source::replay: return "replay";
    case Source::reference: return scenario_ ? "reference model" : "in memory";
    default: break;
    }
    switch (connection_.status()) {
    case LiveConnection::Status::connected:
        std::snprintf(text, sizeof text, "live, %.1f MB received", double(connection_.bytes_received()) / 1e6);
        return text;
    case LiveConnection::Status::closed: return "closed: " + connection_.error();
    default: break;
    }
    if (server_) {
        if (server_->exited())
            return "the server exited with status " + std::to_string(server_->exit_status()) +
                   (server_->output().empty() ? "" : ": " + server_->output().back());
        std::snprintf(text, sizeof text, "starting the server (Wine takes a few seconds)... %.1f s",
                      server_->seconds_since_start());
        return text;
    }
    if (connection_.status() == LiveConnection::Status::failed) return "failed: " + connection_.error();
    return "connecting to trace port " + std::to_string(trace_port_) + "...";
}

void Session::seek(std::uint64_t time_ns) {
    follow_ = false;
    cursor_ns_ = std::clamp(time_ns, model_.first_ns(), model_.horizon_ns());
}

void Session::set_following(bool follow) {
    follow_ = follow;
    if (follow) playing_ = false;
}

void Session::set_playing(bool playing) {
    playing_ = playing;
    if (playing) {
        follow_ = false;
        if (cursor_ns_ >= model_.last_ns() && !live()) cursor_ns_ = model_.first_ns();  // play again from the start
    }
}

// ---- 3. Live control and recording ----------------------------------------------------------------------

void Session::set_gate(bool on) {
    if (connection_.send_control(on ? "gate on" : "gate off")) gate_on_ = on;
}

void Session::step() { connection_.send_control("step"); }
void Session::run() { connection_.send_control("run"); }

void Session::set_slow_motion(unsigned milliseconds) {
    if (connection_.send_control("slow " + std::to_string(milliseconds))) slow_ms_ = milliseconds;
}

bool Session::start_recording(const std::string& path, std::string& error) {
    stop_recording();
    record_file_.open(path, std::ios::binary | std::ios::trunc);
    if (!record_file_) {
        error = path + ": cannot create";
        return false;
    }
    recording_path_ = path;
    // Begins with everything known so far, so a recording started mid-session is a complete trace.
    record_writer_.take_bytes();
    write_snapshot(record_writer_, model_);
    flush_recording();
    return true;
}

void Session::flush_recording() {
    if (!recording() || record_writer_.bytes().empty()) return;
    const std::string bytes = record_writer_.take_bytes();
    record_file_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    record_file_.flush();
}

void Session::stop_recording() {
    if (!recording()) return;
    flush_recording();
    record_file_.close();
}

}  // namespace socklab::viz
