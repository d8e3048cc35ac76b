// cli/server_run.cpp — see server_run.h.
#ifndef _WIN32
#include "cli/server_run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "cli/commands.h"

namespace socklab::cli {

ServerRun::~ServerRun() {
    if (child_ > 0 && !exited_) {
        request_stop();
        wait([](const std::string&) {});
    }
    if (output_ >= 0) close(output_);
}

bool ServerRun::start(const std::vector<std::string>& arguments, std::string& error) {
    const std::string server = windows_program("socklab-server.exe");
    const std::string wine_run = repository_root() + "/cmake/wine-run";
    if (!std::filesystem::exists(server)) {
        error = server + " is not built yet: run ./socklab build (or cmake --preset mingw && cmake --build build/mingw)";
        return false;
    }
    // Close-on-exec: a second server started later must not inherit this one's pipes — holding a copy of its
    // standard input would keep request_stop()'s end-of-file from ever reaching it.
    int to_server[2], from_server[2];
    if (pipe2(to_server, O_CLOEXEC) != 0 || pipe2(from_server, O_CLOEXEC) != 0) {
        error = "pipe failed";
        return false;
    }
    child_ = fork();
    if (child_ < 0) {
        error = "fork failed";
        return false;
    }
    if (child_ == 0) {
        // Its own process group: a terminal's Ctrl-C reaches the CLI, which then stops the server gracefully.
        setpgid(0, 0);
        dup2(to_server[0], STDIN_FILENO);
        dup2(from_server[1], STDOUT_FILENO);
        for (int fd : {to_server[0], to_server[1], from_server[0], from_server[1]}) close(fd);
        std::vector<std::string> words{wine_run, server};
        words.insert(words.end(), arguments.begin(), arguments.end());
        words.push_back("--stop-on-stdin-eof");
        std::vector<char*> argv;
        for (std::string& word : words) argv.push_back(word.data());
        argv.push_back(nullptr);
        execv(wine_run.c_str(), argv.data());
        _exit(127);
    }
    close(to_server[0]);
    close(from_server[1]);
    input_ = to_server[1];
    output_ = from_server[0];
    return true;
}

bool ServerRun::pump(int timeout_ms, const std::function<void(const std::string&)>& on_line) {
    if (exited_) return false;
    if (output_ >= 0) {
        pollfd entry{output_, POLLIN, 0};
        if (poll(&entry, 1, timeout_ms) > 0) {
            char buffer[4096];
            ssize_t got = read(output_, buffer, sizeof buffer);
            if (got <= 0) {
                close(output_);
                output_ = -1;
            } else {
                pending_.append(buffer, static_cast<std::size_t>(got));
                std::size_t end;
                while ((end = pending_.find('\n')) != std::string::npos) {
                    on_line(pending_.substr(0, end + 1));
                    pending_.erase(0, end + 1);
                }
            }
        }
    } else {
        usleep(static_cast<useconds_t>(timeout_ms) * 1000);
    }
    if (waitpid(child_, &status_, WNOHANG) == child_) {
        exited_ = true;
        // Whatever it printed last.
        while (output_ >= 0) {
            char buffer[4096];
            ssize_t got = read(output_, buffer, sizeof buffer);
            if (got <= 0) break;
            pending_.append(buffer, static_cast<std::size_t>(got));
        }
        if (!pending_.empty()) on_line(pending_);
        pending_.clear();
        return false;
    }
    return true;
}

void ServerRun::request_stop() {
    if (input_ >= 0) {
        close(input_);
        input_ = -1;
    }
}

int ServerRun::wait(const std::function<void(const std::string&)>& on_line) {
    while (pump(100, on_line)) {
    }
    request_stop();
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    return 128 + (WIFSIGNALED(status_) ? WTERMSIG(status_) : 0);
}

}  // namespace socklab::cli
#endif
