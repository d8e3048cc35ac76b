// common/win/winsock.cpp — the shared scaffolding of the models (see winsock.h).
#include "common/win/winsock.h"

#include <algorithm>
#include <cstdio>

#include <psapi.h>
#include <tlhelp32.h>

#include "common/trace/recorder.h"
#include "common/win/system_version.h"

namespace socklab::win {

// ---- options and control ----------------------------------------------------------------------------------
ServerControl::ServerControl()
    : stop_event_(CreateEventW(nullptr, TRUE, FALSE, nullptr)),
      ready_event_(CreateEventW(nullptr, TRUE, FALSE, nullptr)) {}

ServerControl::~ServerControl() {
    CloseHandle(stop_event_);
    CloseHandle(ready_event_);
}

void ServerControl::report_ready(std::uint16_t port) {
    port_ = port;
    if (on_ready) on_ready(port);
    SetEvent(ready_event_);
}

void ServerControl::report_failed() {
    port_ = 0;
    SetEvent(ready_event_);
}

std::uint16_t ServerControl::wait_until_ready(DWORD timeout_ms) {
    if (WaitForSingleObject(ready_event_, timeout_ms) != WAIT_OBJECT_0) return 0;
    return port_;
}

// ---- errors -----------------------------------------------------------------------------------------------
static const char* winsock_error_name(DWORD code) {
    switch (code) {
        case WSAEINTR:
            return "WSAEINTR";
        case WSAEWOULDBLOCK:
            return "WSAEWOULDBLOCK";
        case WSAENOTSOCK:
            return "WSAENOTSOCK";
        case WSAEADDRINUSE:
            return "WSAEADDRINUSE";
        case WSAEADDRNOTAVAIL:
            return "WSAEADDRNOTAVAIL";
        case WSAECONNABORTED:
            return "WSAECONNABORTED";
        case WSAECONNRESET:
            return "WSAECONNRESET";
        case WSAENOBUFS:
            return "WSAENOBUFS";
        case WSAENOTCONN:
            return "WSAENOTCONN";
        case WSAESHUTDOWN:
            return "WSAESHUTDOWN";
        case WSAEMFILE:
            return "WSAEMFILE";
        case WSAEACCES:
            return "WSAEACCES";
        case WSAEINVAL:
            return "WSAEINVAL";
        case WSA_IO_PENDING:
            return "WSA_IO_PENDING";
        case WSA_OPERATION_ABORTED:
            return "WSA_OPERATION_ABORTED";
        case ERROR_NETNAME_DELETED:
            return "ERROR_NETNAME_DELETED";
        case ERROR_CONNECTION_ABORTED:
            return "ERROR_CONNECTION_ABORTED";
        default:
            return nullptr;
    }
}

std::string error_text(DWORD code) {
    char text[512] = {};
    DWORD length = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, code, 0, text,
                                  sizeof text, nullptr);
    while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\r' || text[length - 1] == ' '))
        text[--length] = '\0';
    const char* name = winsock_error_name(code);
    std::string result = name ? std::string(name) + " (" + std::to_string(code) + ")" : "error " + std::to_string(code);
    if (length > 0) result += ": " + std::string(text);
    return result;
}

void report_error(const char* api, DWORD code, std::uint32_t connection) {
    std::fprintf(stderr, "socklab-server: %s failed: %s\n", api, error_text(code).c_str());
    std::fflush(stderr);
    TRACE_ERROR("report_error", code, connection);
}

// ---- the listening socket ---------------------------------------------------------------------------------
SOCKET create_listener(const ServerOptions& options, std::uint16_t& bound_port) {
    SOCKET listener = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED);
    if (listener == INVALID_SOCKET) {
        report_error("WSASocketW", WSAGetLastError());
        return INVALID_SOCKET;
    }
    // Exclusive use: no other process can bind the same port and steal connections meant for the class.
    BOOL exclusive = TRUE;
    setsockopt(listener, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&exclusive), sizeof exclusive);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(options.port);
    if (inet_pton(AF_INET, options.listen_address.c_str(), &address.sin_addr) != 1) {
        std::fprintf(stderr, "socklab-server: --listen '%s' is not an IPv4 address\n", options.listen_address.c_str());
        closesocket(listener);
        return INVALID_SOCKET;
    }
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == SOCKET_ERROR) {
        report_error("bind", WSAGetLastError());
        closesocket(listener);
        return INVALID_SOCKET;
    }
    if (listen(listener, SOMAXCONN) == SOCKET_ERROR) {
        report_error("listen", WSAGetLastError());
        closesocket(listener);
        return INVALID_SOCKET;
    }
    int length = sizeof address;
    getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    bound_port = ntohs(address.sin_port);
    return listener;
}

// ---- the acceptor ------------------------------------------------------------------------------------------
bool client_left_before_accept(int error) {
    return error == WSAECONNRESET || error == WSAENOTCONN || error == WSAECONNABORTED;
}

void after_failed_accept(int error) {
    if (client_left_before_accept(error)) return;
    report_error("accept", error);
    Sleep(10);
}

void wake_blocked_accept(SOCKET listener) {
    sockaddr_in address{};
    int length = sizeof address;
    if (getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == SOCKET_ERROR) {
        report_error("getsockname", WSAGetLastError());
        return;
    }
    // A listener on every address (--listen 0.0.0.0) is reached on loopback.
    if (address.sin_addr.s_addr == htonl(INADDR_ANY)) address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    SOCKET wake = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (wake == INVALID_SOCKET) {
        report_error("socket", WSAGetLastError());
        return;
    }
    // The connection completes in the listener's backlog without waiting for accept(); closing it at once is
    // fine: accept() returns it (or reports that it left), either way the acceptor wakes and sees the stop.
    if (connect(wake, reinterpret_cast<sockaddr*>(&address), sizeof address) == SOCKET_ERROR)
        report_error("connect (waking the acceptor)", WSAGetLastError());
    closesocket(wake);
}

// ---- threads ----------------------------------------------------------------------------------------------
void join_threads(std::vector<HANDLE>& threads) {
    for (std::size_t first = 0; first < threads.size(); first += MAXIMUM_WAIT_OBJECTS) {
        DWORD count = static_cast<DWORD>(std::min<std::size_t>(MAXIMUM_WAIT_OBJECTS, threads.size() - first));
        if (WaitForMultipleObjects(count, threads.data() + first, TRUE, INFINITE) == WAIT_FAILED) {
            report_error("WaitForMultipleObjects", GetLastError());
            for (DWORD i = 0; i < count; ++i) WaitForSingleObject(threads[first + i], INFINITE);
        }
    }
    for (HANDLE thread : threads) CloseHandle(thread);
    accounting().threads.fetch_sub(static_cast<long>(threads.size()));
    threads.clear();
}

// ---- failures on purpose (tests) --------------------------------------------------------------------------
static std::atomic<int> g_armed_accept_socket_failures{0};

void arm_failures(InjectedFailure, int count) { g_armed_accept_socket_failures = count; }

bool take_armed_failure(InjectedFailure, int error) {
    int armed = g_armed_accept_socket_failures.load();
    while (armed > 0 && !g_armed_accept_socket_failures.compare_exchange_weak(armed, armed - 1)) {}
    if (armed <= 0) return false;
    WSASetLastError(error);
    return true;
}

// ---- accounting -------------------------------------------------------------------------------------------
void close_socket(SOCKET& socket) {
    if (socket == INVALID_SOCKET) return;
    closesocket(socket);
    socket = INVALID_SOCKET;
    accounting().sockets.fetch_sub(1, std::memory_order_relaxed);
}

// ---- facts about the run ----------------------------------------------------------------------------------
bool running_under_wine() { return wine_version() != nullptr; }

std::string runtime_name() {
    if (const char* wine = wine_version()) return std::string("Wine ") + wine;
    return windows_version();
}

unsigned processor_count() {
    SYSTEM_INFO info;
    GetSystemInfo(&info);
    return info.dwNumberOfProcessors;
}

void announce_server(const std::string& model, unsigned concurrency) {
    trace::set_info("model", model);
    trace::set_info("runtime", runtime_name());
    trace::set_info("processors", std::to_string(processor_count()));
    trace::set_info("concurrency", std::to_string(concurrency));
    TRACE(server_start, 0, 0, processor_count(), concurrency);
}

std::string process_figures() {
    // Threads: a snapshot of the system's threads, counting ours. Memory and CPU: the process's own counters.
    unsigned threads = 0;
    HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    if (snapshot != INVALID_HANDLE_VALUE) {
        THREADENTRY32 entry{};
        entry.dwSize = sizeof entry;
        DWORD self = GetCurrentProcessId();
        for (BOOL more = Thread32First(snapshot, &entry); more; more = Thread32Next(snapshot, &entry))
            threads += entry.th32OwnerProcessID == self;
        CloseHandle(snapshot);
    }
    PROCESS_MEMORY_COUNTERS memory{};
    memory.cb = sizeof memory;
    GetProcessMemoryInfo(GetCurrentProcess(), &memory, sizeof memory);
    FILETIME created, exited, kernel, user;
    GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user);
    auto milliseconds = [](const FILETIME& time) {
        return ((static_cast<unsigned long long>(time.dwHighDateTime) << 32) | time.dwLowDateTime) / 10000;
    };
    return "threads=" + std::to_string(threads) + " working_set_kb=" + std::to_string(memory.WorkingSetSize / 1024) +
           " peak_working_set_kb=" + std::to_string(memory.PeakWorkingSetSize / 1024) +
           " cpu_ms=" + std::to_string(milliseconds(kernel) + milliseconds(user));
}

long completion_queue_depth(HANDLE port) {
    // NtQueryIoCompletion is ntdll's, undocumented in the SDK headers but stable since NT 4; it is the only way
    // to read how many packets wait on a port. Looked up once.
    struct BasicInformation {
        LONG depth;
    };
    using Query = LONG(NTAPI*)(HANDLE, int, void*, ULONG, ULONG*);
    static Query query = [] {
        HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
        return ntdll ? reinterpret_cast<Query>(reinterpret_cast<void*>(GetProcAddress(ntdll, "NtQueryIoCompletion")))
                     : nullptr;
    }();
    if (!query) return -1;
    BasicInformation information{};
    if (query(port, 0, &information, sizeof information, nullptr) != 0) return -1;
    return information.depth;
}

#ifndef SOCKLAB_TRACE_DISABLED  // otherwise the sampling is empty inline functions in winsock.h
// Workers that took a packet while recording and have not gone back to the port yet; whether a sample was
// skipped (rate limit) since the last one recorded. One completion port per process: a server runs one model.
static std::atomic<int> g_busy_workers{0};
static std::atomic<bool> g_sample_skipped{false};
static thread_local bool t_counted_busy = false;  // this worker is in g_busy_workers

void sample_queue_depth(HANDLE port) {
    if (!trace::recording()) return;
    if (!t_counted_busy) {
        t_counted_busy = true;
        g_busy_workers.fetch_add(1, std::memory_order_relaxed);
    }
    static std::atomic<std::uint64_t> next_sample_ns{0};
    std::uint64_t now = trace::now_ns();
    std::uint64_t due = next_sample_ns.load(std::memory_order_relaxed);
    if (now < due || !next_sample_ns.compare_exchange_strong(due, now + 5'000'000, std::memory_order_relaxed)) {
        g_sample_skipped.store(true, std::memory_order_relaxed);
        return;
    }
    g_sample_skipped.store(false, std::memory_order_relaxed);
    TRACE(queue_depth, 0, 0, 0, completion_queue_depth(port));
}

void record_final_queue_depth(HANDLE port) {
    if (trace::recording()) TRACE(queue_depth, 0, 0, 0, completion_queue_depth(port));
}

void sample_queue_depth_going_idle(HANDLE port) {
    if (!t_counted_busy) return;  // not counted: recording started while this worker was busy, or an accept
    t_counted_busy = false;
    const bool last_busy = g_busy_workers.fetch_sub(1, std::memory_order_relaxed) == 1;
    if (last_busy && g_sample_skipped.exchange(false, std::memory_order_relaxed) && trace::recording())
        TRACE(queue_depth, 0, 0, 0, completion_queue_depth(port));
}
#endif

}  // namespace socklab::win
