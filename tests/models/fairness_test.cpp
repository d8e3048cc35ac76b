// One client that sends without pause must not starve the others. The classic way to get this wrong is
// WSAWaitForMultipleEvents, which reports the lowest signalled index: a loop that serves only that index serves a
// chatty client at a low index for ever. Run against every model.
#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/models/model_test_client.h"

using namespace model_tests;

TEST_CASE("one chatty client cannot starve the others") {
    RunningModel server;
    // The chatty client connects first, so that in a table of sockets or events it has the lowest index.
    net::Socket chatty = connect_to(server);
    check_echo(chatty, "chatty is here");
    std::vector<net::Socket> others;
    for (int i = 0; i < 5; ++i) {
        others.push_back(connect_to(server));
        check_echo(others.back(), "other " + std::to_string(i) + " is here");
    }

    // The flood: one thread writes bursts of lines as fast as the server takes them, another reads (and drops)
    // the echoes, so that the chatty client never stops being readable on the server's side.
    std::atomic<bool> flooding{true}, writer_done{false};
    std::thread flood_writer([&] {
        std::string burst;
        for (int i = 0; i < 64; ++i) burst += std::string(63, 'c') + "\n";
        while (flooding && net::send_all(chatty, burst.data(), burst.size())) {
        }
        writer_done = true;
    });
    std::thread flood_reader([&] {
        char buffer[65536];
        while (!writer_done) {
            net::PollEntry entry{chatty.native(), net::poll_in(), 0};
            if (net::poll(&entry, 1, 50) > 0 && net::receive_some(chatty, buffer, sizeof buffer) <= 0) break;
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the flood is running

    // Meanwhile every other client asks for echoes, one at a time, and times each round trip. A starved client
    // would wait for ever: give up on the first echo that does not come within 3 s.
    long longest_ms = 0;
    bool all_echoed = true;
    for (int round = 0; round < 10 && all_echoed; ++round) {
        for (std::size_t i = 0; i < others.size() && all_echoed; ++i) {
            const std::string text = "round " + std::to_string(round) + " from " + std::to_string(i);
            auto start = Clock::now();
            send_text(others[i], text + "\n");
            all_echoed = receive_line(others[i], 3000) == text + "\n";
            long waited = static_cast<long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
            longest_ms = std::max(longest_ms, waited);
        }
    }
    flooding = false;
    flood_writer.join();
    flood_reader.join();

    INFO("the longest echo round trip during the flood took " << longest_ms << " ms");
    CHECK(all_echoed);
    CHECK(longest_ms < 1000);
}
