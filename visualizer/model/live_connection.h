// visualizer/model/live_connection.h — the viewer's end of a server's live trace connection (--trace-port).
//
// The server sends the wire stream (common/trace/wire.h); the viewer may send control lines back, each ending
// in '\n': "gate on", "gate off", "step", "run", "slow <ms>" (docs/design.md §4, common/trace/recorder.h).
// Nonblocking and polled once per frame, so a slow server never freezes the UI.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/net/socket.h"

namespace socklab::viz {

class LiveConnection {
public:
    enum class Status { idle, connecting, connected, closed, failed };

    LiveConnection() = default;
    ~LiveConnection();
    LiveConnection(const LiveConnection&) = delete;
    LiveConnection& operator=(const LiveConnection&) = delete;

    // Starts connecting to host:port; the outcome shows in a later pump().
    void open(const std::string& host, std::uint16_t port);
    // Completes the connect, then hands every byte that arrived to on_bytes. Never blocks.
    Status pump(const std::function<void(const char* data, std::size_t size)>& on_bytes);
    // Sends one control line ("step"); false when not connected.
    bool send_control(const std::string& line);
    void close();

    Status status() const { return status_; }
    const std::string& error() const { return error_; }
    std::uint64_t bytes_received() const { return bytes_received_; }

private:
    net::Socket socket_;
    Status status_ = Status::idle;
    std::string error_;
    std::string host_;
    std::uint16_t port_ = 0;
    std::uint64_t bytes_received_ = 0;
};

}  // namespace socklab::viz
