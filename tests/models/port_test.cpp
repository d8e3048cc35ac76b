// What the completion-port models (iocp, iocp-acceptex) record about their port's queue: the depth the visualizer
// draws. Run for those two models only ([port], see CMakeLists.txt).
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/trace/reader.h"
#include "common/trace/recorder.h"
#include "common/win/ifs_handles.h"
#include "tests/models/model_test_client.h"

using namespace model_tests;
namespace trace = socklab::trace;

TEST_CASE("after a burst the recorded queue depth is back to 0 within 50 ms of the last dequeue", "[port]") {
    TraceRecording recording;
    std::uint64_t quiet_until_ns = 0;
    {
        RunningModel server;
        // A burst: 16 clients send 20 lines each at once, so packets queue while the workers are busy and most
        // dequeues fall inside the 5 ms between two samples.
        std::vector<net::Socket> clients;
        std::string burst;
        for (int line = 0; line < 20; ++line) burst += "burst line " + std::to_string(line) + "\n";
        for (int i = 0; i < 16; ++i) clients.push_back(connect_to(server));
        for (auto& client : clients) send_text(client, burst);
        for (auto& client : clients) CHECK(receive_bytes(client, burst.size()) == burst);
        // Then the port goes quiet.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        quiet_until_ns = trace::now_ns();
        CHECK(server.stop() == 0);
    }
    trace::Trace recorded = recording.finish();

    // Before the stop: the last packet taken, and the depth samples from then on.
    std::uint64_t last_dequeue_ns = 0;
    for (const auto& event : recorded.events)
        if (event.kind == trace::Kind::packet_dequeued && event.time_ns < quiet_until_ns)
            last_dequeue_ns = std::max(last_dequeue_ns, event.time_ns);
    REQUIRE(last_dequeue_ns > 0);
    bool zero_soon_after = false;
    long last_depth_before_quiet = -1;
    std::uint64_t last_depth_ns = 0;
    for (const auto& event : recorded.events) {
        if (event.kind != trace::Kind::queue_depth || event.time_ns >= quiet_until_ns) continue;
        if (event.time_ns >= last_depth_ns) {
            last_depth_ns = event.time_ns;
            last_depth_before_quiet = static_cast<long>(event.arg1);
        }
        if (event.time_ns >= last_dequeue_ns && event.time_ns - last_dequeue_ns <= 50'000'000 && event.arg1 == 0)
            zero_soon_after = true;
    }
    // A viewer would show the last sample for the whole quiet period: it must be 0, and come soon after the last
    // packet was taken (not 5 ms of rate limit and then never).
    INFO("last depth recorded before the quiet end: " << last_depth_before_quiet);
    CHECK(last_depth_before_quiet == 0);
    CHECK(zero_soon_after);
}

TEST_CASE("a trace ends with the port's queue empty: the depth is recorded once more when the workers are gone",
          "[port]") {
    TraceRecording recording;
    {
        RunningModel server;
        // Traffic right up to the stop, so the last regular sample may be of a busy moment.
        std::vector<net::Socket> clients;
        for (int i = 0; i < 8; ++i) clients.push_back(connect_to(server));
        for (auto& client : clients) send_text(client, "last words\n");
        for (auto& client : clients) CHECK(receive_bytes(client, 11) == "last words\n");
        CHECK(server.stop() == 0);
    }
    trace::Trace recorded = recording.finish();
    // The last queue_depth event comes after every worker's exit, and says what a replay's end must show: 0.
    std::uint64_t last_exit_ns = 0, last_depth_ns = 0;
    long last_depth = -1;
    for (const auto& event : recorded.events) {
        const bool worker = recorded.threads.count(event.thread) && recorded.threads[event.thread].role == "worker";
        if (event.kind == trace::Kind::thread_exit && worker) last_exit_ns = std::max(last_exit_ns, event.time_ns);
        if (event.kind == trace::Kind::queue_depth && event.time_ns >= last_depth_ns) {
            last_depth_ns = event.time_ns;
            last_depth = static_cast<long>(event.arg1);
        }
    }
    REQUIRE(last_exit_ns > 0);
    CHECK(last_depth_ns >= last_exit_ns);
    CHECK(last_depth == 0);
}

// FILE_SKIP_COMPLETION_PORT_ON_SUCCESS (models/06_iocp.cpp, section send): on a socket that has it, a send done
// at once queues no packet, and the thread that started it finishes it; a receive done at once is posted to the
// port by the model itself. Without IFS providers (common/win/ifs_handles.h) the models leave the mode off, and
// then every send comes back as a packet.
TEST_CASE("a send done at once comes back without a packet when the mode is set; a burst is echoed whole", "[port]") {
    TraceRecording recording;
    const std::uint32_t connection_id = 1;  // the first connection of a server run
    {
        RunningModel server;
        net::Socket client = connect_to(server);
        // Round trips one line at a time: each reply is small and the client is reading, so its send is done at once.
        for (int i = 0; i < 20; ++i) {
            const std::string line = "round trip " + std::to_string(i) + "\n";
            send_text(client, line);
            CHECK(receive_bytes(client, line.size()) == line);
        }
        // A burst of 40 KB in one write, ten times the receive buffer: most receives find their bytes already
        // there (done at once, so posted to the port by the model), and every byte must come back in order.
        std::string burst;
        for (int line = 0; burst.size() < 40'000; ++line) burst += "burst line " + std::to_string(line) + "\n";
        send_text(client, burst);
        CHECK(receive_bytes(client, burst.size(), 20000) == burst);
        CHECK(server.stop() == 0);
    }
    trace::Trace recorded = recording.finish();

    std::set<std::uint64_t> sends, dequeued;
    for (const auto& event : recorded.events) {
        if (event.connection != connection_id) continue;
        if (event.kind == trace::Kind::io_posted && event.detail == static_cast<std::uint8_t>(trace::IoOp::send))
            sends.insert(event.arg1);
        if (event.kind == trace::Kind::packet_dequeued) dequeued.insert(event.arg1);
    }
    std::size_t without_packet = 0;
    for (std::uint64_t send : sends) without_packet += dequeued.count(send) == 0;
    INFO(sends.size() << " sends, " << without_packet << " without a packet");
    REQUIRE(sends.size() >= 20);
    if (socklab::win::every_provider_returns_ifs_handles()) CHECK(without_packet >= 15);
    else CHECK(without_packet == 0);
}
