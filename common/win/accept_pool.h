// common/win/accept_pool.h — the bookkeeping of the accepts iocp-acceptex keeps posted.
//
// The model (models/07_iocp_acceptex.cpp) makes every call of its lesson itself: WSASocketW and AcceptEx to post an
// accept, SO_UPDATE_ACCEPT_CONTEXT and GetAcceptExSockaddrs when one completes, SO_CONNECT_TIME to find a silent
// client, CancelIoEx to end them all. What is here is the count around those calls, which is not the lesson: which
// socket each pending accept holds, how many are posted and how many are wanted, the refill when a post failed
// (and the messages when none is posted at all), and teardown's wait for the last accept to end.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "common/win/winsock.h"

namespace socklab::win {

class AcceptPool {
public:
    // `wanted`: the accepts to keep posted (--accepts, at least 1); `most`: how far the silent-client check may
    // grow that. The pool is ready() once its event is created.
    AcceptPool(unsigned wanted, unsigned most);
    ~AcceptPool();
    AcceptPool(const AcceptPool&) = delete;
    AcceptPool& operator=(const AcceptPool&) = delete;
    bool ready() const { return post_failed_ != nullptr; }

    // Posts one accept: `accept_ex()` makes the call and says whether it is posted. It runs under the pool's lock,
    // so that teardown and the silent-client check see every pending accept. False when the pool is stopping or
    // the call failed: then `accept_socket` is closed.
    bool post(std::uint32_t io_id, SOCKET& accept_socket, const std::function<bool()>& accept_ex);
    // A worker took the accept's packet: the socket it accepted into, now out of the silent-client check's reach
    // (INVALID_SOCKET: the check closed it).
    SOCKET take(std::uint32_t io_id);
    // A post failed on a worker: the run thread (keep_posted) refills the pool.
    void post_failed() { SetEvent(post_failed_); }
    // The accept's packet has been handled: it stops counting. `now_counted` runs under the pool's lock first —
    // the connection it made joins the table there, so that teardown, which stops the pool under that lock before
    // it closes every connection in the table, cannot miss it. Returns whether the pool is stopping.
    bool ended(const std::function<void()>& now_counted = {});

    // The run thread, until the stop event: keeps `wanted` accepts posted with `post_one`, woken by a worker whose
    // post failed, and trying again every `retry_ms` while short. `every_retry`, if given, also runs every
    // `retry_ms` (the silent-client check). The pool running dry would be silent — the server would look ready and
    // accept nobody — so that is said, once, and so is the moment accepting resumes.
    void keep_posted(ServerControl& control, DWORD retry_ms, const std::function<bool()>& post_one,
                     const std::function<void()>& every_retry);
    // The silent-client check: `holds_client(io_id, accept_socket)` for every pending accept whose socket is open,
    // under the pool's lock; it may close the socket. When every pending accept holds a client, clients arriving
    // now wait in the listen backlog behind them: the pool is to grow by as many (up to `most`).
    void check_pending(const std::function<bool(std::uint32_t io_id, SOCKET& accept_socket)>& holds_client);

    // Teardown: no accept is posted any more; `cancel` (which ends those posted) runs under the pool's lock.
    void stop(const std::function<void()>& cancel);
    // Teardown: waits until every accept has ended. Cancelling should end them within moments; if one is still
    // outstanding after two seconds (seen once under Wine on a loaded machine), `end_for_certain` runs (closing the
    // listener) and the wait goes on.
    void wait_until_ended(const std::function<void()>& end_for_certain);

private:
    bool refill(const std::function<bool()>& post_one, DWORD retry_ms);

    std::mutex lock_;                                    // guards what follows
    std::unordered_map<std::uint32_t, SOCKET> pending_;  // AcceptEx posted, packet not yet taken: its socket
    unsigned outstanding_ = 0;                           // AcceptEx posted, packet not yet handled
    unsigned wanted_;
    const unsigned most_;
    bool stopping_ = false;
    std::condition_variable ended_;
    HANDLE post_failed_;            // auto-reset event: a worker's post failed; wakes the run thread
    bool said_pool_empty_ = false;  // run thread only: "no AcceptEx is posted" was said, "again" not yet
};

}  // namespace socklab::win
