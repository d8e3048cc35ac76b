// bench/iocp_yardstick.cpp — a bare IOCP echo server: the yardstick that `socklab compare --scenario cost`
// (cli/cost.h) runs beside the iocp models, so the cost table shows what socklab's own layers cost per echo.
//
// The same Win32 calls as models/06_iocp.cpp — a completion port, accept() on one thread, an overlapped WSARecv
// and then an overlapped WSASend per connection, a pool of workers in GetQueuedCompletionStatus, and sockets that
// queue no packet for an I/O done at once (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS; a receive done at once is posted
// to the port, as 06 does; 06 also checks first that every provider returns IFS handles) — and nothing
// else: no line protocol (bytes are echoed as they come), no session, no tracing, no counts of sockets and
// per-I/O objects, no connection table. It is not a model, and no lesson shows it.
//
//   iocp-yardstick [--port N] [--workers N]
//
// --port 0 (the default) takes any free port; --workers (at most 64) defaults to twice the processors, as the
// models do. It prints "iocp-yardstick listening on 127.0.0.1:<port> (<runtime>)", the line socklab-server
// prints, and stops when its standard input ends: the cost scenario closes it, as it does a model's.
#include <winsock2.h>
#include <windows.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// A connection has one receive or one send in flight, never both: the next receive starts only when all that the
// last one brought has been sent back, which keeps the echo in order. So one OVERLAPPED serves both.
struct Connection {
    OVERLAPPED overlapped{};
    SOCKET socket = INVALID_SOCKET;
    bool sending = false;
    bool no_packet_on_success = false;  // FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is set
    DWORD received = 0;                 // bytes the last receive brought
    DWORD sent = 0;                     // of those, sent back so far
    char buffer[4096];
};

HANDLE port = nullptr;
SOCKET listener = INVALID_SOCKET;
std::atomic<bool> stopping{false};

void report(const char* call, unsigned long error) {
    std::fprintf(stderr, "iocp-yardstick: %s failed: error %lu\n", call, error);
}

// Only called with no I/O in flight: the kernel writes into the OVERLAPPED and the buffer until the packet comes.
void close_connection(Connection* connection) {
    if (closesocket(connection->socket) == SOCKET_ERROR) report("closesocket", WSAGetLastError());
    delete connection;
}

// What starting an I/O came to: it failed (no packet will come), its packet will come, or it is done already and
// no packet will come (a send on a socket with FILE_SKIP_COMPLETION_PORT_ON_SUCCESS).
enum class Started { failed, packet_coming, done_at_once };

Started start_receive(Connection* connection) {
    connection->sending = false;
    std::memset(&connection->overlapped, 0, sizeof connection->overlapped);
    WSABUF buffer{sizeof connection->buffer, connection->buffer};
    DWORD flags = 0, received = 0;
    if (WSARecv(connection->socket, &buffer, 1, &received, &flags, &connection->overlapped, nullptr) == 0) {
        // Done at once: with no packet coming, hand it to the port, so that a worker takes it as any other.
        if (connection->no_packet_on_success &&
            !PostQueuedCompletionStatus(port, received, reinterpret_cast<ULONG_PTR>(connection),
                                        &connection->overlapped)) {
            report("PostQueuedCompletionStatus", GetLastError());
            return Started::failed;
        }
        return Started::packet_coming;
    }
    const int error = WSAGetLastError();
    if (error == WSA_IO_PENDING) return Started::packet_coming;
    report("WSARecv", error);
    return Started::failed;
}

// Sends back what the last receive brought and is not sent yet.
Started start_send(Connection* connection) {
    connection->sending = true;
    std::memset(&connection->overlapped, 0, sizeof connection->overlapped);
    WSABUF buffer{connection->received - connection->sent, connection->buffer + connection->sent};
    DWORD sent = 0;
    if (WSASend(connection->socket, &buffer, 1, &sent, 0, &connection->overlapped, nullptr) == 0) {
        if (!connection->no_packet_on_success) return Started::packet_coming;
        connection->sent += sent;
        return sent > 0 ? Started::done_at_once : Started::failed;  // 0 bytes would be tried again for ever
    }
    const int error = WSAGetLastError();
    if (error == WSA_IO_PENDING) return Started::packet_coming;
    report("WSASend", error);
    return Started::failed;
}

// After a send: the rest of what the last receive brought (a send can complete partly), or the next receive.
Started continue_after_send(Connection* connection) {
    return connection->sent < connection->received ? start_send(connection) : start_receive(connection);
}

// A worker: one packet, one step of a connection (received: send it back; sent: the rest, or the next receive).
DWORD WINAPI worker_main(LPVOID) {
    for (;;) {
        DWORD bytes = 0;
        ULONG_PTR key = 0;
        OVERLAPPED* overlapped = nullptr;
        const BOOL ok = GetQueuedCompletionStatus(port, &bytes, &key, &overlapped, INFINITE);
        if (overlapped == nullptr) {  // the stop packet (key 0), or the port itself failed
            if (!ok) report("GetQueuedCompletionStatus", GetLastError());
            return 0;
        }
        auto* connection = reinterpret_cast<Connection*>(key);
        // A failed I/O (a reset, a close) or 0 bytes (the client closed, or a send that moved nothing): the end.
        if (!ok || bytes == 0) {
            close_connection(connection);
            continue;
        }
        Started started;
        if (!connection->sending) {
            connection->received = bytes;
            connection->sent = 0;
            started = start_send(connection);
        } else {
            connection->sent += bytes;
            started = continue_after_send(connection);
        }
        while (started == Started::done_at_once) started = continue_after_send(connection);
        if (started == Started::failed) close_connection(connection);
    }
}

// Standard input ending is the request to stop: closing the listener ends the accept() loop.
DWORD WINAPI stdin_watch(LPVOID) {
    char ignored[256];
    DWORD got = 0;
    while (ReadFile(GetStdHandle(STD_INPUT_HANDLE), ignored, sizeof ignored, &got, nullptr) && got > 0) {}
    stopping = true;
    if (closesocket(listener) == SOCKET_ERROR) report("closesocket(listener)", WSAGetLastError());
    return 0;
}

// "Wine 8.0" under Wine (ntdll exports wine_get_version there only), otherwise "Windows <major>.<minor>.<build>".
std::string runtime_name() {
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    using WineVersion = const char*(__cdecl*)();
    if (auto wine = reinterpret_cast<WineVersion>(
            reinterpret_cast<void*>(ntdll ? GetProcAddress(ntdll, "wine_get_version") : nullptr)))
        return std::string("Wine ") + wine();
    using RtlGetVersion = LONG(WINAPI*)(OSVERSIONINFOW*);
    OSVERSIONINFOW version{};
    version.dwOSVersionInfoSize = sizeof version;
    if (auto get = reinterpret_cast<RtlGetVersion>(
            reinterpret_cast<void*>(ntdll ? GetProcAddress(ntdll, "RtlGetVersion") : nullptr));
        get && get(&version) == 0)
        return "Windows " + std::to_string(version.dwMajorVersion) + "." + std::to_string(version.dwMinorVersion) +
               "." + std::to_string(version.dwBuildNumber);
    return "Windows";
}

// The listening socket on 127.0.0.1:port; INVALID_SOCKET, reported, when any step fails.
SOCKET listen_on(unsigned short port_number) {
    SOCKET socket_ = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);  // overlapped-capable, as socket() makes them
    if (socket_ == INVALID_SOCKET) {
        report("socket", WSAGetLastError());
        return INVALID_SOCKET;
    }
    BOOL exclusive = TRUE;  // as the models: nobody else may bind the port while we hold it
    if (setsockopt(socket_, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&exclusive),
                   sizeof exclusive) == SOCKET_ERROR)
        report("setsockopt(SO_EXCLUSIVEADDRUSE)", WSAGetLastError());
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_number);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(socket_, reinterpret_cast<sockaddr*>(&address), sizeof address) == SOCKET_ERROR) {
        report("bind", WSAGetLastError());
    } else if (listen(socket_, SOMAXCONN) == SOCKET_ERROR) {
        report("listen", WSAGetLastError());
    } else {
        return socket_;
    }
    closesocket(socket_);
    return INVALID_SOCKET;
}

// Each client: TCP_NODELAY as the models set it (an echo must not wait for Nagle), tied to the port with its
// Connection as the completion key, and its first receive.
void accept_clients() {
    for (;;) {
        SOCKET client = accept(listener, nullptr, nullptr);
        if (client == INVALID_SOCKET) {
            const int error = WSAGetLastError();
            if (stopping) return;
            if (error != WSAECONNRESET) {  // a client that left before accept() is no news
                report("accept", error);
                Sleep(10);  // a failure that repeats (out of sockets) must not spin this thread
            }
            continue;
        }
        BOOL no_delay = TRUE;
        if (setsockopt(client, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&no_delay), sizeof no_delay) ==
            SOCKET_ERROR)
            report("setsockopt(TCP_NODELAY)", WSAGetLastError());
        auto* connection = new Connection;
        connection->socket = client;
        if (CreateIoCompletionPort(reinterpret_cast<HANDLE>(client), port, reinterpret_cast<ULONG_PTR>(connection),
                                   0) == nullptr) {
            report("CreateIoCompletionPort", GetLastError());
            close_connection(connection);
            continue;
        }
        connection->no_packet_on_success =
            SetFileCompletionNotificationModes(reinterpret_cast<HANDLE>(client), FILE_SKIP_COMPLETION_PORT_ON_SUCCESS);
        if (start_receive(connection) == Started::failed) close_connection(connection);  // nothing in flight: free it
    }
}

}  // namespace

int main(int argc, char** argv) {
    unsigned long port_number = 0, workers = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if ((flag == "--port" || flag == "--workers") && i + 1 < argc) {
            char* end = nullptr;
            const unsigned long value = std::strtoul(argv[++i], &end, 10);
            // At most 64 workers: the stop waits for them all in one WaitForMultipleObjects.
            if (*end != '\0' || value > (flag == "--port" ? 65535ul : MAXIMUM_WAIT_OBJECTS)) {
                std::fprintf(stderr, "iocp-yardstick: %s wants a number, not '%s'\n", flag.c_str(), argv[i]);
                return 2;
            }
            (flag == "--port" ? port_number : workers) = value;
        } else {
            std::fprintf(stderr, "usage: iocp-yardstick [--port N] [--workers N]\n");
            return 2;
        }
    }
    if (workers == 0) {
        SYSTEM_INFO system;
        GetSystemInfo(&system);
        workers = std::min<unsigned long>(2 * system.dwNumberOfProcessors, MAXIMUM_WAIT_OBJECTS);
    }
    WSADATA wsa;
    if (const int error = WSAStartup(MAKEWORD(2, 2), &wsa); error != 0) {
        report("WSAStartup", error);
        return 1;
    }
    // Concurrency 0: as many running workers as processors, the models' default.
    port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 0);
    if (port == nullptr) {
        report("CreateIoCompletionPort", GetLastError());
        return 1;
    }
    listener = listen_on(static_cast<unsigned short>(port_number));
    if (listener == INVALID_SOCKET) return 1;
    sockaddr_in bound{};
    int length = sizeof bound;
    if (getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &length) == SOCKET_ERROR) {
        report("getsockname", WSAGetLastError());
        return 1;
    }
    std::vector<HANDLE> threads;
    for (unsigned long i = 0; i < workers; ++i) {
        HANDLE thread = CreateThread(nullptr, 0, worker_main, nullptr, 0, nullptr);
        if (thread == nullptr) {
            report("CreateThread", GetLastError());
            return 1;
        }
        threads.push_back(thread);
    }
    HANDLE watch = CreateThread(nullptr, 0, stdin_watch, nullptr, 0, nullptr);
    if (watch == nullptr) {
        report("CreateThread", GetLastError());
        return 1;
    }
    std::printf("iocp-yardstick listening on 127.0.0.1:%u (%s)\n", ntohs(bound.sin_port), runtime_name().c_str());
    std::fflush(stdout);  // a pipe: the line must reach whoever waits for it now

    accept_clients();

    // One stop packet per worker. Connections still open are closed by the exit: the yardstick keeps no table.
    for (std::size_t i = 0; i < threads.size(); ++i)
        if (!PostQueuedCompletionStatus(port, 0, 0, nullptr)) report("PostQueuedCompletionStatus", GetLastError());
    const DWORD joined = WaitForMultipleObjects(static_cast<DWORD>(threads.size()), threads.data(), TRUE, 10000);
    if (joined == WAIT_FAILED) report("WaitForMultipleObjects", GetLastError());
    if (joined == WAIT_TIMEOUT) std::fprintf(stderr, "iocp-yardstick: the workers did not stop within 10 s\n");
    std::printf("iocp-yardstick: stopped\n");
    std::fflush(stdout);
    return 0;
}
