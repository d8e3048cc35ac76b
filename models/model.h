// models/model.h — what every model file provides, and the list of models the server can run.
//
// A model is one function: it serves the shared protocol with its own way of waiting until the control's
// stop event is signalled, then shuts down gracefully and returns 0 (or non-zero if it could not start).
// Every model file has the same sections, in the same order, marked "// SECTION: <name>":
//
//   abstract   how readiness or completion is delivered, where state lives, threads, honest limits
//   state      per-connection and per-I/O state
//   listen     the listening socket and how new connections arrive
//   wait       the call the model waits in — the heart of the lesson
//   dispatch   what happens when the wait returns: the protocol session runs
//   send       the per-connection send queue and partial sends
//   teardown   graceful shutdown: cancel pending I/O, wait for every completion, free everything
//   run        the entry point that ties it together
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/win/winsock.h"

namespace socklab::models {

using win::ServerControl;
using win::ServerOptions;

// Back-pressure, the same in every model: once this many bytes of replies wait for a client, the model stops
// reading from that client until the queue drains. The client's own writes then wait in its socket buffer, as
// TCP intends, so a client that writes without reading cannot make the server buffer without end — and the
// server, with nothing to read and nothing it can send, simply waits.
constexpr std::size_t kMaxQueuedBytes = 256 * 1024;

using ModelMain = int (*)(const ServerOptions& options, ServerControl& control);

struct ModelInfo {
    const char* id;        // "iocp", as typed on the command line
    const char* file;      // "models/06_iocp.cpp"
    const char* waits_on;  // one line for --list
    ModelMain run;
};

// Every model, in the order of the course.
const std::vector<ModelInfo>& all_models();
const ModelInfo* find_model(std::string_view id);

// The entry point of each model file.
int run_blocking(const ServerOptions& options, ServerControl& control);
int run_select(const ServerOptions& options, ServerControl& control);
int run_async_select(const ServerOptions& options, ServerControl& control);
int run_event_select(const ServerOptions& options, ServerControl& control);
int run_overlapped_event(const ServerOptions& options, ServerControl& control);
int run_completion_routine(const ServerOptions& options, ServerControl& control);
int run_iocp(const ServerOptions& options, ServerControl& control);
int run_iocp_acceptex(const ServerOptions& options, ServerControl& control);

}  // namespace socklab::models
