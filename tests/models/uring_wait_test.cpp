// What the io-uring model records about its one ring: the rule its abstract states (models/10_io_uring.cpp) — one
// thread waits on the ring, prepares every SQE and takes every CQE, so there is no wake order to measure — and the
// teardown it promises: every request submitted has its completion taken before the server returns, the receives
// of the clients still connected among them, cancelled.
#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "common/trace/reader.h"
#include "common/trace/recorder.h"
#include "tests/models/model_test_client.h"

using namespace model_tests;
namespace trace = socklab::trace;
using trace::Kind;

namespace {

template <class Detail>
bool has_detail(const trace::Event& event, Detail detail) {
    return event.detail == static_cast<std::uint8_t>(detail);
}

}  // namespace

TEST_CASE("io-uring - one thread waits on the ring, submits every I/O and takes every completion", "[waits-io-uring]") {
    REQUIRE(std::string(model_under_test().id) == "io-uring");  // generated for that model only (CMakeLists.txt)
    // Each of the 20,000 lines below is a line_in and a line_out, more than a ring of the default size holds while
    // the collector drains it.
    TraceRecording recording(1u << 18);
    {
        RunningModel server;
        net::Socket first = connect_to(server);
        net::Socket second = connect_to(server);
        check_echo(first, "hello");
        check_echo(second, "hello");
        send_text(first, "/all hi\n");
        CHECK(receive_line(first) == "OK all 1\n");
        CHECK(receive_line(second).find(": hi\n") != std::string::npos);
        // 20 MB of replies that pile up while the client does not read, more than the socket buffers of both ends
        // hold: sends that go only partly, the rest requeued.
        std::string lines;
        for (int i = 0; i < 20000; ++i) lines += std::to_string(i) + std::string(995, 'x') + "\n";
        std::thread writer([&] { net::send_all(first, lines.data(), lines.size()); });
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        CHECK(receive_bytes(first, lines.size(), 30000) == lines);
        writer.join();
        // Both clients are still connected at the stop: their receives are in flight, and must be cancelled.
        CHECK(server.stop() == 0);
    }
    CHECK(socklab::server::accounting().io_objects.load() == 0);
    CHECK(socklab::server::accounting().sockets.load() == 0);
    CHECK(socklab::server::accounting().connections.load() == 0);

    trace::Trace recorded = recording.finish();
    REQUIRE(recorded.dropped == 0);
    std::set<std::uint16_t> waiting_threads, posting_threads, taking_threads;
    std::map<std::uint32_t, int> posted, taken;        // I/O id -> io_posted, packet_dequeued (CQEs taken)
    std::map<std::uint32_t, std::int64_t> send_asked;  // connection -> bytes of its send in flight (one at a time)
    unsigned cancelled_receives = 0, waits = 0, wakes = 0, partial_sends = 0;
    for (const trace::Event& event : recorded.events) {
        if (event.kind == Kind::wait_begin && has_detail(event, trace::WaitOn::io_uring)) {
            waiting_threads.insert(event.thread);
            ++waits;
        }
        if (event.kind == Kind::wait_end && has_detail(event, trace::Wake::completion) && event.arg0 > 0) ++wakes;
        if (event.kind == Kind::io_posted) {
            posting_threads.insert(event.thread);
            ++posted[event.arg1];
            if (has_detail(event, trace::IoOp::send)) send_asked[event.connection] = event.arg0;
        }
        if (event.kind == Kind::io_completed && has_detail(event, trace::IoOp::send) && event.arg1 == 0 &&
            event.arg0 < send_asked[event.connection])
            ++partial_sends;
        if (event.kind == Kind::packet_dequeued) {
            taking_threads.insert(event.thread);
            ++taken[event.arg1];
        }
        if (event.kind == Kind::io_completed && has_detail(event, trace::IoOp::receive) && event.arg1 == ECANCELED)
            ++cancelled_receives;
    }
    INFO(waits << " waits, " << wakes << " with completions; " << posted.size() << " I/O posted; " << partial_sends
               << " partial sends");
    REQUIRE(waiting_threads.size() == 1);  // one thread ever waits on the ring
    CHECK(posting_threads == waiting_threads);
    CHECK(taking_threads == waiting_threads);
    CHECK(wakes > 0);
    CHECK(cancelled_receives == 2);
    CHECK(partial_sends > 0);
    // Every I/O posted had its completion taken (the accept, multishot, perhaps several), and nothing was taken
    // that was not posted — but the poll on the stop eventfd, which is not an I/O of a client.
    for (const auto& [io, count] : posted) {
        INFO("I/O " << io);
        CHECK(taken.count(io) == 1);
    }
    CHECK(taken.size() == posted.size() + 1);
}

// The abstract's reason for cancelling: close() alone does not end an io_uring request on the socket, because the
// request holds its own reference to it. A receive on one end of a socket pair, the descriptor closed: the receive
// is still pending 200 ms later; a cancel by its user_data ends it with -ECANCELED.
TEST_CASE("io-uring - closing a socket leaves its receive pending; a cancel ends it", "[waits-io-uring]") {
    REQUIRE(std::string(model_under_test().id) == "io-uring");
    io_uring ring{};
    REQUIRE(io_uring_queue_init(4, &ring, 0) == 0);
    int pair[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    char buffer[16];
    constexpr std::uint64_t kReceive = 1, kCancel = 2;
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recv(sqe, pair[0], buffer, sizeof buffer, 0);
    io_uring_sqe_set_data64(sqe, kReceive);
    REQUIRE(io_uring_submit(&ring) == 1);
    close(pair[0]);

    io_uring_cqe* cqe = nullptr;
    __kernel_timespec wait{0, 200'000'000};
    CHECK(io_uring_wait_cqe_timeout(&ring, &cqe, &wait) == -ETIME);  // nothing completed: still pending

    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_cancel64(sqe, kReceive, 0);
    io_uring_sqe_set_data64(sqe, kCancel);
    REQUIRE(io_uring_submit(&ring) == 1);
    std::map<std::uint64_t, int> results;
    for (int i = 0; i < 2; ++i) {
        __kernel_timespec second{1, 0};
        if (io_uring_wait_cqe_timeout(&ring, &cqe, &second) != 0) break;
        results[cqe->user_data] = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
    }
    CHECK(results[kCancel] == 0);  // found it
    CHECK(results[kReceive] == -ECANCELED);
    close(pair[1]);
    io_uring_queue_exit(&ring);
}
