// common/load/load.cpp — one thread, many non-blocking clients, every byte verified.
//
// Sections: line content · latency histogram · client state · replies · broadcast deliveries · the run, phase
// by phase (refuse, connect, join, send and check, count what never came, figures) · summary. Each client's
// socket, queued bytes, unfinished line and send times are a LineConnection (line_connection.h), the piece this
// generator shares with the visualizer's client pool.
#include "common/load/load.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>

#include "common/load/line_connection.h"
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

std::string broadcast_text_for(const Options& options, unsigned client, std::uint64_t sequence) {
    std::string text = line_for(client, sequence, options.line_size);
    text.pop_back();
    return text;
}

std::string request_for(const Options& options, unsigned client, std::uint64_t sequence) {
    if (is_work_line(options, sequence))
        return "/work " + std::to_string(options.work_cpu_ms) + " " + std::to_string(options.work_block_ms) + "\n";
    if (options.broadcast) return "/all " + broadcast_text_for(options, client, sequence) + "\n";
    return line_for(client, sequence, options.line_size);
}

std::string reply_for(const Options& options, unsigned client, std::uint64_t sequence) {
    if (is_work_line(options, sequence))
        return "OK work " + std::to_string(options.work_cpu_ms) + " " + std::to_string(options.work_block_ms) + "\n";
    if (options.broadcast) return "OK all ";
    return line_for(client, sequence, options.line_size);
}

// How many of a client's first `count` lines are broadcasts (the rest are /work lines).
static std::uint64_t broadcasts_before(const Options& options, std::uint64_t count) {
    return options.work_every > 0 ? count - count / options.work_every : count;
}

// The first line at or after `sequence` that is a broadcast (/work lines never come two in a row unless every
// line is one, and then nothing is broadcast at all).
static std::uint64_t first_broadcast_from(const Options& options, std::uint64_t sequence) {
    return is_work_line(options, sequence) && options.work_every > 1 ? sequence + 1 : sequence;
}

// The line each client sends first in broadcast mode; its echo proves the server has accepted the client.
static std::string joining_line(unsigned client) { return "c" + std::to_string(client) + " joins\n"; }

// Broadcast mode needs "c<client>s<sequence> " whole in every line, so that a delivery names its origin.
static constexpr unsigned kSmallestBroadcastLine = 24;

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
// How long one connect may take. On loopback a connect is answered at once unless the server's accept queue is
// full — then the system retries for minutes, and a capacity sweep must not wait that long.
constexpr int kConnectTimeoutMs = 5000;

struct Client {
    unsigned id = 0;
    LineConnection connection;  // its socket, queued bytes, unfinished line, send times in flight
    bool open = false;
    bool joined = false;              // broadcast mode: the echo of joining_line has come back
    std::uint64_t next_to_send = 0;   // sequence number of the next line to send
    std::uint64_t next_expected = 0;  // sequence number of the next echo
    Clock::time_point next_due;       // open loop: when the next line is due
    // Broadcast mode, one per sending client (index = its id - 1): the line after the last delivery from it.
    // 32 bits, as memory grows with the square of the clients; no run sends four billion lines per client.
    std::vector<std::uint32_t> delivered_next;
};

struct Run {
    Run(const Options& options_, std::vector<Client>& clients_) : options(options_), clients(clients_) {}
    const Options& options;
    std::vector<Client>& clients;
    Result result;
    Histogram latency, echo_latency, work_latency;
    Clock::time_point start;
    Clock::time_point last_activity;  // the last reply or delivery
    unsigned open_clients = 0;
    std::vector<std::uint32_t> connection_of;  // broadcast mode: each client's server conn-id, once seen (0: not)

    // The schedule, fixed when sending starts (start_sending).
    bool open_loop = false;        // a rate was asked for: lines go out on time, whatever the replies do
    Clock::duration interval{};    // open loop: between two lines of one client
    Clock::time_point send_until;  // the end of the duration
    Clock::time_point give_up_at;  // the end of the drain: lines not echoed by then are errors
    bool draining = false;         // every client has sent all it will send
    Clock::time_point next_progress;
    Clock::time_point next_delivery_check;

    // This round's poll set: an entry per client watched, and the client it is for.
    std::vector<net::PollEntry> entries;
    std::vector<Client*> polled;

    void problem(std::string text) {
        if (result.problems.size() < 10) result.problems.push_back(std::move(text));
    }

    void fail(Client& client, const std::string& what) {
        ++result.errors;
        problem("client " + std::to_string(client.id) + ": " + what);
        client.connection.close();
        client.open = false;
        --open_clients;
    }

    void queue_line(Client& client, Clock::time_point now) {
        client.connection.queue_request(request_for(options, client.id, client.next_to_send++), now);
        ++result.lines_sent;
    }

    void flush(Client& client) {
        if (!client.open) return;
        const long sent = client.connection.send_queued();
        if (sent < 0) return fail(client, "send failed: " + net::error_text(net::last_error()));
        result.bytes_sent += static_cast<std::uint64_t>(sent);
    }

    void receive(Client& client, Clock::time_point now) {
        for (;;) {
            const long received = client.connection.receive();
            if (received == net::kWouldBlock) return;
            if (received == 0) return fail(client, "the server closed the connection");
            if (received < 0) return fail(client, "receive failed: " + net::error_text(net::last_error()));
            result.bytes_received += static_cast<std::uint64_t>(received);
            client.connection.take_lines([&](std::string_view line) { check_line(client, line, now); });
            if (!client.open) return;
        }
    }

    // One complete line received: a delivery from another client, the echo of the joining line, or the reply to
    // this client's oldest request.
    void check_line(Client& client, std::string_view echoed, Clock::time_point now) {
        if (options.broadcast && is_delivery(echoed)) return check_delivery(client, echoed, now);
        if (!client.joined) return check_joining_echo(client, echoed);
        if (client.connection.in_flight() == 0) {
            ++result.mismatches;
            problem("client " + std::to_string(client.id) +
                    ": a line nobody sent: " + std::string(echoed.substr(0, 60)));
            return;
        }
        const bool work = is_work_line(options, client.next_expected);
        std::string expected = reply_for(options, client.id, client.next_expected);
        bool right = options.broadcast && !work ? is_broadcast_reply(echoed) : echoed == expected;
        if (!right) {
            ++result.mismatches;
            if (options.broadcast && !work) expected = "OK all <at least " + std::to_string(other_clients()) + ">";
            problem("client " + std::to_string(client.id) + " line " + std::to_string(client.next_expected) +
                    ": expected '" + expected.substr(0, 40) + "...', got '" + std::string(echoed.substr(0, 40)) +
                    "...'");
        } else {
            ++result.lines_echoed;
            last_activity = now;
        }
        auto round_trip = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - client.connection.take_oldest_send_time())
                .count());
        latency.add(round_trip);
        (work ? work_latency : echo_latency).add(round_trip);
        ++client.next_expected;
    }

    // Broadcast mode: the first line a client gets back must be the echo of its joining line.
    void check_joining_echo(Client& client, std::string_view echoed) {
        if (echoed == joining_line(client.id)) {
            client.joined = true;
            return;
        }
        ++result.mismatches;
        problem("client " + std::to_string(client.id) + ": expected the echo of '" +
                joining_line(client.id).substr(0, 20) + "...', got '" + std::string(echoed.substr(0, 40)) + "...'");
    }

    // ---- replies ------------------------------------------------------------------------------------------
    // The load clients other than one: the fewest recipients an "/all" may report. The server may count more
    // (a /stats watcher, a student's nc), never fewer.
    unsigned other_clients() const { return open_clients > 0 ? open_clients - 1 : 0; }

    bool is_broadcast_reply(std::string_view reply) const {
        constexpr std::string_view prefix = "OK all ";
        if (reply.substr(0, prefix.size()) != prefix || reply.back() != '\n') return false;
        std::string_view digits = reply.substr(prefix.size(), reply.size() - prefix.size() - 1);
        if (digits.empty() || digits.size() > 9) return false;
        unsigned recipients = 0;
        for (char digit : digits) {
            if (!std::isdigit(static_cast<unsigned char>(digit))) return false;
            recipients = recipients * 10 + static_cast<unsigned>(digit - '0');
        }
        return recipients >= other_clients();
    }

    // ---- broadcast deliveries -----------------------------------------------------------------------------
    // "<digits>: ..." — no reply starts with a digit (echoes start with 'c', the rest with "OK" or "ERR").
    static bool is_delivery(std::string_view line) {
        std::size_t digits = 0;
        while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
        return digits > 0 && line.substr(digits, 2) == ": ";
    }

    // Reads "c<client>s<sequence> " at the start of a delivered text.
    static bool parse_origin(std::string_view text, unsigned& client, std::uint64_t& sequence) {
        std::size_t at = 0;
        auto number = [&](std::uint64_t& value) {
            std::size_t first = at;
            value = 0;
            while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])) && at - first < 18)
                value = value * 10 + static_cast<std::uint64_t>(text[at++] - '0');
            return at > first;
        };
        std::uint64_t client_number = 0;
        if (text.empty() || text[at++] != 'c' || !number(client_number) || at >= text.size() || text[at++] != 's' ||
            !number(sequence) || at >= text.size() || text[at] != ' ')
            return false;
        if (client_number > 0xFFFFFFFFu) return false;
        client = static_cast<unsigned>(client_number);
        return true;
    }

    void delivery_mismatch(const Client& receiver, const std::string& what) {
        ++result.mismatches;
        ++result.delivery_mismatches;
        problem("client " + std::to_string(receiver.id) + ": " + what);
    }

    // Each sender's deliveries must reach each receiver byte-exact, in order, without a gap. A delivery past a
    // gap moves the receiver's place on, so one lost line is one mismatch and not a cascade.
    void check_delivery(Client& receiver, std::string_view line, Clock::time_point now) {
        std::string_view body = line.substr(0, line.size() - 1);
        std::size_t colon = body.find(": ");
        std::uint32_t connection = 0;
        for (std::size_t i = 0; i < colon && connection < 100000000u; ++i)
            connection = connection * 10 + static_cast<std::uint32_t>(body[i] - '0');
        std::string_view text = body.substr(colon + 2);
        unsigned sender = 0;
        std::uint64_t sequence = 0;
        if (!parse_origin(text, sender, sequence) || sender == 0 || sender > clients.size() || sender == receiver.id ||
            is_work_line(options, sequence) || sequence >= clients[sender - 1].next_to_send) {
            return delivery_mismatch(receiver,
                                     "a delivery no other load client sent: '" + std::string(body.substr(0, 50)) + "'");
        }
        std::string who = "the delivery of client " + std::to_string(sender) + "'s line " + std::to_string(sequence);
        std::uint32_t& known = connection_of[sender - 1];
        if (known == 0) known = connection;
        std::uint32_t& next = receiver.delivered_next[sender - 1];
        std::uint64_t expected = first_broadcast_from(options, next);
        std::string exact = broadcast_text_for(options, sender, sequence);
        if (connection != known) {
            delivery_mismatch(receiver, who + " came from connection " + std::to_string(connection) +
                                            ", the others from " + std::to_string(known));
        } else if (text != exact) {
            delivery_mismatch(receiver, who + " differs: expected '" + exact.substr(0, 40) + "...', got '" +
                                            std::string(text.substr(0, 40)) + "...'");
        } else if (sequence > expected) {
            delivery_mismatch(receiver,
                              who + " came before its line " + std::to_string(expected) + " (lost, or out of order)");
        } else if (sequence < expected) {
            delivery_mismatch(
                receiver, who + " came after its line " + std::to_string(expected - 1) + " (out of order, or twice)");
        } else {
            ++result.deliveries_received;
            last_activity = now;
        }
        next = std::max<std::uint32_t>(next, static_cast<std::uint32_t>(sequence + 1));
    }

    // Deliveries acknowledged to their sender ("OK all") that an open receiver has not had yet. With `settle`,
    // the run is over: each is counted as missing and an error, described, and the expected total is set.
    std::uint64_t deliveries_outstanding(bool settle) {
        std::uint64_t outstanding = 0;
        for (const Client& receiver : clients) {
            if (!receiver.open) continue;
            for (const Client& sender : clients) {
                if (&sender == &receiver) continue;
                std::uint64_t acknowledged = broadcasts_before(options, sender.next_expected);
                std::uint64_t reached = broadcasts_before(options, receiver.delivered_next[sender.id - 1]);
                if (settle) result.deliveries_expected += acknowledged;
                if (acknowledged <= reached) continue;
                outstanding += acknowledged - reached;
                if (settle)
                    problem("client " + std::to_string(receiver.id) + ": " + std::to_string(acknowledged - reached) +
                            " delivery(ies) from client " + std::to_string(sender.id) + " never came, from its line " +
                            std::to_string(first_broadcast_from(options, receiver.delivered_next[sender.id - 1])));
            }
        }
        if (settle) {
            result.deliveries_missing = outstanding;
            result.errors += outstanding;
        }
        return outstanding;
    }

    // Broadcast mode, before anyone broadcasts: each client sends one plain line and waits for its echo, which
    // proves that the server has registered it and will deliver to it. A client still waiting after
    // drain_seconds is failed; the others go on.
    void join_everyone() {
        for (Client& client : clients) {
            if (!client.open) continue;
            client.delivered_next.assign(clients.size(), 0);
            client.connection.queue_bytes(joining_line(client.id));
            flush(client);
        }
        const auto give_up_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(options.drain_seconds));
        for (;;) {
            entries.clear();
            polled.clear();
            for (Client& client : clients) {
                if (!client.open || client.joined) continue;
                watch(client);
            }
            if (entries.empty()) return;
            auto now = Clock::now();
            if (now >= give_up_at) {
                for (Client* client : polled)
                    fail(*client,
                         "the server never echoed its first line, so it may not "
                         "receive broadcasts: left out");
                return;
            }
            if (net::poll(entries.data(), entries.size(), 50) <= 0) continue;
            serve_ready(now);
        }
    }

    // ---- the run, phase by phase ---------------------------------------------------------------------------
    // run() below calls these in order: refuse what cannot be checked, connect, join (broadcast), send and
    // check until done, count what never came, and the figures.

    // Broadcast mode needs every line to name its sender and sequence whole; false (an error in the result) when
    // the lines are too short for that.
    bool lines_can_name_their_origin() {
        if (!options.broadcast || options.line_size >= kSmallestBroadcastLine) return true;
        ++result.errors;
        problem("broadcast mode needs lines of at least " + std::to_string(kSmallestBroadcastLine) +
                " bytes, so that each names its sender and sequence whole");
        return false;
    }

    // Connects the clients one after another, each within kConnectTimeoutMs. The first that cannot connect ends
    // the phase: a server that stopped accepting makes every further connect wait just as long.
    void connect_clients() {
        for (unsigned i = 0; i < clients.size(); ++i) {
            clients[i].id = i + 1;
            clients[i].joined = !options.broadcast;
        }
        for (unsigned i = 0; i < clients.size(); ++i) {
            Client& client = clients[i];
            std::string error;
            net::Socket socket = net::connect_tcp(options.host, options.port, error, kConnectTimeoutMs);
            if (!socket.valid()) {
                const unsigned untried = options.clients - i - 1;
                result.errors += options.clients - i;
                problem("client " + std::to_string(client.id) + ": " + error +
                        (untried > 0 ? "; the other " + std::to_string(untried) + " clients were not tried" : ""));
                return;
            }
            net::set_nonblocking(socket, true);
            client.connection = LineConnection(std::move(socket));
            client.open = true;
            ++open_clients;
            ++result.clients_connected;
        }
    }

    // When sending starts: the deadlines follow from the options, and open-loop clients are spread over one
    // interval so that they do not all send at once.
    void start_sending() {
        open_loop = options.rate > 0;
        interval = open_loop ? std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(options.clients) / options.rate))
                             : Clock::duration::zero();
        start = last_activity = next_progress = next_delivery_check = Clock::now();
        send_until = start + seconds(options.duration_seconds);
        give_up_at = send_until + seconds(options.drain_seconds);
        for (unsigned i = 0; i < clients.size(); ++i)
            clients[i].next_due = start + interval * i / std::max(1u, options.clients);
    }

    static Clock::duration seconds(double value) {
        return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(value));
    }

    // Whether this client has more lines to send: until it has sent --lines (within the overall bound), or
    // until the duration is over.
    bool wants_more(const Client& client, Clock::time_point now) const {
        if (options.lines_per_client > 0) return client.next_to_send < options.lines_per_client && now < give_up_at;
        return now < send_until;
    }

    // Open loop: every line due by now (at most 10,000 in flight). Closed loop: up to --in-flight lines in flight.
    void queue_due_lines(Client& client, Clock::time_point now) {
        if (open_loop) {
            while (wants_more(client, now) && client.next_due <= now && client.connection.in_flight() < 10000) {
                queue_line(client, now);
                client.next_due += interval;
            }
        } else {
            while (wants_more(client, now) && client.connection.in_flight() < std::max(1u, options.in_flight))
                queue_line(client, now);
        }
    }

    // Adds the client to the poll set: for its replies, and for room to send when bytes wait.
    void watch(Client& client) {
        short events = net::poll_in();
        if (client.connection.has_unsent()) events |= net::poll_out();
        entries.push_back({client.connection.socket().native(), events, 0});
        polled.push_back(&client);
    }

    // Reads and writes what poll() said is ready.
    void serve_ready(Clock::time_point now) {
        for (std::size_t i = 0; i < entries.size(); ++i) {
            Client& client = *polled[i];
            const short got = entries[i].returned;
            if (got & (net::poll_in() | net::poll_error_mask())) receive(client, now);
            if (client.open && (got & net::poll_out())) flush(client);
        }
    }

    // What the clients are doing after one round of queueing and sending.
    struct Activity {
        bool sending = false;  // a client still has lines to send
        bool busy = false;     // ... or waits for a reply
    };

    // Queues each open client's due lines, sends what the kernel takes, and builds the poll set for this round.
    Activity queue_and_send(Clock::time_point now) {
        Activity activity;
        entries.clear();
        polled.clear();
        for (Client& client : clients) {
            if (!client.open) continue;
            queue_due_lines(client, now);
            flush(client);
            if (!client.open) continue;
            const bool waiting = client.connection.in_flight() > 0;
            activity.sending = activity.sending || wants_more(client, now);
            activity.busy = activity.busy || waiting || activity.sending;
            // In broadcast mode deliveries may come at any time, and a client that stopped reading them would in
            // the end stall the server's sends to it.
            if (waiting || client.connection.has_unsent() || options.broadcast) watch(client);
        }
        return activity;
    }

    // With --lines, sending may be over long before the duration: the drain is counted from the moment it is.
    void drain_from(Clock::time_point now) {
        if (draining) return;
        draining = true;
        give_up_at = std::min(give_up_at, now + seconds(options.drain_seconds));
    }

    // Whether to go on after this round: while lines are on their way (and, in broadcast mode, deliveries), until
    // the drain runs out.
    bool goes_on(bool busy, Clock::time_point now) {
        if (!busy && options.broadcast) {  // sending is over: still busy while deliveries are on their way
            busy = now < next_delivery_check || deliveries_outstanding(false) > 0;
            if (!(now < next_delivery_check)) next_delivery_check = now + std::chrono::milliseconds(5);
        }
        return busy && now < give_up_at;
    }

    void report_progress(const std::function<void(const Progress&)>& progress, Clock::time_point now) {
        if (!progress || now < next_progress) return;
        progress({std::chrono::duration<double>(now - start).count(), result.lines_echoed, result.clients_connected,
                  result.deliveries_received});
        next_progress = now + std::chrono::milliseconds(250);
    }

    // Waits up to a round's time for any polled socket, then serves those that are ready.
    void wait_for_sockets() {
        if (entries.empty()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            return;
        }
        if (net::poll(entries.data(), entries.size(), open_loop ? 1 : 50) <= 0) return;
        serve_ready(Clock::now());
    }

    // Sends and checks, round after round, until every line is answered or the drain runs out.
    void send_and_check(const std::function<void(const Progress&)>& progress) {
        start_sending();
        for (;;) {
            const auto now = Clock::now();
            const Activity activity = queue_and_send(now);
            if (!activity.sending) drain_from(now);
            if (!goes_on(activity.busy, now)) return;
            report_progress(progress, now);
            wait_for_sockets();
        }
    }

    // After the last round: every line an open client still waits for was never echoed, and in broadcast mode
    // every acknowledged delivery not made is missing. Each is an error, described.
    void count_what_never_came() {
        for (const Client& client : clients) {
            const std::size_t unanswered = client.connection.in_flight();
            if (!client.open || unanswered == 0) continue;
            result.errors += unanswered;
            problem("client " + std::to_string(client.id) + ": " + std::to_string(unanswered) +
                    " line(s) never echoed");
        }
        if (options.broadcast) deliveries_outstanding(true);
    }

    // Throughput over the time from the first send to the last reply or delivery, and the latency percentiles.
    Result figures() {
        result.seconds = std::chrono::duration<double>(last_activity - start).count();
        result.lines_per_second = result.seconds > 0 ? static_cast<double>(result.lines_echoed) / result.seconds : 0;
        result.deliveries_per_second =
            result.seconds > 0 ? static_cast<double>(result.deliveries_received) / result.seconds : 0;
        result.latency_p50_us = latency.percentile_us(0.50);
        result.latency_p90_us = latency.percentile_us(0.90);
        result.latency_p99_us = latency.percentile_us(0.99);
        result.latency_max_us = latency.max_us();
        result.echo_latency_p50_us = echo_latency.percentile_us(0.50);
        result.echo_latency_p90_us = echo_latency.percentile_us(0.90);
        result.echo_latency_p99_us = echo_latency.percentile_us(0.99);
        result.echo_latency_max_us = echo_latency.max_us();
        result.work_latency_p50_us = work_latency.percentile_us(0.50);
        result.work_latency_p99_us = work_latency.percentile_us(0.99);
        result.work_latency_max_us = work_latency.max_us();
        return result;
    }
};

}  // namespace

// ---- the run ----------------------------------------------------------------------------------------------
Result run(const Options& options, const std::function<void(const Progress&)>& progress) {
    net::Startup startup;
    std::vector<Client> clients(options.clients);
    Run run(options, clients);
    if (!run.lines_can_name_their_origin()) return run.result;
    run.connect_clients();
    if (options.broadcast) {
        run.connection_of.assign(clients.size(), 0);
        run.join_everyone();
    }
    run.send_and_check(progress);
    run.count_what_never_came();
    return run.figures();
}

// ---- summary ----------------------------------------------------------------------------------------------
static std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

std::string describe(const Options& options, const Result& result) {
    std::string text;
    text +=
        "clients   " + std::to_string(result.clients_connected) + " of " + std::to_string(options.clients) +
        " connected, " + std::to_string(options.line_size) + "-byte lines, " +
        (options.rate > 0 ? "open loop at " + fixed(options.rate, 0) + " lines/s"
                          : "closed loop, " + std::to_string(options.in_flight) + " in flight") +
        (options.broadcast ? ", each line broadcast (/all)" : "") +
        (options.work_every > 0 ? ", 1 line in " + std::to_string(options.work_every) + " is /work " +
                                      std::to_string(options.work_cpu_ms) + " " + std::to_string(options.work_block_ms)
                                : "") +
        "\n";
    text += "lines     " + std::to_string(result.lines_echoed) + (options.broadcast ? " answered" : " echoed") +
            " of " + std::to_string(result.lines_sent) + " sent in " + fixed(result.seconds, 2) +
            " s: " + fixed(result.lines_per_second, 0) + " round trips/s\n";
    if (options.broadcast)
        text += "deliver   " + std::to_string(result.deliveries_received) + " of " +
                std::to_string(result.deliveries_expected) + " expected: " + fixed(result.deliveries_per_second, 0) +
                " deliveries/s; " + std::to_string(result.deliveries_missing) + " missing, " +
                std::to_string(result.delivery_mismatches) + " wrong or out of order\n";
    auto percentiles = [](double p50, double p90, double p99, double max) {
        return "p50 " + fixed(p50, 0) + " us, " + (p90 >= 0 ? "p90 " + fixed(p90, 0) + " us, " : "") + "p99 " +
               fixed(p99, 0) + " us, max " + fixed(max, 0) + " us\n";
    };
    text += "latency   " +
            percentiles(result.latency_p50_us, result.latency_p90_us, result.latency_p99_us, result.latency_max_us);
    if (options.work_every > 0) {
        text += "  others  " + percentiles(result.echo_latency_p50_us, result.echo_latency_p90_us,
                                           result.echo_latency_p99_us, result.echo_latency_max_us);
        text += "  /work   " +
                percentiles(result.work_latency_p50_us, -1, result.work_latency_p99_us, result.work_latency_max_us);
    }
    text += "checked   " + std::to_string(result.bytes_received) + " bytes: " + std::to_string(result.mismatches) +
            " mismatches, " + std::to_string(result.errors) + " errors\n";
    for (const std::string& problem : result.problems) text += "  problem: " + problem + "\n";
    return text;
}

}  // namespace socklab::load
