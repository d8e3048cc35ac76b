// common/load/load.cpp — one thread, many non-blocking clients, every byte verified.
//
// Sections: line content · latency histogram · client state · the loop · summary.
#include "common/load/load.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <deque>
#include <memory>
#include <thread>

#include "common/net/socket.h"

namespace socklab::load {

using Clock = std::chrono::steady_clock;

// ---- line content -----------------------------------------------------------------------------------------
std::string line_for(unsigned client, std::uint64_t sequence, unsigned size) {
    if (size < 2) size = 2;
    std::string line = "c" + std::to_string(client) + "s" + std::to_string(sequence) + " ";
    line.resize(size - 1, ' ');
    // Fill the rest with letters from a small hash, so that a byte echoed in the wrong place is caught.
    std::uint64_t state = (static_cast<std::uint64_t>(client) << 32) ^ sequence ^ 0x9E3779B97F4A7C15ull;
    for (std::size_t i = line.find(' ') + 1; i < line.size(); ++i) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        line[i] = static_cast<char>('a' + (state >> 59) % 26);
    }
    line.push_back('\n');
    return line;
}

static bool is_work_line(const Options& options, std::uint64_t sequence) {
    return options.work_every > 0 && sequence % options.work_every == options.work_every - 1;
}

std::string request_for(const Options& options, unsigned client, std::uint64_t sequence) {
    if (is_work_line(options, sequence))
        return "/work " + std::to_string(options.work_cpu_ms) + " " + std::to_string(options.work_block_ms) + "\n";
    return line_for(client, sequence, options.line_size);
}

std::string reply_for(const Options& options, unsigned client, std::uint64_t sequence) {
    if (is_work_line(options, sequence))
        return "OK work " + std::to_string(options.work_cpu_ms) + " " + std::to_string(options.work_block_ms) + "\n";
    return line_for(client, sequence, options.line_size);
}

// ---- latency histogram ------------------------------------------------------------------------------------
// Log-linear buckets (16 per power of two): about 6% resolution, constant memory however long the run.
namespace {

class Histogram {
public:
    void add(std::uint64_t ns) {
        ++counts_[bucket(ns)];
        ++total_;
        max_ = std::max(max_, ns);
    }
    double percentile_us(double p) const {
        if (total_ == 0) return 0;
        std::uint64_t rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(total_)));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(static_cast<double>(upper(i)), static_cast<double>(max_)) / 1000.0;
        }
        return static_cast<double>(max_) / 1000.0;
    }
    double max_us() const { return static_cast<double>(max_) / 1000.0; }

private:
    static std::size_t bucket(std::uint64_t ns) {
        if (ns < 16) return static_cast<std::size_t>(ns);
        int power = 63 - std::countl_zero(ns);
        std::size_t sub = static_cast<std::size_t>((ns >> (power - 4)) & 15);
        return static_cast<std::size_t>(power - 3) * 16 + sub;
    }
    static std::uint64_t upper(std::size_t index) {
        if (index < 16) return index;
        int power = static_cast<int>(index / 16) + 3;
        std::uint64_t sub = index % 16;
        return ((16 + sub + 1) << (power - 4)) - 1;
    }
    std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(64 * 16, 0);
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

// ---- client state -----------------------------------------------------------------------------------------
struct Client {
    unsigned id = 0;
    net::Socket socket;
    bool open = false;
    std::uint64_t next_to_send = 0;     // sequence number of the next line to send
    std::uint64_t next_expected = 0;    // sequence number of the next echo
    std::deque<Clock::time_point> sent_at;  // one per line in flight
    std::string outgoing;               // bytes not yet accepted by send()
    std::size_t outgoing_offset = 0;
    std::string incoming;               // bytes of an unfinished echo
    Clock::time_point next_due;         // open loop: when the next line is due
};

struct Run {
    const Options& options;
    Result result;
    Histogram latency;
    Clock::time_point start;

    void problem(std::string text) {
        if (result.problems.size() < 10) result.problems.push_back(std::move(text));
    }

    void fail(Client& client, const std::string& what) {
        ++result.errors;
        problem("client " + std::to_string(client.id) + ": " + what);
        client.socket.close();
        client.open = false;
    }

    void queue_line(Client& client, Clock::time_point now) {
        client.outgoing += request_for(options, client.id, client.next_to_send++);
        client.sent_at.push_back(now);
        ++result.lines_sent;
    }

    void flush(Client& client) {
        while (client.open && client.outgoing_offset < client.outgoing.size()) {
            long sent = net::send_some(client.socket, client.outgoing.data() + client.outgoing_offset,
                                       client.outgoing.size() - client.outgoing_offset);
            if (sent == net::kWouldBlock) return;
            if (sent < 0) return fail(client, "send failed: " + net::error_text(net::last_error()));
            client.outgoing_offset += static_cast<std::size_t>(sent);
            result.bytes_sent += static_cast<std::uint64_t>(sent);
        }
        if (client.outgoing_offset == client.outgoing.size()) {
            client.outgoing.clear();
            client.outgoing_offset = 0;
        }
    }

    void receive(Client& client, Clock::time_point now) {
        char buffer[16384];
        for (;;) {
            long received = net::receive_some(client.socket, buffer, sizeof buffer);
            if (received == net::kWouldBlock) return;
            if (received == 0) return fail(client, "the server closed the connection");
            if (received < 0) return fail(client, "receive failed: " + net::error_text(net::last_error()));
            result.bytes_received += static_cast<std::uint64_t>(received);
            client.incoming.append(buffer, static_cast<std::size_t>(received));
            check_echoes(client, now);
            if (!client.open) return;
        }
    }

    void check_echoes(Client& client, Clock::time_point now) {
        std::size_t begin = 0, end;
        while ((end = client.incoming.find('\n', begin)) != std::string::npos) {
            std::string_view echoed(client.incoming.data() + begin, end + 1 - begin);
            begin = end + 1;
            if (client.sent_at.empty()) {
                ++result.mismatches;
                problem("client " + std::to_string(client.id) + ": a line nobody sent: " +
                        std::string(echoed.substr(0, 60)));
                continue;
            }
            std::string expected = reply_for(options, client.id, client.next_expected);
            if (echoed != expected) {
                ++result.mismatches;
                problem("client " + std::to_string(client.id) + " line " + std::to_string(client.next_expected) +
                        ": expected '" + expected.substr(0, 40) + "...', got '" +
                        std::string(echoed.substr(0, 40)) + "...'");
            } else {
                ++result.lines_echoed;
            }
            latency.add(static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(now - client.sent_at.front()).count()));
            client.sent_at.pop_front();
            ++client.next_expected;
        }
        client.incoming.erase(0, begin);
    }
};

}  // namespace

// ---- the loop ---------------------------------------------------------------------------------------------
Result run(const Options& options, const std::function<void(const Progress&)>& progress) {
    net::Startup startup;
    Run run{options, {}, {}, Clock::now()};
    std::vector<Client> clients(options.clients);
    for (unsigned i = 0; i < options.clients; ++i) {
        Client& client = clients[i];
        client.id = i + 1;
        std::string error;
        client.socket = net::connect_tcp(options.host, options.port, error);
        if (!client.socket.valid()) {
            ++run.result.errors;
            run.problem("client " + std::to_string(client.id) + ": " + error);
            continue;
        }
        net::set_nonblocking(client.socket, true);
        client.open = true;
        ++run.result.clients_connected;
    }

    const bool open_loop = options.rate > 0;
    const auto interval = open_loop ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                          static_cast<double>(options.clients) / options.rate))
                                    : Clock::duration::zero();
    run.start = Clock::now();
    const auto send_until = run.start + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(options.duration_seconds));
    auto give_up_at = send_until + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(options.drain_seconds));
    for (unsigned i = 0; i < clients.size(); ++i)  // spread open-loop clients over one interval
        clients[i].next_due = run.start + interval * i / std::max(1u, options.clients);

    auto wants_more = [&](const Client& client, Clock::time_point now) {
        if (options.lines_per_client > 0) return client.next_to_send < options.lines_per_client && now < give_up_at;
        return now < send_until;
    };

    std::vector<net::PollEntry> entries;
    std::vector<Client*> polled;
    auto next_progress = run.start;
    auto last_echo = run.start;
    for (;;) {
        auto now = Clock::now();
        bool busy = false;
        entries.clear();
        polled.clear();
        for (Client& client : clients) {
            if (!client.open) continue;
            if (open_loop) {
                while (wants_more(client, now) && client.next_due <= now && client.sent_at.size() < 10000) {
                    run.queue_line(client, now);
                    client.next_due += interval;
                }
            } else {
                while (wants_more(client, now) && client.sent_at.size() < std::max(1u, options.in_flight))
                    run.queue_line(client, now);
            }
            run.flush(client);
            if (!client.open) continue;
            bool waiting = !client.sent_at.empty();
            busy = busy || waiting || wants_more(client, now);
            if (waiting || !client.outgoing.empty()) {
                short events = net::poll_in();
                if (!client.outgoing.empty()) events |= net::poll_out();
                entries.push_back({client.socket.native(), events, 0});
                polled.push_back(&client);
            }
        }
        if (!busy || now >= give_up_at) break;
        if (progress && now >= next_progress) {
            progress({std::chrono::duration<double>(now - run.start).count(), run.result.lines_echoed,
                      run.result.clients_connected});
            next_progress = now + std::chrono::milliseconds(250);
        }
        int timeout_ms = open_loop ? 1 : 50;
        if (entries.empty()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            continue;
        }
        if (net::poll(entries.data(), entries.size(), timeout_ms) <= 0) continue;
        now = Clock::now();
        for (std::size_t i = 0; i < entries.size(); ++i) {
            Client& client = *polled[i];
            short got = entries[i].returned;
            if (got & (net::poll_in() | net::poll_error_mask())) {
                std::uint64_t before = run.result.lines_echoed;
                run.receive(client, now);
                if (run.result.lines_echoed != before) last_echo = now;
            }
            if (client.open && (got & net::poll_out())) run.flush(client);
        }
    }

    for (Client& client : clients) {
        if (client.open && !client.sent_at.empty()) {
            run.result.errors += client.sent_at.size();
            run.problem("client " + std::to_string(client.id) + ": " + std::to_string(client.sent_at.size()) +
                        " line(s) never echoed");
        }
    }
    Result& result = run.result;
    result.seconds = std::chrono::duration<double>(last_echo - run.start).count();
    result.lines_per_second = result.seconds > 0 ? static_cast<double>(result.lines_echoed) / result.seconds : 0;
    result.latency_p50_us = run.latency.percentile_us(0.50);
    result.latency_p90_us = run.latency.percentile_us(0.90);
    result.latency_p99_us = run.latency.percentile_us(0.99);
    result.latency_max_us = run.latency.max_us();
    return result;
}

// ---- summary ----------------------------------------------------------------------------------------------
static std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

std::string describe(const Options& options, const Result& result) {
    std::string text;
    text += "clients   " + std::to_string(result.clients_connected) + " of " + std::to_string(options.clients) +
            " connected, " + std::to_string(options.line_size) + "-byte lines, " +
            (options.rate > 0 ? "open loop at " + fixed(options.rate, 0) + " lines/s"
                              : "closed loop, " + std::to_string(options.in_flight) + " in flight") + "\n";
    text += "lines     " + std::to_string(result.lines_echoed) + " echoed of " + std::to_string(result.lines_sent) +
            " sent in " + fixed(result.seconds, 2) + " s: " + fixed(result.lines_per_second, 0) +
            " round trips/s\n";
    text += "latency   p50 " + fixed(result.latency_p50_us, 0) + " us, p90 " + fixed(result.latency_p90_us, 0) +
            " us, p99 " + fixed(result.latency_p99_us, 0) + " us, max " + fixed(result.latency_max_us, 0) + " us\n";
    text += "checked   " + std::to_string(result.bytes_received) + " bytes: " + std::to_string(result.mismatches) +
            " mismatches, " + std::to_string(result.errors) + " errors\n";
    for (const std::string& problem : result.problems) text += "  problem: " + problem + "\n";
    return text;
}

}  // namespace socklab::load
