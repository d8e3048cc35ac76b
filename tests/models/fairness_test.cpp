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
        while (flooding && net::send_all(chatty, burst.data(), burst.size())) {}
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
            long waited =
                static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
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

// The same with more chatty clients than the server has workers. A model that handles an I/O that completed at
// once in place (as FILE_SKIP_COMPLETION_PORT_ON_SUCCESS invites) must not loop on one connection for as long as its
// data keeps coming: a flooding client's receives always complete at once, and with a worker stuck on each of them,
// nobody is left to take the other clients' packets (a trial iocp-acceptex that did so kept these echoes waiting
// 3 s). --workers is ignored by the models without a pool; for them this is the test above with three floods.
TEST_CASE("chatty clients outnumbering the workers cannot starve the others") {
    socklab::models::ServerOptions options;
    options.workers = 2;
    RunningModel server(options);
    constexpr int kChatty = 3;
    std::vector<net::Socket> chatty;
    for (int i = 0; i < kChatty; ++i) {
        chatty.push_back(connect_to(server));
        check_echo(chatty.back(), "chatty " + std::to_string(i) + " is here");
    }
    std::vector<net::Socket> others;
    for (int i = 0; i < 3; ++i) {
        others.push_back(connect_to(server));
        check_echo(others.back(), "other " + std::to_string(i) + " is here");
    }

    std::atomic<bool> flooding{true};
    std::atomic<int> writers_done{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kChatty; ++i) {
        threads.emplace_back([&, i] {
            std::string burst;
            for (int line = 0; line < 64; ++line) burst += std::string(63, 'c') + "\n";
            while (flooding && net::send_all(chatty[i], burst.data(), burst.size())) {}
            ++writers_done;
        });
        threads.emplace_back([&, i] {
            char buffer[65536];
            while (writers_done < kChatty) {
                net::PollEntry entry{chatty[i].native(), net::poll_in(), 0};
                if (net::poll(&entry, 1, 50) > 0 && net::receive_some(chatty[i], buffer, sizeof buffer) <= 0) break;
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the floods are running

    long longest_ms = 0;
    bool all_echoed = true;
    for (int round = 0; round < 10 && all_echoed; ++round) {
        for (std::size_t i = 0; i < others.size() && all_echoed; ++i) {
            const std::string text = "round " + std::to_string(round) + " from " + std::to_string(i);
            auto start = Clock::now();
            send_text(others[i], text + "\n");
            all_echoed = receive_line(others[i], 3000) == text + "\n";
            long waited =
                static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
            longest_ms = std::max(longest_ms, waited);
        }
    }
    flooding = false;
    for (auto& thread : threads) thread.join();

    INFO("the longest echo round trip during the floods took " << longest_ms << " ms");
    CHECK(all_echoed);
    CHECK(longest_ms < 1000);
}
