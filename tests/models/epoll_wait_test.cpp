// What the epoll model records about its workers' waits, and the wake order its abstract states (models/09_epoll.cpp):
// which of several workers blocked in epoll_wait on one instance the kernel hands a ready event to. Run for that model
// only ([waits-epoll], see CMakeLists.txt).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "common/trace/reader.h"
#include "common/trace/recorder.h"
#include "tests/models/model_test_client.h"

using namespace model_tests;
namespace trace = socklab::trace;
using trace::Kind;

TEST_CASE("epoll - idle workers: one event at a time goes to the worker that began to wait last", "[waits-epoll]") {
    REQUIRE(std::string(model_under_test().id) == "epoll");  // generated for that model only (CMakeLists.txt)
    constexpr unsigned kWorkers = 4;
    constexpr int kRounds = 200;
    TraceRecording recording;
    {
        socklab::models::ServerOptions options;
        options.workers = kWorkers;
        RunningModel server(options);
        net::Socket client = connect_to(server);
        // One client, one line at a time, and a pause after each echo: by then the worker that served it has re-armed
        // the socket and waits again, so every event finds all the workers waiting and the kernel has a choice.
        for (int round = 0; round < kRounds; ++round) {
            const std::string line = "wake " + std::to_string(round) + "\n";
            send_text(client, line);
            REQUIRE(receive_bytes(client, line.size()) == line);
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        CHECK(server.stop() == 0);
    }
    trace::Trace recorded = recording.finish();
    REQUIRE(recorded.dropped == 0);

    // Replays the waits: the workers in epoll_wait, in the order they began (the last is the most recent waiter), and
    // for each wake by a client's event, where the woken worker stood — as the visualizer's waiters stack does.
    std::vector<trace::Event> events = recorded.events;
    std::stable_sort(events.begin(), events.end(),
                     [](const trace::Event& a, const trace::Event& b) { return a.time_ns < b.time_ns; });
    std::vector<std::uint16_t> waiting;
    int wakes_with_choice = 0, most_recent = 0, oldest = 0;
    for (const trace::Event& event : events) {
        if (event.kind == Kind::wait_begin && event.detail == static_cast<std::uint8_t>(trace::WaitOn::epoll))
            waiting.push_back(event.thread);
        if (event.kind != Kind::wait_end) continue;
        auto found = std::find(waiting.begin(), waiting.end(), event.thread);
        if (found == waiting.end()) continue;  // the end of some other wait
        const bool client_event =
            event.detail == static_cast<std::uint8_t>(trace::Wake::ready) && event.connection != 0;
        if (client_event && waiting.size() >= 2) {
            ++wakes_with_choice;
            most_recent += found == waiting.end() - 1;
            oldest += found == waiting.begin();
        }
        waiting.erase(found);
    }
    const double share = wakes_with_choice ? static_cast<double>(most_recent) / wakes_with_choice : 0;
    std::printf(
        "epoll, %u workers idle, one event at a time, %s: %d of %d wakes took the most recent waiter (%.1f%%), "
        "%d the oldest\n",
        kWorkers, recorded.info["runtime"].c_str(), most_recent, wakes_with_choice, 100 * share, oldest);
    std::fflush(stdout);
    INFO(most_recent << " of " << wakes_with_choice << " wakes took the most recent waiter, " << oldest
                     << " the oldest, under " << recorded.info["runtime"]);
    CHECK(wakes_with_choice >= kRounds * 9 / 10);  // nearly every round found the workers waiting
    CHECK(share >= 0.9);  // not 1: a wait_begin is recorded just before epoll_wait, so two may be stacked out of order
}
