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

// The Windows models call Winsock (common/win); the Linux models call poll, epoll and io_uring (common/posix). Each
// platform builds its own models, and a model sees the control of its platform under the same names.
#ifdef _WIN32
#include "common/win/winsock.h"
#else
#include "common/posix/sockets.h"
#endif

namespace socklab::models {

#ifdef _WIN32
using win::ServerControl;
using win::ServerOptions;
#else
using posix::ServerControl;
using posix::ServerOptions;
#endif

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
    const char* platform;  // "Windows" or "Linux": where it builds and runs
};

// Every model of this platform, in the order of the course.
const std::vector<ModelInfo>& all_models();
const ModelInfo* find_model(std::string_view id);

// The entry point of each model file. Windows:
int run_blocking(const ServerOptions& options, ServerControl& control);
int run_select(const ServerOptions& options, ServerControl& control);
int run_async_select(const ServerOptions& options, ServerControl& control);
int run_event_select(const ServerOptions& options, ServerControl& control);
int run_overlapped_event(const ServerOptions& options, ServerControl& control);
int run_completion_routine(const ServerOptions& options, ServerControl& control);
int run_iocp(const ServerOptions& options, ServerControl& control);
int run_iocp_acceptex(const ServerOptions& options, ServerControl& control);
// Linux.
int run_poll(const ServerOptions& options, ServerControl& control);
int run_epoll(const ServerOptions& options, ServerControl& control);
int run_io_uring(const ServerOptions& options, ServerControl& control);

}  // namespace socklab::models
