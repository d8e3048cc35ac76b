// A client that stops reading while the server has much to send: nothing may be lost, and the server must wait
// for it without spinning or buffering without end. Run against every model; it matters most for the readiness models, where the way a
// server learns that a full socket has room again (FD_WRITE re-armed only by WSAEWOULDBLOCK, a socket in
// select's write set) is the lesson, and getting it wrong either hangs the client or burns a processor.
#include <string>
#include <thread>

#include "tests/models/model_test_client.h"

#ifdef _WIN32
#include <psapi.h>  // after windows.h, which the line above brings in
#else
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#endif

using namespace model_tests;

namespace {

#ifdef _WIN32
// CPU time (user + kernel) this process has used so far, in milliseconds: the server runs in this process.
double process_cpu_milliseconds() {
    FILETIME created, exited, kernel, user;
    GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user);
    auto to_100ns = [](const FILETIME& time) {
        return (static_cast<unsigned long long>(time.dwHighDateTime) << 32) | time.dwLowDateTime;
    };
    return static_cast<double>(to_100ns(kernel) + to_100ns(user)) / 10000.0;
}

// This process's working set in MB: the server's queues live in this process. (The working set, because Wine 8.0
// reports no growth of PrivateUsage at all: measured.)
double process_memory_megabytes() {
    PROCESS_MEMORY_COUNTERS memory{};
    memory.cb = sizeof memory;
    GetProcessMemoryInfo(GetCurrentProcess(), &memory, sizeof memory);
    return static_cast<double>(memory.WorkingSetSize) / (1024.0 * 1024.0);
}
#else
// The same on Linux: user + system time (getrusage), and the resident set (/proc/self/statm, in pages).
double process_cpu_milliseconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto milliseconds = [](const timeval& time) { return time.tv_sec * 1000.0 + time.tv_usec / 1000.0; };
    return milliseconds(usage.ru_utime) + milliseconds(usage.ru_stime);
}

double process_memory_megabytes() {
    std::ifstream statm("/proc/self/statm");
    double size_pages = 0, resident_pages = 0;
    statm >> size_pages >> resident_pages;
    return resident_pages * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}
#endif

}  // namespace

TEST_CASE("a slow reader loses nothing, and the server waits for it without spinning") {
    RunningModel server;
    net::Socket client = connect_to(server);

    // 20 MB of numbered lines: far more than the socket buffers of both ends can hold, so the server's sends
    // must fail with WSAEWOULDBLOCK or EAGAIN (or stay pending) while the client is not reading.
    constexpr int kLines = 20000;
    std::string lines;
    for (int i = 0; i < kLines; ++i) {
        std::string line = "slow reader line " + std::to_string(i) + " ";
        line.resize(999, 'x');
        lines += line + "\n";
    }
    const double memory_mb_before = process_memory_megabytes();
    // The client writes everything from another thread; it blocks once the server stops taking its lines.
    std::thread writer([&] { net::send_all(client, lines.data(), lines.size()); });

    // The stall: the client reads nothing. First let the buffers fill: wait until the process goes quiet (three
    // 250 ms windows in a row with at most 10 ms of CPU each; a loaded machine takes longer to get there). A
    // server that spins never gets there.
    bool quiet = false;
    for (int window = 0, quiet_windows = 0; window < 80 && !quiet; ++window) {
        const double before = process_cpu_milliseconds();
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        quiet_windows = process_cpu_milliseconds() - before <= 10 ? quiet_windows + 1 : 0;
        quiet = quiet_windows == 3;
    }
    CHECK(quiet);
    // Back-pressure: a server that waits by reading everything the client sends would hold its 20 MB of replies
    // in memory. With back-pressure it holds a bounded queue (model.h: kMaxQueuedBytes, twice that with the send
    // in flight); the rest waits in the socket buffers.
    const double memory_mb = process_memory_megabytes() - memory_mb_before;
    INFO("the process's working set grew by " << memory_mb << " MB while the client did not read");
    CHECK(memory_mb < 8);
    const double cpu_before = process_cpu_milliseconds();
    const auto stall_started = Clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    const double stall_ms = std::chrono::duration<double, std::milli>(Clock::now() - stall_started).count();
    const double cpu_ms = process_cpu_milliseconds() - cpu_before;

    // Then the client reads again: every byte arrives, in order.
    std::string received = receive_bytes(client, lines.size(), 60000);
    writer.join();
    CHECK(received.size() == lines.size());
    CHECK(received == lines);  // (on a mismatch Catch prints both: long, but it names the first difference)

    // A server spinning on a full socket would use a whole processor. A server that waits as it should uses next
    // to nothing (0-10 ms measured under Wine 8.0).
    INFO("the process used " << cpu_ms << " ms of CPU in " << stall_ms << " ms of stall");
    CHECK(cpu_ms < 0.04 * stall_ms);
}
