// visualizer/model/server_process.cpp — see server_process.h. POSIX fork/exec.
#include "visualizer/model/server_process.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
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

}  // namespace socklab::viz
