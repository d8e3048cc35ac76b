// common/posix/sockets.cpp — the shared scaffolding of the native models (see sockets.h).
#include "common/posix/sockets.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <system_error>

#include "common/trace/recorder.h"

namespace socklab::posix {

// ---- options and control ----------------------------------------------------------------------------------
ServerControl::ServerControl() : stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (stop_fd_ < 0) {
        report_error("eventfd", errno);
        broken_invariant("the server could never be stopped");
    }
}

ServerControl::~ServerControl() { close(stop_fd_); }

void ServerControl::request_stop() noexcept {
    // The counter only grows (up to 2^64 - 2 requests): the eventfd stays readable from the first request on.
    const std::uint64_t one = 1;
    ssize_t written = write(stop_fd_, &one, sizeof one);
    (void)written;  // EAGAIN only if the counter were full: then it is readable already
}

bool ServerControl::stop_requested() const {
    pollfd entry{stop_fd_, POLLIN, 0};
    return ::poll(&entry, 1, 0) == 1;
}

void ServerControl::set_ready(std::uint16_t port) {
    {
        std::lock_guard lock(mutex_);
        port_ = port;
        ready_ = true;
    }
    ready_changed_.notify_all();
}

void ServerControl::report_ready(std::uint16_t port) {
    if (on_ready) on_ready(port);
    set_ready(port);
}

void ServerControl::report_failed() { set_ready(0); }

std::uint16_t ServerControl::wait_until_ready(unsigned timeout_ms) {
    std::unique_lock lock(mutex_);
    if (!ready_changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return ready_; })) return 0;
    return port_;
}

// ---- errors -----------------------------------------------------------------------------------------------
std::string error_text(int code) {
    char buffer[256];
    const char* name = strerrorname_np(code);  // "ECONNRESET"; glibc 2.32 and later
    const char* text = strerror_r(code, buffer, sizeof buffer);
    std::string result = name ? std::string(name) + " (" + std::to_string(code) + ")" : "error " + std::to_string(code);
    if (text && *text) result += ": " + std::string(text);
    return result;
}

void report_error(const char* api, int code, std::uint32_t connection) {
    std::fprintf(stderr, "socklab-server: %s failed: %s\n", api, error_text(code).c_str());
    std::fflush(stderr);
    TRACE_ERROR("report_error", code, connection);
}

// ---- the listening socket ---------------------------------------------------------------------------------
int create_listener(const ServerOptions& options, std::uint16_t& bound_port) {
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (listener < 0) {
        report_error("socket", errno);
        return -1;
    }
    // SO_REUSEADDR: a server restarted at once may bind its port while connections of the last run linger in
    // TIME_WAIT. Linux never lets a second listener take a port another process listens on (unlike Windows,
    // which needs SO_EXCLUSIVEADDRUSE for that), so this steals nothing.
    int reuse = 1;
    if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse) != 0)
        report_error("setsockopt(SO_REUSEADDR)", errno);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(options.port);
    if (inet_pton(AF_INET, options.listen_address.c_str(), &address.sin_addr) != 1) {
        std::fprintf(stderr, "socklab-server: --listen '%s' is not an IPv4 address\n", options.listen_address.c_str());
        close(listener);
        return -1;
    }
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        report_error("bind", errno);
        close(listener);
        return -1;
    }
    if (listen(listener, SOMAXCONN) != 0) {
        report_error("listen", errno);
        close(listener);
        return -1;
    }
    socklen_t length = sizeof address;
    getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    bound_port = ntohs(address.sin_port);
    return listener;
}

// ---- the acceptor ------------------------------------------------------------------------------------------
bool client_left_before_accept(int error) {
    switch (error) {
        case ECONNABORTED:
        case EPROTO:  // accept(2): the pending network errors of the new connection, to be treated like EAGAIN
        case ENETDOWN:
        case ENOPROTOOPT:
        case EHOSTDOWN:
        case ENONET:
        case EHOSTUNREACH:
        case EOPNOTSUPP:
        case ENETUNREACH:
            return true;
        default:
            return false;
    }
}

void after_failed_accept(int error) {
    if (client_left_before_accept(error)) return;
    report_error("accept", error);
    usleep(10'000);
}

// ---- threads ----------------------------------------------------------------------------------------------
bool start_threads(unsigned count, void (*main)(void* parameter), void* parameter, std::vector<std::thread>& threads) {
    for (unsigned i = 0; i < count; ++i) {
        try {
            threads.emplace_back(main, parameter);
        } catch (const std::system_error& error) {
            report_error("pthread_create", error.code().value());
            break;
        }
        accounting().threads.fetch_add(1);
    }
    return !threads.empty();
}

void join_threads(std::vector<std::thread>& threads) {
    for (std::thread& thread : threads) thread.join();
    accounting().threads.fetch_sub(static_cast<long>(threads.size()));
    threads.clear();
}

// ---- accounting -------------------------------------------------------------------------------------------
void close_socket(int& socket) {
    if (socket < 0) return;
    close(socket);  // not retried on EINTR: on Linux the descriptor is released whatever close() returns
    socket = -1;
    accounting().sockets.fetch_sub(1, std::memory_order_relaxed);
}

// ---- facts about the run ----------------------------------------------------------------------------------
std::string runtime_name() {
    utsname name{};
    if (uname(&name) != 0) return "Linux";
    return std::string(name.sysname) + " " + name.release;
}

unsigned processor_count() {
    long count = sysconf(_SC_NPROCESSORS_ONLN);
    return count > 0 ? static_cast<unsigned>(count) : 1;
}

void announce_server(const std::string& model, unsigned concurrency) {
    trace::set_info("model", model);
    trace::set_info("runtime", runtime_name());
    trace::set_info("processors", std::to_string(processor_count()));
    trace::set_info("concurrency", std::to_string(concurrency));
    TRACE(server_start, 0, 0, processor_count(), concurrency);
}

std::string process_figures() {
    // Threads and memory: /proc/self/status ("Threads:", "VmRSS:", "VmHWM:", the last two in kB). CPU: getrusage.
    unsigned long threads = 0, resident_kb = 0, peak_kb = 0;
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        auto value = [&](const char* key, unsigned long& into) {
            if (line.rfind(key, 0) == 0) into = std::strtoul(line.c_str() + std::strlen(key), nullptr, 10);
        };
        value("Threads:", threads);
        value("VmRSS:", resident_kb);
        value("VmHWM:", peak_kb);
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto milliseconds = [](const timeval& time) {
        return static_cast<unsigned long long>(time.tv_sec) * 1000 +
               static_cast<unsigned long long>(time.tv_usec) / 1000;
    };
    return "threads=" + std::to_string(threads) + " working_set_kb=" + std::to_string(resident_kb) +
           " peak_working_set_kb=" + std::to_string(peak_kb) +
           " cpu_ms=" + std::to_string(milliseconds(usage.ru_utime) + milliseconds(usage.ru_stime));
}

unsigned long raise_open_file_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    return limit.rlim_cur == RLIM_INFINITY ? static_cast<unsigned long>(-1)
                                           : static_cast<unsigned long>(limit.rlim_cur);
}

// ---- failures ---------------------------------------------------------------------------------------------
void wait_failed(const char* api, int error, ServerControl& control) {
    report_error(api, error);
    std::fprintf(stderr, "socklab-server: a wait failed, which retrying cannot mend: stopping\n");
    control.request_stop();
}

void broken_invariant(const char* what) {
    std::fprintf(stderr, "socklab-server: broken invariant: %s\n", what);
    std::fflush(stderr);
    std::abort();
}

}  // namespace socklab::posix
