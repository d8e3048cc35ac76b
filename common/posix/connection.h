// common/posix/connection.h — the steps of a connection's life that every native model takes the same way: the
// counterpart of common/win/connection.h, with the same names where the job is the same.
//
// What does not depend on the socket API — the connection's state, what received bytes do to the session, the open
// and close bookkeeping — is common/server/connection_state.h, shared with the Windows models. What is here uses a
// POSIX descriptor: the connection's socket, the goodbye's shutdown, what an errno means, the accept of a waiting
// client.
#pragma once

#include <cstdint>

#include "common/posix/sockets.h"
#include "common/protocol/session.h"
#include "common/server/connection_state.h"
#include "common/trace/recorder.h"

namespace socklab::posix {

// Bytes one receive asks for, and what a closing client may still send (common/server/connection_state.h).
using server::kMaxDrainBytes;
using server::kReceiveBufferSize;

// ---- the connection ---------------------------------------------------------------------------------------
// What every model keeps for one client, the same way: the portable state (server::ConnectionState: id, session,
// send queue, the polite close) and the descriptor under it. A model's Connection derives from it.
struct ConnectionBase : server::ConnectionState {
    ConnectionBase(protocol::SessionHost& host, std::size_t max_line, int accepted, std::uint16_t peer)
        : ConnectionState(host, max_line, peer), socket(accepted) {}

    int socket;  // -1 once closed
};

// Why a recv or send failed, as a close reason: the client reset or aborted (ECONNRESET, EPIPE after its reset,
// ECONNABORTED, ETIMEDOUT), or anything else.
trace::CloseReason close_reason_for(int error);

// The close reason, the open and close bookkeeping and what received bytes do to the session are the same on
// every platform (common/server/connection_state.h).
using server::note_close_reason;
using server::note_received;
using server::record_closed;
using server::record_opened;
using server::run_session;
using server::take_received;

// ---- closing politely -------------------------------------------------------------------------------------
// Called when no reply is left to send. Until the session asks to close it does nothing. Then, when the client
// has closed its side too, it returns true: close the socket now. Otherwise it says goodbye once —
// shutdown(SHUT_WR), a FIN after the last reply — and the model keeps reading, dropping what arrives, until the
// client closes (note_received). Closing at once instead, with bytes unread, would make Linux reset the
// connection (RFC 2525, 2.17), and a reset can destroy the last reply before the client has read it.
bool say_goodbye(ConnectionBase& connection);

// ---- accepting --------------------------------------------------------------------------------------------
// TCP_NODELAY on an accepted socket. Replies are small lines, and a client often gets two in a row (someone's
// broadcast, then its own reply); Nagle's algorithm would hold the second until the first is acknowledged, and
// the client delays that ACK by up to 40 ms. A failure is reported and otherwise harmless: slower, still correct.
void set_no_delay(int socket);

// The acceptor of the models whose non-blocking listener is reported ready (readable in poll(), EPOLLIN): the next
// waiting client's socket — counted, TCP_NODELAY set, its port in `peer_port` — or -1 once nobody is left waiting
// (EAGAIN) or accept() failed otherwise (after_failed_accept: reported, a 10 ms pause, and the next readiness
// report tries again). A client that left before accept() is skipped: the next is taken at once.
int accept_waiting_client(int listener, std::uint16_t& peer_port);

// The same bookkeeping for a client the kernel accepted on the model's behalf (io_uring's accept, whose completion
// hands over a connected socket): counted, TCP_NODELAY set. Returns its port (getpeername), or 0 when the client has
// gone already: then the first receive says so.
std::uint16_t take_accepted_client(int client);

// ---- one thread for every connection (poll) ---------------------------------------------------------------
// The table of a model that serves every connection on one thread (common/server/connection_state.h), keyed by
// descriptor.
using server::SocketTable;

}  // namespace socklab::posix
