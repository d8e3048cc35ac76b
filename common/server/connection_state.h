// common/server/connection_state.h — what a connection is apart from its socket, and what received bytes do to it.
//
// The same on every platform: a client's id, its protocol session, its send queue and the state of a polite close
// do not depend on whether the socket under them is a Winsock SOCKET or a POSIX descriptor. Each platform's
// ConnectionBase (common/win/connection.h, common/posix/connection.h) adds the socket and the calls that use it
// (the goodbye's shutdown, what an error code means). Each step is written once here, with its reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/protocol/session.h"
#include "common/server/accounting.h"
#include "common/trace/event.h"

namespace socklab::server {

// Bytes one receive asks for. A line of the protocol is far shorter; a buffer this size takes a burst of them.
constexpr std::size_t kReceiveBufferSize = 4096;
// While closing politely, what a client may still send before we stop waiting for its goodbye and close anyway.
constexpr std::size_t kMaxDrainBytes = 64 * 1024;

// ---- the connection ---------------------------------------------------------------------------------------
// What every model keeps for one client, the same way, but its socket. Counted in accounting().connections for as
// long as it lives, so a test can prove that shutdown freed every one.
struct ConnectionState {
    ConnectionState(protocol::SessionHost& host, std::size_t max_line, std::uint16_t peer);
    ~ConnectionState();
    ConnectionState(const ConnectionState&) = delete;
    ConnectionState& operator=(const ConnectionState&) = delete;

    const std::uint32_t id;         // 1, 2, 3... in this server run; traces name connections by it
    const std::uint16_t peer_port;  // the client's port, so a trace can be matched with a client
    protocol::Session session;      // the line protocol: what arrived in, replies out
    std::string send_queue;         // replies and broadcasts not yet handed to send
    bool close_when_sent = false;   // the session asked to close once its replies are out
    bool peer_finished = false;     // the client closed its side (a receive of 0 bytes)
    bool draining = false;          // we said goodbye (shutdown of our sending side); what still arrives is dropped
    std::size_t drained_bytes = 0;  // dropped while draining
    trace::CloseReason reason = trace::CloseReason::none;

    bool closing() const { return draining || close_when_sent; }
};

// The reason a connection closes is the first one given, except that a reset always wins: whatever else was
// under way, the client went away.
void note_close_reason(ConnectionState& connection, trace::CloseReason reason);

// The bookkeeping of a connection's start and end: the server's counters and the trace's connection_open and
// connection_close, which the viewer draws as the connection's lifetime.
void record_opened(protocol::SessionHost& host, const ConnectionState& connection);
void record_closed(protocol::SessionHost& host, const ConnectionState& connection);

// ---- receiving --------------------------------------------------------------------------------------------
// What `bytes` received bytes do, in two halves so that a model whose connection has a lock can run the session
// without it (see models/README.md, "locks"):
//  - run_session: the session takes the bytes and appends its replies — or, when 0 bytes came, is told the
//    client closed (a last unterminated line is still answered). A closing connection's bytes are not its business.
//  - note_received: the connection's state. 0 bytes: the client finished, so close once the replies are out.
//    Closing: the bytes are dropped and counted, and true is returned when the client sent more than
//    kMaxDrainBytes since: then close now. Returns false otherwise.
protocol::Session::Verdict run_session(ConnectionState& connection, protocol::SessionHost& host, bool closing,
                                       const char* data, std::size_t bytes, std::string& replies);
bool note_received(ConnectionState& connection, std::size_t bytes, protocol::Session::Verdict verdict);
// Both halves at once, for a model whose connection is touched by one thread only.
bool take_received(ConnectionState& connection, protocol::SessionHost& host, const char* data, std::size_t bytes,
                   std::string& replies);

// ---- one thread for every connection ----------------------------------------------------------------------
// The table of a model that serves every connection on one thread (select, async-select, poll): /all walks it
// (without a lock: only that thread touches it), and the thread finds a connection by the socket its wait names (a
// ready socket in select()'s fd_set, a window message's wParam). A connection leaves it when it closes, so what the
// wait still says about its socket is stale and find() says so — even when an accept has reused the socket's value.
// But it is freed only by free_closed(), once the thread is done with the round or message it closed in: that may
// still hold it. The key is the type of the connection's `socket`: a SOCKET on Windows, a descriptor elsewhere.
template <class Connection>
class SocketTable {
    using Socket = std::remove_cv_t<decltype(std::declval<Connection&>().socket)>;

public:
    void add(Connection* connection) { by_socket_[connection->socket] = connection; }
    void remove(Connection& connection) {  // before its socket is closed
        by_socket_.erase(connection.socket);
        closed_.push_back(&connection);
    }
    Connection* find(Socket socket) const {
        auto found = by_socket_.find(socket);
        return found == by_socket_.end() ? nullptr : found->second;
    }
    template <class Action>
    std::size_t for_each_except(std::uint32_t except, Action&& action) {  // action must not close a connection
        std::size_t count = 0;
        for (auto& [socket, connection] : by_socket_)
            if (connection->id != except && action(connection)) ++count;
        return count;
    }
    Connection* any() const { return by_socket_.empty() ? nullptr : by_socket_.begin()->second; }
    std::size_t size() const { return by_socket_.size(); }
    void free_closed() {
        for (Connection* connection : closed_) delete connection;
        closed_.clear();
    }

private:
    std::unordered_map<Socket, Connection*> by_socket_;
    std::vector<Connection*> closed_;
};

}  // namespace socklab::server
