// visualizer/model/server_process.cpp — see server_process.h.
#include "visualizer/model/server_process.h"

#include <cstdlib>

#include "common/net/socket.h"

namespace socklab::viz {

bool ServerProcess::start(const std::string& root, const std::vector<std::string>& server_arguments,
                          std::string& error) {
    const std::vector<std::string> command = process::server_command(root, server_arguments, error);
    if (command.empty() || !process_.start(command, {/*merge_stderr=*/true}, error)) return false;
    started_ = std::chrono::steady_clock::now();
    return true;
}

void ServerProcess::keep(const std::string& line) {
    output_.push_back(line.back() == '\n' ? line.substr(0, line.size() - 1) : line);
    if (output_.size() > 200) output_.erase(output_.begin(), output_.end() - 200);
}

void ServerProcess::poll() {
    process_.pump(0, [this](const std::string& line) { keep(line); });
}

void ServerProcess::stop() {
    process_.stop(std::chrono::seconds(5), [this](const std::string& line) { keep(line); });
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
    static net::Startup startup;
    // A listener of our own on the port: its bind fails when something listens there already. (On Linux it sets
    // SO_REUSEADDR, as servers do, so connections lingering in TIME_WAIT do not count.)
    std::string error;
    const net::Socket probe = net::listen_tcp("127.0.0.1", port, error);
    return !probe.valid() && error.rfind("bind ", 0) == 0;
}

}  // namespace socklab::viz
