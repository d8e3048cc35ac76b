// visualizer/model/server_process.cpp — see server_process.h. POSIX fork/exec.
#include "visualizer/model/server_process.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <arpa/inet.h>
#include <cstdlib>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace socklab::viz {

ServerProcess::~ServerProcess() { stop(); }

bool ServerProcess::start(const std::string& program, const std::vector<std::string>& args, std::string& error) {
    int pipe_ends[2];
    if (::pipe2(pipe_ends, O_CLOEXEC) != 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        return false;
    }
    command_line_ = program;
    for (const auto& arg : args) command_line_ += " " + arg;

    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);

    const pid_t viewer = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        error = std::string("fork: ") + std::strerror(errno);
        ::close(pipe_ends[0]);
        ::close(pipe_ends[1]);
        return false;
    }
    if (pid == 0) {
        // The child: its own process group, so stop() reaches Wine's processes too; output into the pipe.
        ::setpgid(0, 0);
        // No orphans: when the viewer dies, however it dies (SIGKILL, a crash), the kernel sends this process
        // SIGTERM, and `socklab serve` (the `socklab` script execs it, keeping this pid and this setting) then
        // stops its Wine server as on Ctrl-C. The setting survives exec; a viewer already gone before it was
        // made (getppid() no longer the viewer) is handled here.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != viewer) ::_exit(1);
        ::dup2(pipe_ends[1], STDOUT_FILENO);
        ::dup2(pipe_ends[1], STDERR_FILENO);
        ::execv(program.c_str(), argv.data());
        const char* message = "exec failed: the socklab command was not found or is not executable\n";
        [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, message, std::strlen(message));
        ::_exit(127);
    }
    ::close(pipe_ends[1]);
    output_fd_ = pipe_ends[0];
    ::fcntl(output_fd_, F_SETFL, ::fcntl(output_fd_, F_GETFL) | O_NONBLOCK);
    pid_ = pid;
    exited_ = false;
    started_ = std::chrono::steady_clock::now();
    return true;
}

void ServerProcess::poll() {
    if (output_fd_ >= 0) {
        char chunk[4096];
        for (;;) {
            const ssize_t got = ::read(output_fd_, chunk, sizeof chunk);
            if (got <= 0) {
                // 0: every writer closed the pipe. Note a persistent wineserver may keep it open (DESIGN.md §1),
                // so an exit is noticed through waitpid below, never through the pipe alone.
                if (got == 0) {
                    ::close(output_fd_);
                    output_fd_ = -1;
                }
                break;
            }
            partial_line_.append(chunk, static_cast<std::size_t>(got));
            for (std::size_t end; (end = partial_line_.find('\n')) != std::string::npos;) {
                output_.push_back(partial_line_.substr(0, end));
                partial_line_.erase(0, end + 1);
            }
            if (output_.size() > 200) output_.erase(output_.begin(), output_.end() - 200);
        }
    }
    if (pid_ > 0 && !exited_) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            exited_ = true;
            exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
    }
}

void ServerProcess::stop() {
    if (pid_ > 0 && !exited_) {
        ::kill(-pid_, SIGTERM);  // the group this process leads: the CLI and the Wine process it started
        for (int waited_ms = 0; waited_ms < 3000; waited_ms += 20) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                exited_ = true;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (!exited_) {
            ::kill(-pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            exited_ = true;
        }
    }
    if (output_fd_ >= 0) ::close(output_fd_);
    output_fd_ = -1;
}

double ServerProcess::seconds_since_start() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

bool parse_listening_line(const std::string& line, std::uint16_t& port, std::uint16_t& trace_port) {
    // "... listening on ADDRESS:PORT[, live trace on 127.0.0.1:TRACE] (RUNTIME)"
    const auto listening = line.find(" listening on ");
    if (listening == std::string::npos) return false;
    auto number_after_colon = [&](std::size_t from) -> long {
        const auto colon = line.find(':', from);
        if (colon == std::string::npos) return -1;
        char* end = nullptr;
        const long value = std::strtol(line.c_str() + colon + 1, &end, 10);
        return end == line.c_str() + colon + 1 ? -1 : value;
    };
    const long listen_port = number_after_colon(listening);
    if (listen_port <= 0 || listen_port > 65535) return false;
    port = static_cast<std::uint16_t>(listen_port);
    const auto trace = line.find("live trace on ", listening);
    const long live_port = trace == std::string::npos ? -1 : number_after_colon(trace);
    trace_port = live_port > 0 && live_port <= 65535 ? static_cast<std::uint16_t>(live_port) : 0;
    return true;
}

bool port_in_use(std::uint16_t port) {
    const int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) return false;  // cannot tell: let the server try and report
    // SO_REUSEADDR, as servers set it: connections lingering in TIME_WAIT do not count, only a listener does.
    int on = 1;
    ::setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool in_use = ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 && errno == EADDRINUSE;
    ::close(probe);
    return in_use;
}

}  // namespace socklab::viz
