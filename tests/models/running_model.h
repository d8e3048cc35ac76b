// What the model tests share: the model under test running on its own thread, and a trace sink that keeps what
// it recorded in memory.
#pragma once

#include <string>
#include <thread>

#include "common/trace/reader.h"
#include "common/trace/recorder.h"
#include "models/model.h"
#include "tests/catch.hpp"
#include "tests/models/model_under_test.h"

// The model under test on a free loopback port with the given options; stopped gracefully on scope exit.
class RunningModel {
public:
    explicit RunningModel(socklab::models::ServerOptions options = {}) {
        options.model = model_under_test().id;
        options.port = 0;
        socklab::server::reset_connection_ids();
        thread_ = std::thread([this, options] { result_ = model_under_test().run(options, control_); });
        port_ = control_.wait_until_ready();
        if (port_ == 0) {
            thread_.join();
            FAIL("the model did not start");
        }
    }
    ~RunningModel() { stop(); }
    RunningModel(const RunningModel&) = delete;
    RunningModel& operator=(const RunningModel&) = delete;

    std::uint16_t port() const { return port_; }
    int stop() {
        if (thread_.joinable()) {
            control_.request_stop();
            thread_.join();
        }
        return result_;
    }

private:
    socklab::models::ServerControl control_;
    std::thread thread_;
    std::uint16_t port_ = 0;
    int result_ = -1;
};

// A trace sink that appends the stream's bytes to a string, for tests that read what the model recorded.
class MemoryTraceSink : public socklab::trace::Sink {
public:
    explicit MemoryTraceSink(std::string& bytes) : bytes_(bytes) {}
    void write(const char* data, std::size_t size) override { bytes_.append(data, size); }

private:
    std::string& bytes_;
};

// Records what the model traces, in memory, from construction until finish(), which stops the recorder and
// decodes the stream (nothing may be corrupt). A test that makes many events in a burst gives each thread's ring
// more room than the recorder's default (`ring_events`): a full ring drops events.
class TraceRecording {
public:
    explicit TraceRecording(std::uint32_t ring_events = socklab::trace::RecorderOptions{}.ring_events) {
        socklab::trace::RecorderOptions recorder;
        recorder.ring_events = ring_events;
        recorder.sinks.push_back(std::make_unique<MemoryTraceSink>(bytes_));
        socklab::trace::start(std::move(recorder));
    }
    ~TraceRecording() {
        if (!finished_) socklab::trace::stop();  // a failed REQUIRE left early: leave no recorder running
    }
    TraceRecording(const TraceRecording&) = delete;
    TraceRecording& operator=(const TraceRecording&) = delete;

    socklab::trace::Trace finish() {
        socklab::trace::stop();
        finished_ = true;
        socklab::trace::Trace recorded;
        socklab::trace::StreamDecoder decoder(socklab::trace::collect_into(recorded));
        REQUIRE(decoder.feed(bytes_.data(), bytes_.size()));
        return recorded;
    }

private:
    std::string bytes_;
    bool finished_ = false;
};
