// common/process/child_process.cpp — see child_process.h. Two halves, one per system, with the same steps:
// make the pipes, start the child in its own group, read its lines, notice its exit, stop it.
#include "common/process/child_process.h"

#include "common/catalog/models.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <thread>

#ifdef _WIN32
#include <windows.h>
#else
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace socklab::process {

namespace {

// Passes each whole line of `pending` on, keeping the unterminated rest.
void pass_whole_lines(std::string& pending, const LineHandler& on_line) {
    std::size_t end;
    while ((end = pending.find('\n')) != std::string::npos) {
        if (on_line) on_line(pending.substr(0, end + 1));
        pending.erase(0, end + 1);
    }
}

std::string joined(const std::vector<std::string>& words) {
    std::string line;
    for (const std::string& word : words) line += (line.empty() ? "" : " ") + word;
    return line;
}

}  // namespace

ChildProcess::~ChildProcess() {
    if (running()) stop(std::chrono::seconds(5), nullptr);
}

int ChildProcess::stop(std::chrono::milliseconds grace, const LineHandler& on_line, bool* forced) {
    if (forced) *forced = false;
    if (!started_) return exit_code_;
    close_input();
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (!exited_ && std::chrono::steady_clock::now() < deadline) pump(50, on_line);
    if (!exited_) {
        if (forced) *forced = true;
        kill_all();
        while (pump(50, on_line)) {}
    }
    return exit_code_;
}

#ifdef _WIN32
// ---- Windows: CreateProcess with inherited pipe ends, in a kill-on-close job --------------------------------

namespace {

std::wstring wide(const std::string& text) {
    if (text.empty()) return {};
    const int size = MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0);
    std::wstring result(static_cast<std::size_t>(size), L'\0');
    MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), result.data(), size);
    return result;
}

std::string last_error_text(const char* what) {
    const DWORD code = GetLastError();
    char text[512] = {};
    FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, code, 0, text, sizeof text,
                   nullptr);
    std::string message = std::string(what) + " failed (error " + std::to_string(code) + "): " + text;
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
    return message;
}

// One argument as the child's C runtime will split it back out of the command line (CommandLineToArgvW's
// rules): quoted when it has spaces or quotes; backslashes doubled only where they precede a quote.
std::wstring quoted(const std::wstring& argument) {
    if (!argument.empty() && argument.find_first_of(L" \t\"") == std::wstring::npos) return argument;
    std::wstring result = L"\"";
    std::size_t backslashes = 0;
    for (wchar_t c : argument) {
        if (c == L'\\') {
            ++backslashes;
            continue;
        }
        result.append(c == L'"' ? backslashes * 2 + 1 : backslashes, L'\\');
        backslashes = 0;
        result += c;
    }
    result.append(backslashes * 2, L'\\');
    return result + L"\"";
}

void close_handle(void*& handle) {
    if (handle) CloseHandle(handle);
    handle = nullptr;
}

}  // namespace

bool ChildProcess::start(const std::vector<std::string>& command, const LaunchOptions& options, std::string& error) {
    if (command.empty()) {
        error = "no program to start";
        return false;
    }
    command_line_ = joined(command);
    // Two pipes. The child's ends are inheritable; ours are not, so a second child started later cannot hold
    // this one's standard input open (its end-of-file is the stop request).
    SECURITY_ATTRIBUTES inheritable{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    HANDLE child_input = nullptr, our_input = nullptr, our_output = nullptr, child_output = nullptr;
    if (!CreatePipe(&child_input, &our_input, &inheritable, 0) ||
        !CreatePipe(&our_output, &child_output, &inheritable, 0)) {
        error = last_error_text("CreatePipe");
        for (HANDLE handle : {child_input, our_input, our_output, child_output})
            if (handle) CloseHandle(handle);
        return false;
    }
    SetHandleInformation(our_input, HANDLE_FLAG_INHERIT, 0);
    SetHandleInformation(our_output, HANDLE_FLAG_INHERIT, 0);

    STARTUPINFOW startup{};
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = child_input;
    startup.hStdOutput = child_output;
    startup.hStdError = options.merge_stderr ? child_output : GetStdHandle(STD_ERROR_HANDLE);

    std::wstring line;
    for (const std::string& word : command) line += (line.empty() ? L"" : L" ") + quoted(wide(word));
    PROCESS_INFORMATION info{};
    // Suspended until it is in the job, so nothing it starts can escape the job. Its own process group: a
    // console's Ctrl-C reaches us, and we stop it gracefully.
    const BOOL created = CreateProcessW(nullptr, line.data(), nullptr, nullptr, TRUE,
                                        CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP, nullptr, nullptr, &startup, &info);
    CloseHandle(child_input);
    CloseHandle(child_output);
    if (!created) {
        error = last_error_text(("CreateProcess " + command[0]).c_str());
        CloseHandle(our_input);
        CloseHandle(our_output);
        return false;
    }
    // No orphans: the job ends its processes when its last handle closes — ours, however this process ends.
    HANDLE job = CreateJobObjectW(nullptr, nullptr);
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (!job || !SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits) ||
        !AssignProcessToJobObject(job, info.hProcess)) {
        // Still usable (stop() terminates it), but it would outlive a crash of ours: say so once.
        std::fprintf(stderr, "socklab: %s; %s may outlive this program if it crashes\n",
                     last_error_text("job object").c_str(), command[0].c_str());
        if (job) CloseHandle(job);
        job = nullptr;
    }
    ResumeThread(info.hThread);
    CloseHandle(info.hThread);
    process_ = info.hProcess;
    job_ = job;
    input_ = our_input;
    output_ = our_output;
    id_ = info.dwProcessId;
    started_ = true;
    exited_ = false;
    return true;
}

bool ChildProcess::poll_exit() {
    if (exited_) return true;
    if (WaitForSingleObject(process_, 0) != WAIT_OBJECT_0) return false;
    DWORD code = 0;
    GetExitCodeProcess(process_, &code);
    exit_code_ = static_cast<int>(code);
    exited_ = true;
    return true;
}

bool ChildProcess::pump(int timeout_ms, const LineHandler& on_line) {
    if (!started_) return false;
    // A pipe has no poll() on Windows: peek at what is waiting, read that much, and nap briefly between looks.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        const bool gone = poll_exit();  // before reading, so what it printed last is read below
        bool read_something = false;
        DWORD waiting = 0;
        while (output_ && PeekNamedPipe(output_, nullptr, 0, nullptr, &waiting, nullptr) && waiting > 0) {
            char buffer[4096];
            DWORD got = 0;
            if (!ReadFile(output_, buffer, waiting < sizeof buffer ? waiting : sizeof buffer, &got, nullptr) ||
                got == 0)
                break;
            pending_.append(buffer, got);
            read_something = true;
        }
        pass_whole_lines(pending_, on_line);
        if (gone) {
            if (!pending_.empty() && on_line) on_line(pending_);
            pending_.clear();
            close_handle(input_);
            close_handle(output_);
            return false;
        }
        if (read_something || std::chrono::steady_clock::now() >= deadline) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void ChildProcess::close_input() { close_handle(input_); }

void ChildProcess::kill_all() {
    std::fprintf(stderr, "socklab: %s did not stop in time; ending it\n", command_line_.c_str());
    if (job_) TerminateJobObject(job_, 1);
    TerminateProcess(process_, 1);
    WaitForSingleObject(process_, 5000);
}

#else
// ---- Linux: fork and exec, pipes, a process group of its own, the parent-death signal ------------------------

bool ChildProcess::start(const std::vector<std::string>& command, const LaunchOptions& options, std::string& error) {
    if (command.empty()) {
        error = "no program to start";
        return false;
    }
    command_line_ = joined(command);
    // Close-on-exec: a second child started later must not inherit this one's pipes — holding a copy of its
    // standard input would keep close_input()'s end-of-file from ever reaching it.
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        return false;
    }
    if (pipe2(from_child, O_CLOEXEC) != 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        close(to_child[0]);
        close(to_child[1]);
        return false;
    }
    std::vector<std::string> words = command;
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);

    const pid_t parent = getpid();
    const pid_t child = fork();
    if (child < 0) {
        error = std::string("fork: ") + std::strerror(errno);
        for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) close(fd);
        return false;
    }
    if (child == 0) {
        // Its own process group: a terminal's Ctrl-C reaches us, and we stop it gracefully; kill_all() reaches
        // whatever it started (Wine's processes) through the group.
        setpgid(0, 0);
        // No orphans: when we die, however we die, the kernel sends it SIGTERM. The setting survives exec; a
        // parent already gone before it was made is handled by the getppid() check.
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);
        dup2(to_child[0], STDIN_FILENO);
        dup2(from_child[1], STDOUT_FILENO);
        if (options.merge_stderr) dup2(from_child[1], STDERR_FILENO);
        execv(argv[0], argv.data());
        const std::string message = std::string("cannot start ") + argv[0] + ": " + std::strerror(errno) + "\n";
        [[maybe_unused]] auto ignored =
            write(options.merge_stderr ? STDOUT_FILENO : STDERR_FILENO, message.data(), message.size());
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    input_ = to_child[1];
    output_ = from_child[0];
    id_ = static_cast<std::uint32_t>(child);
    started_ = true;
    exited_ = false;
    return true;
}

bool ChildProcess::poll_exit() {
    if (exited_) return true;
    int status = 0;
    if (waitpid(static_cast<pid_t>(id_), &status, WNOHANG) != static_cast<pid_t>(id_)) return false;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    exited_ = true;
    return true;
}

bool ChildProcess::pump(int timeout_ms, const LineHandler& on_line) {
    if (!started_) return false;
    // The exit is noticed through waitpid, never through the pipe alone: a persistent wineserver the child
    // started may hold the pipe open long after the child is gone.
    const bool gone_before = poll_exit();
    if (output_ >= 0) {
        pollfd entry{output_, POLLIN, 0};
        if (poll(&entry, 1, gone_before ? 0 : timeout_ms) > 0) {
            char buffer[4096];
            const ssize_t got = read(output_, buffer, sizeof buffer);
            if (got <= 0) {
                close(output_);
                output_ = -1;
            } else {
                pending_.append(buffer, static_cast<std::size_t>(got));
            }
        }
    } else if (!gone_before) {
        std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    }
    pass_whole_lines(pending_, on_line);
    if (!poll_exit()) return true;
    // Whatever it printed last, without waiting on a pipe someone else may still hold.
    for (;;) {
        if (output_ < 0) break;
        pollfd entry{output_, POLLIN, 0};
        if (poll(&entry, 1, 0) <= 0) break;
        char buffer[4096];
        const ssize_t got = read(output_, buffer, sizeof buffer);
        if (got <= 0) break;
        pending_.append(buffer, static_cast<std::size_t>(got));
    }
    pass_whole_lines(pending_, on_line);
    if (!pending_.empty() && on_line) on_line(pending_);
    pending_.clear();
    close_input();
    if (output_ >= 0) close(output_);
    output_ = -1;
    return false;
}

void ChildProcess::close_input() {
    if (input_ >= 0) close(input_);
    input_ = -1;
}

void ChildProcess::kill_all() {
    std::fprintf(stderr, "socklab: %s did not stop in time; ending it\n", command_line_.c_str());
    kill(-static_cast<pid_t>(id_), SIGKILL);  // the group it leads: the child and what it started
}
#endif

// ---- where the programs are ----------------------------------------------------------------------------------

std::string this_program_folder() {
#ifdef _WIN32
    wchar_t path[MAX_PATH * 4];
    const DWORD length = GetModuleFileNameW(nullptr, path, static_cast<DWORD>(std::size(path)));
    return std::filesystem::path(std::wstring(path, length)).parent_path().string();
#else
    std::error_code error;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    return error ? std::filesystem::current_path().string() : self.parent_path().string();
#endif
}

std::string native_server_program(const std::string& root) {
#ifdef _WIN32
    (void)root;  // beside this program, wherever the zip was unpacked
    return (std::filesystem::path(this_program_folder()) / "socklab-server.exe").string();
#else
    return root + "/build/linux/models/socklab-server";
#endif
}

std::vector<std::string> listed_models(const std::string& program) {
    std::error_code missing;
    if (!std::filesystem::exists(program, missing)) return {};
    ChildProcess lister;
    std::string ignored;
    if (!lister.start({program, "--list"}, {}, ignored)) return {};
    std::vector<std::string> ids;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto take = [&](const std::string& line) {
        const std::string id = line.substr(0, line.find_first_of(" \t\r\n"));
        if (!id.empty()) ids.push_back(id);
    };
    while (lister.pump(100, take))
        if (std::chrono::steady_clock::now() > deadline) break;  // the destructor ends it
    return lister.exited() && lister.exit_code() == 0 ? ids : std::vector<std::string>{};
}

std::vector<std::string> server_command(const std::string& root, const std::vector<std::string>& arguments,
                                        std::string& error) {
    // Which program runs it: the model named decides (common/catalog/models.h). With none named (--list, --help,
    // a model nobody knows), the platform's usual server answers, as it always did.
    const catalog::KnownModel* model = catalog::model_in(arguments);
    std::vector<std::string> command;
#ifdef _WIN32
    (void)root;
    if (model && model->platform == catalog::Platform::Linux) {
        error = std::string(model->id) + " is a Linux model: run it from socklab on Linux";
        return {};
    }
    const std::string server = native_server_program(root);
    if (!std::filesystem::exists(server)) {
        error = server + " is missing: it belongs beside " + this_program_folder() + "'s other socklab programs";
        return {};
    }
    command = {server};
#else
    if (model && model->platform == catalog::Platform::Linux) {
        // A Linux model runs natively: no Wine, the server the linux preset builds.
        const std::string server = native_server_program(root);
        const std::string build = " (cmake --build build/linux --target socklab-server)";
        if (!std::filesystem::exists(server)) {
            error = server + " is not built yet" + build;
            return {};
        }
        // Asked before it starts, so a model still being written is said at once, as the server itself says it.
        const std::vector<std::string> built = listed_models(server);
        if (!built.empty() && std::find(built.begin(), built.end(), model->id) == built.end()) {
            error = "no model '" + std::string(model->id) + "' in " + server + ": " + model->file +
                    " is not built yet" + build;
            return {};
        }
        command = {server};
    } else {
        const std::string server = root + "/build/mingw/bin/socklab-server.exe";
        if (!std::filesystem::exists(server)) {
            error = server +
                    " is not built yet: run ./socklab build (or cmake --preset mingw && cmake --build build/mingw)";
            return {};
        }
        command = {root + "/cmake/wine-run", server};
    }
#endif
    command.insert(command.end(), arguments.begin(), arguments.end());
    command.push_back("--stop-on-stdin-eof");
    return command;
}

}  // namespace socklab::process
