// tests/visualizer/load_series_test.cpp — the compare view's figures: windows of replies per second and
// round-trip latency (visualizer/model/load_series.h), the client pool that times each reply, the --compare
// model list, and how a started server's ports are learned. Exact numbers throughout: every figure here is
// computed by hand in the comments.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "tests/catch.hpp"
#include "tests/visualizer/loopback_listener.h"
#include "visualizer/model/client_pool.h"
#include "visualizer/model/compare_plan.h"
#include "visualizer/model/load_series.h"
#include "visualizer/model/runtime_note.h"
#include "visualizer/model/server_process.h"
#include "visualizer/model/trace_model.h"

using namespace socklab::viz;

namespace {

constexpr std::int64_t ms = 1'000'000;  // nanoseconds

// Echoes every byte of `clients` connections, one thread each, after `delay` per chunk: a minimal line server
// whose round trip is known to be at least `delay`.
std::thread echo_server(LoopbackListener& listener, int clients, std::chrono::milliseconds delay) {
    return std::thread([&listener, clients, delay] {
        std::vector<std::thread> handlers;
        for (int i = 0; i < clients; ++i) {
            const int client = ::accept(listener.socket, nullptr, nullptr);
            handlers.emplace_back([client, delay] {
                char buffer[4096];
                for (ssize_t got; (got = ::recv(client, buffer, sizeof buffer, 0)) > 0;) {
                    if (delay.count()) std::this_thread::sleep_for(delay);
                    ::send(client, buffer, static_cast<std::size_t>(got), MSG_NOSIGNAL);
                }
                ::close(client);
            });
        }
        for (auto& handler : handlers) handler.join();
    });
}

template <typename Done>
bool poll_until(ClientPool& pool, Done done, std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        pool.poll();
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

}  // namespace

TEST_CASE("nearest rank percentiles return one of the values", "[viz][compare]") {
    std::vector<std::int64_t> hundred;
    for (int i = 100; i >= 1; --i) hundred.push_back(i);  // 100 .. 1, out of order on purpose
    CHECK(nearest_rank_percentile(hundred, 0.50) == 50);  // rank ceil(50) = 50
    CHECK(nearest_rank_percentile(hundred, 0.99) == 99);  // rank ceil(99) = 99
    CHECK(nearest_rank_percentile(hundred, 1.00) == 100);
    CHECK(nearest_rank_percentile(hundred, 0.0) == 1);  // rank 0 is kept at 1: the smallest
    std::vector<std::int64_t> three{5, 1, 3};
    CHECK(nearest_rank_percentile(three, 0.50) == 3);  // rank ceil(1.5) = 2 of 1 3 5
    CHECK(nearest_rank_percentile(three, 0.99) == 5);  // rank ceil(2.97) = 3
    std::vector<std::int64_t> none;
    CHECK(nearest_rank_percentile(none, 0.5) == 0);
}

TEST_CASE("a load series closes 250 ms windows with exact replies per second and latency", "[viz][compare]") {
    LoadSeries series;
    series.start(1000 * ms);
    // First window [1000, 1250) ms: four replies taking 1, 3, 2 and 10 ms.
    series.add_reply(1010 * ms, 1 * ms);
    series.add_reply(1100 * ms, 3 * ms);
    series.add_reply(1200 * ms, 2 * ms);
    series.add_reply(1250 * ms - 1, 10 * ms);
    CHECK(series.samples().empty());  // nothing closed yet
    // Exactly on the window's end: the next window [1250, 1500) ms.
    series.add_reply(1250 * ms, 4 * ms);
    REQUIRE(series.samples().size() == 1);
    // The third window [1500, 1750) ms has no reply; advancing to 1750 closes it.
    series.advance(1750 * ms);
    REQUIRE(series.samples().size() == 3);
    CHECK(series.windows_closed() == 3);
    CHECK(series.total_replies() == 5);

    const LoadSample& first = series.samples()[0];
    CHECK(first.end_seconds == 0.25);
    CHECK(first.replies == 4);
    CHECK(first.replies_per_second == 16.0);  // 4 replies in a quarter of a second
    CHECK(first.latency_p50_ns == 2 * ms);    // rank 2 of 1 2 3 10
    CHECK(first.latency_p99_ns == 10 * ms);   // rank ceil(3.96) = 4
    CHECK(first.latency_max_ns == 10 * ms);
    const LoadSample& second = series.samples()[1];
    CHECK(second.end_seconds == 0.5);
    CHECK(second.replies == 1);
    CHECK(second.replies_per_second == 4.0);
    CHECK(second.latency_p50_ns == 4 * ms);
    CHECK(second.latency_p99_ns == 4 * ms);
    const LoadSample& idle = series.samples()[2];
    CHECK(idle.end_seconds == 0.75);
    CHECK(idle.replies == 0);  // kept, so a stalled server shows as a drop to zero
    CHECK(idle.replies_per_second == 0.0);
}

TEST_CASE("a load series keeps a bounded history and counts what it forgot", "[viz][compare]") {
    LoadSeries series(1000 * ms, 4);  // one-second windows, four kept
    series.start(0);
    series.add_reply(500 * ms, 7 * ms);
    series.advance(10'000 * ms);
    CHECK(series.windows_closed() == 10);
    REQUIRE(series.samples().size() == 4);
    CHECK(series.samples().front().end_seconds == 7.0);  // windows 7..10 remain
    CHECK(series.samples().back().end_seconds == 10.0);
    CHECK(series.total_replies() == 1);
    // The default: ten minutes of 250 ms windows.
    CHECK(LoadSeries().capacity() * LoadSeries().window_ns() == 600'000 * ms);
}

TEST_CASE("a load series summary skips start-up and takes medians of the window percentiles", "[viz][compare]") {
    LoadSeries series(1000 * ms, 100);
    series.start(0);
    // Window 1: nothing (start-up). Window 2: 2 replies. Window 3: nothing. Window 4: 6 replies.
    series.add_reply(1100 * ms, 4 * ms);
    series.add_reply(1200 * ms, 8 * ms);
    for (int i = 0; i < 6; ++i) series.add_reply((3100 + i) * ms, (1 + i) * ms);
    series.advance(4000 * ms);
    const LoadSummary summary = summarize(series);
    CHECK(summary.windows == 3);  // windows 2, 3 and 4
    CHECK(summary.mean_replies_per_second == (2.0 + 0.0 + 6.0) / 3);
    CHECK(summary.last_replies_per_second == 6.0);
    // Window 2: p50 4 ms (rank 1 of 4 8), p99 8 ms. Window 4: p50 3 ms (rank 3 of 1..6), p99 6 ms.
    // Medians of two values by nearest rank: the lower one.
    CHECK(summary.median_p50_ns == 3 * ms);
    CHECK(summary.median_p99_ns == 6 * ms);
    CHECK(summarize(series, 1).windows == 1);  // only the newest window
    CHECK(summarize(LoadSeries()).windows == 0);
}

TEST_CASE("the compare list names two or more known models", "[viz][compare]") {
    std::vector<std::string> models;
    std::string error;
    CHECK(parse_compare_models("iocp,select", models, error));
    CHECK(models == std::vector<std::string>{"iocp", "select"});
    CHECK(parse_compare_models("iocp,iocp", models, error));  // a model against itself: the noise floor
    CHECK_FALSE(parse_compare_models("iocp", models, error));
    CHECK(error.find("two or more models") != std::string::npos);
    CHECK_FALSE(parse_compare_models("iocp,nope", models, error));
    CHECK(error.find("no model 'nope'") != std::string::npos);
    CHECK(error.find("iocp-acceptex") != std::string::npos);  // the list of models follows
    CHECK_FALSE(parse_compare_models("iocp,,select", models, error));
    CHECK_FALSE(parse_compare_models("", models, error));
    CHECK(known_models().size() == 11);  // on Linux: the eight Windows models (under Wine) and the three Linux ones
}

TEST_CASE("the compare list and --start take a Linux model, natively, beside a Windows one", "[viz][compare]") {
    std::vector<std::string> models;
    std::string error;
    CHECK(parse_compare_models("iocp,poll", models, error));
    CHECK(models == std::vector<std::string>{"iocp", "poll"});
    CHECK(parse_compare_models("poll,epoll,io-uring", models, error));
    CHECK(check_model("poll", "--start", error));
    CHECK_FALSE(check_model("kqueue", "--start", error));
    CHECK(error.rfind("--start: no model 'kqueue'; the models are: blocking", 0) == 0);
    CHECK(error.find(" poll epoll io-uring") != std::string::npos);
}

TEST_CASE("a native Linux runtime is named as the kernel, and a mixed summary says which runtime is which",
          "[viz][compare]") {
    CHECK(classify_runtime("Linux 6.1.0-28-amd64") == RuntimeKind::linux_native);
    CHECK(classify_runtime("Wine 8.0") == RuntimeKind::wine);
    TraceModel native_trace;  // what the conformance view says under "runtime: Linux 6.1.0-28-amd64"
    native_trace.take_info("runtime", "Linux 6.1.0-28-amd64");
    CHECK(runtime_note(native_trace).rfind("A Linux model, run natively on the kernel named above", 0) == 0);
    LoadSummary figures;
    figures.windows = 16;
    figures.mean_replies_per_second = 1000;
    const std::string native = format_compare_summary({{"poll", "Linux 6.1.0-28-amd64", figures}}, "x");
    CHECK(native.find("poll                 Linux 6.1.0-28-amd64") != std::string::npos);
    CHECK(native.find("Wine") == std::string::npos);
    const std::string mixed =
        format_compare_summary({{"iocp", "Wine 8.0", figures}, {"poll", "Linux 6.1.0-28-amd64", figures}}, "x");
    CHECK(mixed.find("Two runtimes: the Linux models ran natively, the Windows ones under Wine") != std::string::npos);
}

TEST_CASE("the compare summary names the runtime and says Wine figures are not Windows ones", "[viz][compare]") {
    LoadSummary iocp;
    iocp.windows = 32;
    iocp.mean_replies_per_second = 7404.4;
    iocp.median_p50_ns = 1'910'000;
    iocp.median_p99_ns = 6'480'000;
    const std::string text = format_compare_summary({{"iocp", "Wine 8.0", iocp}}, "16 clients");
    CHECK(text.find("socklab-viz compare: 16 clients\n") == 0);
    CHECK(text.find("these are not Windows figures") != std::string::npos);
    CHECK(text.find("iocp                 Wine 8.0                       7404       1.91       6.48       32  0-0\n") !=
          std::string::npos);
    CHECK(format_compare_summary({{"iocp", "Windows 10.0", iocp}}, "x").find("not Windows") == std::string::npos);
}

TEST_CASE("a started server's ports are read from its listening line", "[viz][compare]") {
    std::uint16_t port = 0, trace_port = 0;
    CHECK(parse_listening_line(
        "socklab-server: iocp listening on 127.0.0.1:41234, live trace on 127.0.0.1:41235 (Wine 8.0)", port,
        trace_port));
    CHECK(port == 41234);
    CHECK(trace_port == 41235);
    CHECK(parse_listening_line("socklab-server: select listening on 0.0.0.0:5000 (Windows 10.0)", port, trace_port));
    CHECK(port == 5000);
    CHECK(trace_port == 0);
    CHECK_FALSE(parse_listening_line("wine: created the configuration directory", port, trace_port));
    CHECK_FALSE(parse_listening_line("socklab-server: iocp listening on 127.0.0.1:0", port, trace_port));
}

TEST_CASE("a port with a listener is seen as in use, and free once closed", "[viz][compare]") {
    std::uint16_t port = 0;
    {
        LoopbackListener listener;
        port = listener.port;
        CHECK(port_in_use(port));
    }
    CHECK_FALSE(port_in_use(port));
}

TEST_CASE("the client pool times each reply from its own send", "[viz][compare][clients]") {
    LoopbackListener listener;
    std::thread echo = echo_server(listener, 2, std::chrono::milliseconds(30));
    ClientPool pool;
    pool.set_server("127.0.0.1", listener.port);
    pool.connect(2);
    REQUIRE(poll_until(pool, [&] { return pool.figures().connected == 2; }));
    pool.send_to_all("one");
    REQUIRE(poll_until(pool, [&] { return pool.figures().replies_received == 2; }));
    CHECK(pool.figures().replies_timed == 2);
    // Wait for the window holding both replies to close.
    REQUIRE(poll_until(pool, [&] {
        for (const auto& sample : pool.series().samples())
            if (sample.replies) return true;
        return false;
    }));
    const LoadSeries& series = pool.series();
    std::uint32_t replies = 0;
    std::int64_t slowest = 0;
    for (const auto& sample : series.samples()) {
        replies += sample.replies;
        slowest = std::max(slowest, sample.latency_max_ns);
    }
    CHECK(replies == 2);
    CHECK(slowest >= 30 * ms);  // the server waited 30 ms before echoing
    CHECK(slowest < 1000 * ms);
    pool.disconnect_all();
    echo.join();
}

TEST_CASE("a saturating pool keeps exactly one line in flight per client", "[viz][compare][clients]") {
    LoopbackListener listener;
    std::thread echo = echo_server(listener, 3, std::chrono::milliseconds(0));
    ClientPool pool;
    pool.set_server("127.0.0.1", listener.port);
    pool.connect(3);
    REQUIRE(poll_until(pool, [&] { return pool.figures().connected == 3; }));
    pool.set_saturate(true);
    CHECK(pool.saturating());
    // The load thread drives the round trips; the frame only reads the figures.
    REQUIRE(poll_until(pool,
                       [&] { return pool.figures().replies_received >= 300 && pool.series().samples().size() >= 2; }));
    pool.set_saturate(false);
    CHECK_FALSE(pool.saturating());
    // Closed loop: never more than one line per client outstanding, and every reply matched to its line.
    const auto& figures = pool.figures();
    CHECK(figures.lines_sent - figures.replies_received <= 3);
    CHECK(figures.replies_timed == figures.replies_received);
    CHECK(figures.last_reply.size() == 63);  // a 64-byte line without its '\n'
    CHECK(figures.last_reply.rfind("saturate ", 0) == 0);
    bool busy_window = false;
    for (const auto& sample : pool.series().samples()) busy_window = busy_window || sample.replies > 0;
    CHECK(busy_window);
    // After the loop stops, the lines still in flight are answered and nothing new is sent.
    REQUIRE(poll_until(pool, [&] { return pool.figures().lines_sent == pool.figures().replies_received; }));
    const auto sent = pool.figures().lines_sent;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    pool.poll();
    CHECK(pool.figures().lines_sent == sent);
    pool.disconnect_all();
    echo.join();
}

TEST_CASE("replies are timed at the socket, not by the frame that reads them", "[viz][compare][clients]") {
    // The visualizer's frames can be 50 ms apart (headless) or 16 ms: a pool that read its sockets once per
    // frame would time every reply at the next frame, a p50 of about half a frame. Here the "frame" comes
    // every 50 ms and the echo answers at once over loopback: the p50 must be far below the frame interval.
    LoopbackListener listener;
    std::thread echo = echo_server(listener, 4, std::chrono::milliseconds(0));
    ClientPool pool;
    pool.set_server("127.0.0.1", listener.port);
    pool.connect(4);
    // Nothing is shown before it is measured: no window with replies yet, so no latency figure.
    pool.poll();
    CHECK(pool.figures().replies_timed == 0);
    CHECK(summarize(pool.series()).windows == 0);
    pool.set_pace(40);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(2000);
    while (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        pool.poll();  // the only call the frame makes
    }
    pool.set_pace(0);
    const LoadSummary summary = summarize(pool.series());
    REQUIRE(pool.figures().replies_timed >= 40);  // ~80 lines in 2 s at 40 a second
    REQUIRE(summary.windows >= 4);
    INFO("median of window p50s " << double(summary.median_p50_ns) / 1e6 << " ms, p99 "
                                  << double(summary.median_p99_ns) / 1e6 << " ms");
    CHECK(summary.median_p50_ns < 5 * ms);   // per-frame reading: about 25 ms
    CHECK(summary.median_p99_ns < 25 * ms);  // per-frame reading: up to 50 ms
    pool.disconnect_all();
    echo.join();
}

TEST_CASE("a run's spread is the p10-p90 of its windows and overlapping spreads are not a ranking", "[viz][compare]") {
    // Ten 250 ms windows after the first reply with 1, 2, ... 10 replies: 4, 8, ... 40 replies/s. Nearest rank:
    // p10 is the 1st (4/s), p90 the 9th (36/s).
    LoadSeries series;
    series.start(0);
    for (int window = 0; window < 10; ++window)
        for (int reply = 0; reply <= window; ++reply) series.add_reply(window * 250 * ms + 1 + reply, 1 * ms);
    series.advance(10 * 250 * ms);
    const LoadSummary a = summarize(series);
    REQUIRE(a.windows == 10);
    CHECK(a.low_replies_per_second == 4.0);
    CHECK(a.high_replies_per_second == 36.0);
    LoadSummary b;
    b.windows = 10;
    b.low_replies_per_second = 30;  // overlaps 4-36
    b.high_replies_per_second = 50;
    CHECK(within_spread(a, b));
    b.low_replies_per_second = 37;  // above 36: told apart
    CHECK_FALSE(within_spread(a, b));
    CHECK_FALSE(within_spread(a, LoadSummary{}));  // no windows: nothing measured, nothing to say
    b.low_replies_per_second = 30;
    const auto notes = spread_notes({{"iocp", "Wine 8.0", a}, {"select", "Wine 8.0", b}});
    REQUIRE(notes.size() == 1);
    CHECK(notes[0] == "iocp and select: within the run's spread (p10-p90 of 250 ms windows): not a ranking");
    CHECK(format_compare_summary({{"iocp", "Wine 8.0", a}, {"select", "Wine 8.0", b}}, "x").find(notes[0]) !=
          std::string::npos);
}

TEST_CASE("the compared servers' ports can be chosen, one per model", "[viz][compare]") {
    std::vector<std::uint16_t> ports;
    std::string error;
    CHECK(parse_compare_ports("5000,5001", 2, ports, error));
    CHECK(ports == std::vector<std::uint16_t>{5000, 5001});
    CHECK_FALSE(parse_compare_ports("5000", 2, ports, error));
    CHECK(error.find("one port per compared model") != std::string::npos);
    CHECK_FALSE(parse_compare_ports("5000,5000", 2, ports, error));
    CHECK(error.find("twice") != std::string::npos);
    CHECK_FALSE(parse_compare_ports("5000,70000", 2, ports, error));
    CHECK_FALSE(parse_compare_ports("5000,x", 2, ports, error));
    CHECK_FALSE(parse_compare_ports("5000,", 2, ports, error));
}
