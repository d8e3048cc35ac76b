// common/server/connection_state.cpp — the steps every model takes the same way (connection_state.h says why).
#include "common/server/connection_state.h"

#include "common/trace/recorder.h"

namespace socklab::server {

using trace::CloseReason;
using Verdict = protocol::Session::Verdict;

// ---- the connection ---------------------------------------------------------------------------------------
ConnectionState::ConnectionState(protocol::SessionHost& host, std::size_t max_line, std::uint16_t peer)
    : id(next_connection_id()), peer_port(peer), session(id, host, max_line) {
    accounting().connections.fetch_add(1, std::memory_order_relaxed);
}

ConnectionState::~ConnectionState() { accounting().connections.fetch_sub(1, std::memory_order_relaxed); }

void note_close_reason(ConnectionState& connection, CloseReason reason) {
    if (connection.reason == CloseReason::none || reason == CloseReason::reset) connection.reason = reason;
}

void record_opened(protocol::SessionHost& host, const ConnectionState& connection) {
    host.counters.connection_opened();
    TRACE(connection_open, connection.id, 0, connection.peer_port, 0);
}

void record_closed(protocol::SessionHost& host, const ConnectionState& connection) {
    TRACE(connection_close, connection.id, connection.reason, 0, 0);
    host.counters.connection_closed();
}

// ---- receiving --------------------------------------------------------------------------------------------
Verdict run_session(ConnectionState& connection, protocol::SessionHost& host, bool closing, const char* data,
                    std::size_t bytes, std::string& replies) {
    if (closing) return Verdict::keep_open;  // our goodbye is said or due: what arrives now is drained
    if (bytes == 0) return connection.session.on_peer_closed(replies);
    host.counters.bytes_in.fetch_add(bytes, std::memory_order_relaxed);
    return connection.session.on_receive(data, bytes, replies);
}

bool note_received(ConnectionState& connection, std::size_t bytes, Verdict verdict) {
    if (bytes == 0) {
        connection.peer_finished = true;
        connection.close_when_sent = true;
        if (connection.reason == CloseReason::none) connection.reason = CloseReason::peer_closed;
        return false;
    }
    if (connection.closing()) {
        connection.drained_bytes += bytes;
        return connection.drained_bytes > kMaxDrainBytes;
    }
    if (verdict == Verdict::close_after_replies) {
        connection.close_when_sent = true;
        connection.reason = connection.session.close_reason();
    }
    return false;
}

bool take_received(ConnectionState& connection, protocol::SessionHost& host, const char* data, std::size_t bytes,
                   std::string& replies) {
    Verdict verdict = run_session(connection, host, connection.closing(), data, bytes, replies);
    return note_received(connection, bytes, verdict);
}

}  // namespace socklab::server
