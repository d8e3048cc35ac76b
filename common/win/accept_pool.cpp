// common/win/accept_pool.cpp — the bookkeeping of the posted accepts (accept_pool.h says what and why).
#include "common/win/accept_pool.h"

#include <algorithm>
#include <cstdio>

#include "common/trace/recorder.h"
#include "common/win/connection.h"

namespace socklab::win {

AcceptPool::AcceptPool(unsigned wanted, unsigned most)
    : wanted_(std::max(1u, wanted)), most_(most), post_failed_(CreateEventW(nullptr, FALSE, FALSE, nullptr)) {
    if (post_failed_ == nullptr) report_error("CreateEventW", GetLastError());
}

AcceptPool::~AcceptPool() {
    if (post_failed_) CloseHandle(post_failed_);
}

bool AcceptPool::post(std::uint32_t io_id, SOCKET& accept_socket, const std::function<bool()>& accept_ex) {
    std::lock_guard lock(lock_);
    if (stopping_ || !accept_ex()) {
        close_socket(accept_socket);
        return false;
    }
    pending_[io_id] = accept_socket;
    ++outstanding_;
    return true;
}

SOCKET AcceptPool::take(std::uint32_t io_id) {
    std::lock_guard lock(lock_);
    return pending_.extract(io_id).mapped();
}

bool AcceptPool::ended(const std::function<void()>& now_counted) {
    bool stopping;
    {
        std::lock_guard lock(lock_);
        if (now_counted) now_counted();
        --outstanding_;
        stopping = stopping_;
    }
    ended_.notify_all();
    return stopping;
}

void AcceptPool::keep_posted(ServerControl& control, DWORD retry_ms, const std::function<bool()>& post_one,
                             const std::function<void()>& every_retry) {
    HANDLE events[] = {control.stop_event(), post_failed_};
    for (;;) {
        bool short_of_accepts = refill(post_one, retry_ms);
        TRACE(wait_begin, 0, trace::WaitOn::stop, 0, 0);
        DWORD result = WaitForMultipleObjects(2, events, FALSE, every_retry || short_of_accepts ? retry_ms : INFINITE);
        DWORD error = result == WAIT_FAILED ? GetLastError() : 0;
        if (result == WAIT_OBJECT_0 || result == WAIT_FAILED) {
            TRACE(wait_end, 0, error ? trace::Wake::error : trace::Wake::stop, 0, error);
            if (error) wait_failed("WaitForMultipleObjects", error, control);
            return;
        }
        TRACE(wait_end, 0, result == WAIT_TIMEOUT ? trace::Wake::timeout : trace::Wake::event, 0, 0);
        if (every_retry) every_retry();
    }
}

// Posts accepts until the pool holds `wanted_`; true if it is still short because a post failed.
bool AcceptPool::refill(const std::function<bool()>& post_one, DWORD retry_ms) {
    bool short_of_accepts = false;
    for (;;) {
        {
            std::lock_guard lock(lock_);
            if (stopping_ || pending_.size() >= wanted_) break;
        }
        if (!post_one()) {
            short_of_accepts = true;
            break;
        }
    }
    bool pool_empty;
    {
        std::lock_guard lock(lock_);
        pool_empty = pending_.empty() && !stopping_;
    }
    if (pool_empty && !said_pool_empty_) {
        std::fprintf(stderr,
                     "socklab-server: no AcceptEx is posted: new clients wait in the listen backlog; "
                     "trying again every %lu ms\n",
                     static_cast<unsigned long>(retry_ms));
        TRACE_ERROR("no AcceptEx posted", WSAEMFILE, 0);
    } else if (!pool_empty && said_pool_empty_) {
        std::fprintf(stderr, "socklab-server: AcceptEx posted again: accepting\n");
    }
    said_pool_empty_ = pool_empty;
    return short_of_accepts;
}

void AcceptPool::check_pending(const std::function<bool(std::uint32_t io_id, SOCKET& accept_socket)>& holds_client) {
    std::lock_guard lock(lock_);
    unsigned holding_a_client = 0;
    for (auto& [io_id, accept_socket] : pending_)
        if (accept_socket != INVALID_SOCKET && holds_client(io_id, accept_socket)) ++holding_a_client;
    unsigned posted = static_cast<unsigned>(pending_.size());
    if (posted > 0 && holding_a_client == posted) wanted_ = std::min(most_, wanted_ + posted);
}

void AcceptPool::stop(const std::function<void()>& cancel) {
    std::lock_guard lock(lock_);
    stopping_ = true;
    cancel();
}

void AcceptPool::wait_until_ended(const std::function<void()>& end_for_certain) {
    std::unique_lock lock(lock_);
    auto all_ended = [&] { return outstanding_ == 0; };
    if (!ended_.wait_for(lock, std::chrono::seconds(2), all_ended)) {
        end_for_certain();
        ended_.wait(lock, all_ended);
    }
}

}  // namespace socklab::win
