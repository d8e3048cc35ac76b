// common/win/connection.h — the steps of a connection's life that every model takes the same way.
//
// models/README.md names the steps; this file holds the ones that are not the lesson of any one model, so a model
// file keeps only its own Win32 calls: the polite close (say goodbye, drain, close), what a received buffer does to
// the session, the per-I/O object, the accept() loop of the models that accept on one blocking thread, and the
// bookkeeping (accounting, counters, trace) around opening and closing. Each is written once, with its reason.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/protocol/session.h"
#include "common/server/connection_state.h"
#include "common/trace/recorder.h"
#include "common/win/winsock.h"

namespace socklab::win {

// Bytes one receive asks for, and what a closing client may still send (common/server/connection_state.h).
using server::kMaxDrainBytes;
using server::kReceiveBufferSize;

// ---- the connection ---------------------------------------------------------------------------------------
// What every model keeps for one client, the same way: the portable state (server::ConnectionState: id, session,
// send queue, the polite close) and the SOCKET under it. A model's Connection derives from it and adds what its
// model needs (a lock, the I/O in flight, an event).
struct ConnectionBase : server::ConnectionState {
    ConnectionBase(protocol::SessionHost& host, std::size_t max_line, SOCKET accepted, std::uint16_t peer)
        : ConnectionState(host, max_line, peer), socket(accepted) {}

    SOCKET socket;  // INVALID_SOCKET once closed
};

// Why a recv, send, WSARecv or WSASend failed, as a close reason: the client reset or aborted, or anything else.
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
// shutdown(SD_SEND), a FIN after the last reply — and the model keeps reading, dropping what arrives, until the
// client closes (note_received). Closing at once instead, with bytes unread, would make Windows reset the
// connection, and a reset can destroy the last reply before the client has read it.
bool say_goodbye(ConnectionBase& connection);

// ---- the per-I/O object -----------------------------------------------------------------------------------
// One per overlapped operation in flight. The OVERLAPPED comes back with the completion (in the packet, to the
// routine, or to WSAGetOverlappedResult), and CONTAINING_RECORD turns it back into the IoRequest around it. It is
// freed when its completion has been handled — never earlier: the kernel writes into it until then.
template <class Connection>
struct IoRequest : CountedIoObject<IoRequest<Connection>> {
    OVERLAPPED overlapped{};
    trace::IoOp operation;
    std::uint32_t id;  // names the I/O in traces, from io_posted to its completion
    Connection* connection;
    std::string data;  // receive: the buffer; send: the bytes being sent
    WSABUF buffer{};

    IoRequest(trace::IoOp op, std::uint32_t io_id, Connection* owner) : operation(op), id(io_id), connection(owner) {
        if (operation == trace::IoOp::receive) data.resize(kReceiveBufferSize);
        if (operation == trace::IoOp::send) data.swap(owner->send_queue);  // everything queued goes in one send
        buffer.buf = data.data();
        buffer.len = static_cast<ULONG>(data.size());
    }
};

// ---- accepting on one blocking thread ---------------------------------------------------------------------
// TCP_NODELAY on an accepted socket. Replies are small lines, and a client often gets two in a row (someone's
// broadcast, then its own reply); Nagle's algorithm would hold the second until the first is acknowledged, and
// the client delays that ACK by up to 40 ms. A failure is reported and otherwise harmless: slower, still correct.
void set_no_delay(SOCKET socket);

// The acceptor of the models that accept on one thread of their own (blocking, event-select, overlapped-event,
// completion-routine, iocp): the next client's socket — counted, TCP_NODELAY set, its port in `peer_port` — or
// INVALID_SOCKET once the stop event is signalled. The wait in accept() is traced as a wait on accept. A failed
// accept() is handled once, here (after_failed_accept); a client that came just as the server stops is closed.
SOCKET accept_next_client(SOCKET listener, const ServerControl& control, std::uint16_t& peer_port);

// Runs `action` on a thread-pool thread when the stop event is signalled (RegisterWaitForSingleObject). The
// destructor unregisters it and waits for an action that is running to finish (UnregisterWaitEx with
// INVALID_HANDLE_VALUE), so nothing the action touches is freed under it.
class OnStop {
public:
    OnStop(ServerControl& control, std::function<void()> action);
    ~OnStop();
    OnStop(const OnStop&) = delete;
    OnStop& operator=(const OnStop&) = delete;

private:
    static VOID CALLBACK run_action(PVOID context, BOOLEAN timed_out);
    std::function<void()> action_;
    HANDLE wait_ = nullptr;
};

// The run of a model whose acceptor blocks in accept() on the thread that runs the model: opens `listener`
// (create_listener; a failure is reported and returns 1), names the thread, announces the server, tells `control`
// it is ready and runs `accept_clients` until it returns at the stop — an OnStop wakes the blocked accept()
// (wake_blocked_accept) — then closes the listener, which nobody else uses any more, and returns 0.
// A completion-port model passes its concurrency value, which the trace opens with.
int run_acceptor(const char* model, const ServerOptions& options, ServerControl& control, SOCKET& listener,
                 const std::function<void()>& accept_clients, unsigned concurrency = 0);
// The accept() loop of such an acceptor: `accepted(client, peer_port)` for every client accept_next_client returns,
// until the stop. A gate point follows each accept, so a stepping viewer can hold the acceptor while new clients
// wait in the listen backlog.
void accept_each_client(SOCKET listener, const ServerControl& control,
                        const std::function<void(SOCKET client, std::uint16_t peer_port)>& accepted);

// ---- threads ----------------------------------------------------------------------------------------------
// Starts `count` threads running `main(parameter)`, counted in accounting().threads. A thread that cannot be
// created is reported, and the server runs with those it has; returns false when it has none.
bool start_threads(unsigned count, LPTHREAD_START_ROUTINE main, void* parameter, std::vector<HANDLE>& threads);

// The connections still alive, for a shutdown that must wait until the last one is freed — by whichever thread
// handles its last completion.
class LiveConnections {
public:
    void opened();
    void freed();
    void wait_until_none();

private:
    std::mutex lock_;
    std::condition_variable none_left_;
    unsigned alive_ = 0;
};

// The threads a model starts one at a time, as clients come (blocking: a thread per client), counted in
// accounting().threads. Their handles are kept so that a shutdown can wait until each has really ended (join_all),
// not merely said goodbye; the handles of those that have ended are closed as new ones are added.
class ThreadSet {
public:
    void add(HANDLE thread);
    void join_all();

private:
    std::mutex lock_;
    std::vector<HANDLE> threads_;
};

// ---- one thread for every connection (select, async-select) ------------------------------------------------
// The acceptor of the models whose non-blocking listener is reported ready (readable in select(), FD_ACCEPT): the
// next waiting client's socket — counted, TCP_NODELAY set, its port in `peer_port` — or INVALID_SOCKET once nobody
// is left waiting (WSAEWOULDBLOCK) or accept() failed otherwise (after_failed_accept: reported, a 10 ms pause, and
// the next readiness report tries again). A client that left before accept() is skipped: the next is taken at once.
SOCKET accept_waiting_client(SOCKET listener, std::uint16_t& peer_port);

// A doorbell for a thread that waits in select(), which cannot wait on an event object: a UDP socket bound to a free
// loopback port and connected to itself, so that it takes datagrams from itself only — no other program can ring it.
// One datagram sent on it (send) makes it readable. INVALID_SOCKET, after reporting why, if it cannot be opened.
SOCKET open_doorbell();

// The table of a model that serves every connection on one thread (common/server/connection_state.h), keyed by
// SOCKET.
using server::SocketTable;

// ---- completion ports -------------------------------------------------------------------------------------
// A worker has taken a packet off `port` for the I/O `io_id` of `connection`: records packet_dequeued and the
// port's queue depth, and lets a stepping viewer hold the worker here, before the packet is handled.
void packet_taken(HANDLE port, std::uint32_t connection, std::uint32_t io_id);

// ---- failures ---------------------------------------------------------------------------------------------
// A wait that fails (select, WSAWaitForMultipleEvents, WaitForMultipleObjects...) was given something it cannot
// wait on: a bug, not a client's doing, and waiting again would fail again at once and spin. Every model does the
// same: report it and ask the server to stop, which then shuts down gracefully, so every client sees its
// connection closed and the trace shows why.
void wait_failed(const char* api, DWORD error, ServerControl& control);
// A rule the model rests on did not hold (a routine on the wrong thread, a connection with nothing in flight
// that nobody will ever close). Going on would hide the bug behind a hang or a leak: stop loudly, at once.
[[noreturn]] void broken_invariant(const char* what);

}  // namespace socklab::win
