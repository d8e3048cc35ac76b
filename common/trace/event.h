// common/trace/event.h — the trace event schema: what every model reports about its threads.
//
// One event is 32 bytes, trivially copyable, and means the same thing whoever emitted it: a live server,
// the reference model of the completion port (common/kernel_queue), or a saved file. The visualizer never
// asks which model produced an event; it only reads these fields.
//
//   time_ns     nanoseconds since the recorder started (monotonic)
//   arg0        first numeric argument (bytes, result, port index, ... — see Kind)
//   arg1        second numeric argument (status code, I/O id, queue depth, ...)
//   connection  the connection the event is about, 0 for none (ids start at 1)
//   thread      small stable index of the emitting thread; its role name travels in a thread record
//   site        call-site id; a site record maps it to file, line and a label (an API name for errors)
//   kind        what happened (Kind)
//   detail      a small enum whose type depends on kind (WaitOn, Wake, IoOp, CloseReason)
//
// The wire format that carries these events (file and live stream alike) is described in wire.h.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

namespace socklab::trace {

enum class Kind : std::uint8_t {
    server_start = 1,  // arg0 = processor count, arg1 = concurrency value (0 = not applicable)
    thread_start,      // the thread record carries the role name
    thread_exit,
    wait_begin,          // detail = WaitOn; arg0 = object (port index, handle count, socket count)
    wait_end,            // detail = Wake; arg0 = result (bytes, signalled index, ready count); arg1 = status
    io_posted,           // detail = IoOp; arg0 = bytes asked for; arg1 = I/O id
    io_completed,        // detail = IoOp; arg0 = bytes transferred; arg1 = status (0 = success, else error code)
    packet_posted,       // a completion packet queued on a port: arg0 = port index; arg1 = I/O id (0 = posted by hand)
    packet_dequeued,     // a waiter took a packet: arg0 = port index; arg1 = I/O id
    queue_depth,         // a sample of a port's queue: arg0 = port index; arg1 = packets queued
    message_dispatched,  // WSAAsyncSelect: arg0 = window message; arg1 = WSAGETSELECTEVENT | error << 16
    apc_run,             // a completion routine ran: detail = IoOp; arg1 = I/O id
    connection_open,     // arg0 = peer port
    connection_close,    // detail = CloseReason
    line_in,             // arg0 = bytes the line took on the wire, its "\n" (or "\r\n") included
    line_out,            // arg0 = bytes of the reply, with its end
    error,               // arg0 = error code; the site's label names the API that failed
    gate_hold,           // the step gate holds this thread after its wait returned
    gate_release,        // ... and let it go
    block_begin,         // the thread blocks outside its wait: detail = BlockReason; arg0 = milliseconds
    block_end,
    thread_wake,  // reference model: the kernel chose this thread to release from the port (arg0 = port)
    kind_count
};

// What a thread waits on (detail of wait_begin).
enum class WaitOn : std::uint8_t {
    nothing = 0,
    accept,           // a blocking accept()
    receive,          // a blocking recv()
    send,             // a blocking send()
    select,           // select()
    message,          // GetMessage for WSAAsyncSelect notifications
    events,           // WSAWaitForMultipleEvents
    alertable,        // SleepEx / WSAWaitForMultipleEvents with fAlertable = TRUE
    completion_port,  // GetQueuedCompletionStatus
    stop,             // waiting for the server to be told to stop
    poll,             // poll() (Linux): arg0 = descriptors asked about
    io_uring,         // io_uring_submit_and_wait (Linux): arg0 = SQEs handed over with the wait
    epoll,            // epoll_wait (Linux): arg0 = the epoll instance, as a port's index (a worker pool waits on it)
};

// What ended a wait (detail of wait_end).
enum class Wake : std::uint8_t {
    nothing = 0,
    ready,              // a socket became readable/writable/acceptable (select, blocking calls)
    completion,         // an I/O completion (packet, event of an overlapped I/O)
    failed_completion,  // a completion that carries an error (aborted, reset)
    message,            // a window message
    event,              // an event object was signalled
    apc,                // one or more completion routines ran
    timeout,
    stop,   // the server is stopping
    error,  // the wait itself failed
};

// Which I/O an event is about (detail of io_posted, io_completed and apc_run).
enum class IoOp : std::uint8_t { none = 0, accept, receive, send };

// Why a connection ended (detail of connection_close).
enum class CloseReason : std::uint8_t {
    none = 0,
    peer_closed,      // the client closed its side (recv returned 0) and every reply was sent
    reset,            // the connection was reset or aborted
    quit,             // the client sent /quit
    line_too_long,    // a line passed --max-line
    error,            // an API failed; an error event says which
    server_stopping,  // the server shut down with the client still connected
    idle,             // closed by the server for sending nothing (AcceptEx with --accept-data)
};

// Why a thread blocked outside its wait (detail of block_begin). Both are a Sleep, so the kernel counts the thread
// as blocked, not running, either way; a viewer draws them apart so slow motion is never mistaken for the model.
enum class BlockReason : std::uint8_t {
    handler = 0,  // the /work handler sleeps (the protocol's own blocking work)
    slow_motion,  // the viewer's slow motion paused the thread after its wait (trace/gate.h)
};

struct Event {
    std::uint64_t time_ns;
    std::int64_t arg0;
    std::uint32_t arg1;
    std::uint32_t connection;
    std::uint16_t thread;
    std::uint16_t site;
    Kind kind;
    std::uint8_t detail;
    std::uint16_t reserved;
};

static_assert(sizeof(Event) == 32, "the wire format stores events as 32-byte records; change wire.h's version");
static_assert(std::is_trivially_copyable_v<Event>, "events are copied as raw bytes");

// True for the kinds that change what a thread is doing (waiting, running, blocked, held, gone): the events a
// viewer needs to draw a thread's lane, and the ones a late viewer is sent first.
constexpr bool sets_thread_state(Kind kind) {
    switch (kind) {
        case Kind::thread_start:
        case Kind::thread_exit:
        case Kind::wait_begin:
        case Kind::wait_end:
        case Kind::gate_hold:
        case Kind::gate_release:
        case Kind::block_begin:
        case Kind::block_end:
            return true;
        default:
            return false;
    }
}

std::string_view to_string(Kind kind);
std::string_view to_string(WaitOn on);
std::string_view to_string(Wake wake);
std::string_view to_string(IoOp op);
std::string_view to_string(CloseReason reason);
std::string_view to_string(BlockReason reason);
// The detail field spelled according to the event's kind ("completion_port", "ready", ...), or "".
std::string_view detail_name(const Event& event);

}  // namespace socklab::trace
