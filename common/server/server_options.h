// common/server/server_options.h — what a model is told on the command line, the same on every platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/protocol/session.h"

namespace socklab::server {

struct ServerOptions {
    std::string model;
    std::string listen_address = "127.0.0.1";  // loopback unless told otherwise (--listen 0.0.0.0 for a class)
    std::uint16_t port = 5000;                 // 0 = any free port (tests)
    unsigned workers = 0;                      // worker threads of pooled models; 0 = twice the processors
    unsigned concurrency = 0;                  // completion-port concurrency value; 0 = the processors
    std::size_t max_line = protocol::kDefaultMaxLine;
    unsigned accepts = 8;       // iocp-acceptex: AcceptEx calls kept posted
    bool accept_data = false;   // iocp-acceptex: AcceptEx waits for the first data
    unsigned idle_seconds = 3;  // iocp-acceptex with --accept-data: close connections silent this long
};

}  // namespace socklab::server
