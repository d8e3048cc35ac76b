// common/trace/event.cpp — names of the schema's enums, for viewers, exports and error messages.
#include "common/trace/event.h"

namespace socklab::trace {

std::string_view to_string(Kind kind) {
    switch (kind) {
        case Kind::server_start:
            return "server_start";
        case Kind::thread_start:
            return "thread_start";
        case Kind::thread_exit:
            return "thread_exit";
        case Kind::wait_begin:
            return "wait_begin";
        case Kind::wait_end:
            return "wait_end";
        case Kind::io_posted:
            return "io_posted";
        case Kind::io_completed:
            return "io_completed";
        case Kind::packet_posted:
            return "packet_posted";
        case Kind::packet_dequeued:
            return "packet_dequeued";
        case Kind::queue_depth:
            return "queue_depth";
        case Kind::message_dispatched:
            return "message_dispatched";
        case Kind::apc_run:
            return "apc_run";
        case Kind::connection_open:
            return "connection_open";
        case Kind::connection_close:
            return "connection_close";
        case Kind::line_in:
            return "line_in";
        case Kind::line_out:
            return "line_out";
        case Kind::error:
            return "error";
        case Kind::gate_hold:
            return "gate_hold";
        case Kind::gate_release:
            return "gate_release";
        case Kind::block_begin:
            return "block_begin";
        case Kind::block_end:
            return "block_end";
        case Kind::thread_wake:
            return "thread_wake";
        case Kind::kind_count:
            break;
    }
    return "unknown";
}

std::string_view to_string(WaitOn on) {
    switch (on) {
        case WaitOn::nothing:
            return "nothing";
        case WaitOn::accept:
            return "accept";
        case WaitOn::receive:
            return "receive";
        case WaitOn::send:
            return "send";
        case WaitOn::select:
            return "select";
        case WaitOn::message:
            return "message";
        case WaitOn::events:
            return "events";
        case WaitOn::alertable:
            return "alertable";
        case WaitOn::completion_port:
            return "completion_port";
        case WaitOn::stop:
            return "stop";
        case WaitOn::poll:
            return "poll";
        case WaitOn::io_uring:
            return "io_uring";
        case WaitOn::epoll:
            return "epoll";
    }
    return "unknown";
}

std::string_view to_string(Wake wake) {
    switch (wake) {
        case Wake::nothing:
            return "nothing";
        case Wake::ready:
            return "ready";
        case Wake::completion:
            return "completion";
        case Wake::failed_completion:
            return "failed_completion";
        case Wake::message:
            return "message";
        case Wake::event:
            return "event";
        case Wake::apc:
            return "apc";
        case Wake::timeout:
            return "timeout";
        case Wake::stop:
            return "stop";
        case Wake::error:
            return "error";
    }
    return "unknown";
}

std::string_view to_string(IoOp op) {
    switch (op) {
        case IoOp::none:
            return "none";
        case IoOp::accept:
            return "accept";
        case IoOp::receive:
            return "receive";
        case IoOp::send:
            return "send";
    }
    return "unknown";
}

std::string_view to_string(CloseReason reason) {
    switch (reason) {
        case CloseReason::none:
            return "none";
        case CloseReason::peer_closed:
            return "peer_closed";
        case CloseReason::reset:
            return "reset";
        case CloseReason::quit:
            return "quit";
        case CloseReason::line_too_long:
            return "line_too_long";
        case CloseReason::error:
            return "error";
        case CloseReason::server_stopping:
            return "server_stopping";
        case CloseReason::idle:
            return "idle";
    }
    return "unknown";
}

std::string_view to_string(BlockReason reason) {
    switch (reason) {
        case BlockReason::handler:
            return "handler";
        case BlockReason::slow_motion:
            return "slow_motion";
    }
    return "unknown";
}

std::string_view detail_name(const Event& event) {
    switch (event.kind) {
        case Kind::wait_begin:
            return to_string(static_cast<WaitOn>(event.detail));
        case Kind::wait_end:
            return to_string(static_cast<Wake>(event.detail));
        case Kind::io_posted:
        case Kind::io_completed:
        case Kind::apc_run:
            return to_string(static_cast<IoOp>(event.detail));
        case Kind::connection_close:
            return to_string(static_cast<CloseReason>(event.detail));
        case Kind::block_begin:
            return to_string(static_cast<BlockReason>(event.detail));
        default:
            return "";
    }
}

}  // namespace socklab::trace
