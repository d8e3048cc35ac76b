// common/load/line_connection.h — one client connection that speaks the line protocol without blocking: the
// piece both load clients share, `load::run` (load.h: a bounded run, every byte checked) and the visualizer's
// ClientPool (visualizer/model/client_pool.h: traffic a class steers while it watches).
//
// What is queued goes out as fast as the kernel takes it (a partial send keeps the rest for the next call); what
// arrives is cut into whole lines; and the time each request was sent is kept, oldest first, until its reply is
// taken. Replies on one connection leave the server in the order their requests arrived (docs/design.md §3), so
// the reply at the head of the input answers the oldest request in flight: the time between is its round trip.
// Connecting is left to the owner: `load::run` connects every client before it sends (net::connect_tcp, with a
// time limit), the pool connects while the window keeps drawing (net::start_connect).
//
// Header-only: it is small, and both libraries that use it (socklab_common, socklab_viz_model) compile it as is.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include "common/net/socket.h"

namespace socklab::load {

class LineConnection {
public:
    using Clock = std::chrono::steady_clock;

    LineConnection() = default;
    explicit LineConnection(net::Socket socket) : socket_(std::move(socket)) {}

    const net::Socket& socket() const { return socket_; }
    bool valid() const { return socket_.valid(); }
    // Closes the socket. The requests in flight will never be answered: their send times are forgotten.
    void close() {
        socket_.close();
        sent_at_.clear();
    }

    // A request: its bytes go out after whatever is queued, and `sent` is kept as its send time until its reply
    // is taken (take_oldest_send_time).
    void queue_request(std::string_view bytes, Clock::time_point sent) {
        queue_bytes(bytes);
        sent_at_.push_back(sent);
    }
    // Bytes no reply is timed against (broadcast's joining line, whose echo load::run checks on its own).
    void queue_bytes(std::string_view bytes) { outgoing_.append(bytes); }
    // Whether queued bytes are still waiting for the kernel to take them (then poll for net::poll_out()).
    bool has_unsent() const { return unsent_from_ < outgoing_.size(); }

    // Sends what the kernel takes now, until it takes no more: the bytes sent by this call (0 when it would block
    // at once), or net::kFailed, the error in net::last_error().
    long send_queued() {
        long total = 0;
        while (has_unsent()) {
            const long sent = net::send_some(socket_, outgoing_.data() + unsent_from_, outgoing_.size() - unsent_from_);
            if (sent == net::kWouldBlock) break;
            if (sent < 0) return net::kFailed;
            unsent_from_ += static_cast<std::size_t>(sent);
            total += sent;
        }
        if (!has_unsent()) {  // all of it is with the kernel: the buffer starts again from empty
            outgoing_.clear();
            unsent_from_ = 0;
        }
        return total;
    }
    // Reads one chunk of what has arrived into the line buffer: its size, 0 when the peer closed,
    // net::kWouldBlock when nothing was there, or net::kFailed, the error in net::last_error().
    long receive() {
        char buffer[16384];
        const long received = net::receive_some(socket_, buffer, sizeof buffer);
        if (received > 0) incoming_.append(buffer, static_cast<std::size_t>(received));
        return received;
    }
    // Passes each complete line received so far to on_line(std::string_view), "\n" included, in order; the
    // unfinished rest waits for more bytes.
    template <typename OnLine>
    void take_lines(OnLine&& on_line) {
        std::size_t begin = 0;
        for (std::size_t end; (end = incoming_.find('\n', begin)) != std::string::npos; begin = end + 1)
            on_line(std::string_view(incoming_.data() + begin, end + 1 - begin));
        incoming_.erase(0, begin);
    }

    // Requests sent and not yet answered.
    std::size_t in_flight() const { return sent_at_.size(); }
    // The oldest request in flight has its reply: returns its send time, no longer kept. Only when in_flight() > 0.
    Clock::time_point take_oldest_send_time() {
        const Clock::time_point sent = sent_at_.front();
        sent_at_.pop_front();
        return sent;
    }

private:
    net::Socket socket_;
    std::string outgoing_;  // queued bytes; those before unsent_from_ are with the kernel already
    std::size_t unsent_from_ = 0;
    std::string incoming_;                   // received bytes after the last complete line
    std::deque<Clock::time_point> sent_at_;  // one per request in flight, oldest first
};

}  // namespace socklab::load
