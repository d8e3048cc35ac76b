// common/trace/sinks.cpp — where recorded bytes go: a file, or viewers connected over TCP.
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "common/net/socket.h"
#include "common/trace/recorder.h"

namespace socklab::trace {

namespace detail {
std::string metadata_so_far();
}

namespace {

// ---- file sink --------------------------------------------------------------------------------------------
class FileSink final : public Sink {
public:
    explicit FileSink(const std::string& path) : file_(std::fopen(path.c_str(), "wb")) {
        if (!file_) throw std::runtime_error("cannot create trace file '" + path + "'");
    }
    ~FileSink() override { std::fclose(file_); }
    void write(const char* data, std::size_t size) override { std::fwrite(data, 1, size, file_); }
    void flush() override { std::fflush(file_); }

private:
    std::FILE* file_;
};

// ---- live sink --------------------------------------------------------------------------------------------
// One thread accepts viewers and reads their control lines; the collector thread writes to them. A viewer
// that has just connected is first sent everything a viewer needs (header, sites, threads, info), so it
// decodes the stream from its very first byte.
std::atomic<std::uint16_t> g_live_port{0};

class LiveSink final : public Sink {
public:
    LiveSink(const std::string& address, std::uint16_t port) {
        std::string error;
        listener_ = net::listen_tcp(address, port, error, 16);
        if (!listener_.valid()) throw std::runtime_error("trace port: " + error);
        g_live_port = net::local_port(listener_);
        thread_ = std::thread([this] { serve(); });
    }

    ~LiveSink() override {
        stopping_ = true;
        thread_.join();
        g_live_port = 0;
    }

    void write(const char* data, std::size_t size) override {
        std::lock_guard lock(mutex_);
        for (auto& viewer : viewers_) {
            if (!viewer.joined) {
                std::string metadata = detail::metadata_so_far();
                viewer.joined = true;
                viewer.streaming = net::send_all(*viewer.socket, metadata.data(), metadata.size());
            }
            if (viewer.streaming && !net::send_all(*viewer.socket, data, size)) viewer.streaming = false;
        }
    }

private:
    struct Viewer {
        std::shared_ptr<net::Socket> socket;
        std::string partial_line;
        bool joined = false;     // has been sent the metadata so far
        bool streaming = false;  // false once a send failed: the viewer is gone or hopelessly behind
    };

    void serve() {
        while (!stopping_) {
            std::vector<net::PollEntry> entries;
            entries.push_back({listener_.native(), net::poll_in(), 0});
            {
                std::lock_guard lock(mutex_);
                for (auto& viewer : viewers_) entries.push_back({viewer.socket->native(), net::poll_in(), 0});
            }
            if (net::poll(entries.data(), entries.size(), 50) <= 0) continue;
            if (entries[0].returned & net::poll_in()) accept_viewer();
            for (std::size_t i = 1; i < entries.size(); ++i)
                if (entries[i].returned & (net::poll_in() | net::poll_error_mask())) read_controls(entries[i].socket);
        }
        std::lock_guard lock(mutex_);
        viewers_.clear();
    }

    void accept_viewer() {
        net::Socket socket = net::accept_client(listener_);
        if (!socket.valid()) return;
        net::set_no_delay(socket, true);
        std::lock_guard lock(mutex_);
        Viewer viewer;
        viewer.socket = std::make_shared<net::Socket>(std::move(socket));
        viewers_.push_back(viewer);
    }

    void read_controls(net::NativeSocket native) {
        std::lock_guard lock(mutex_);
        for (auto it = viewers_.begin(); it != viewers_.end(); ++it) {
            if (it->socket->native() != native) continue;
            char buffer[512];
            long received = net::receive_some(*it->socket, buffer, sizeof buffer);
            if (received <= 0) {  // the viewer left: forget it (the collector skips it from now on)
                viewers_.erase(it);
                if (viewers_.empty()) {
                    // Nobody is watching any more: a gate left on would hold the server's workers for ever.
                    gate_enable(false);
                    set_slow_motion(0);
                }
                return;
            }
            it->partial_line.append(buffer, static_cast<std::size_t>(received));
            std::size_t end;
            while ((end = it->partial_line.find('\n')) != std::string::npos) {
                std::string line = it->partial_line.substr(0, end);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                it->partial_line.erase(0, end + 1);
                apply_control(line);
            }
            if (it->partial_line.size() > 1024) it->partial_line.clear();  // not a control line: ignore
            return;
        }
    }

    net::Socket listener_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::vector<Viewer> viewers_;
};

}  // namespace

std::unique_ptr<Sink> make_file_sink(const std::string& path) { return std::make_unique<FileSink>(path); }

std::unique_ptr<Sink> make_live_sink(const std::string& address, std::uint16_t port) {
    return std::make_unique<LiveSink>(address, port);
}

std::uint16_t live_port() { return g_live_port; }

}  // namespace socklab::trace
