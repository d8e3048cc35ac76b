// common/kernel_queue/scenario.cpp — reads the scenario text form (scenario.h) and plays it on the model.
//
// Sections: words and numbers · the player · setup · actions · expectations
#include "common/kernel_queue/scenario.h"

#include <charconv>
#include <utility>

namespace socklab::kernel_queue {

// ---- words and numbers ------------------------------------------------------------------------------------------

std::vector<std::string> scenario_words(std::string_view line) {
    const auto comment = line.find('#');
    if (comment != std::string_view::npos) line = line.substr(0, comment);
    std::vector<std::string> words;
    std::size_t position = 0;
    while (position < line.size()) {
        while (position < line.size() && (line[position] == ' ' || line[position] == '\t' || line[position] == '\r'))
            ++position;
        std::size_t end = position;
        while (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '\r') ++end;
        if (end > position) words.emplace_back(line.substr(position, end - position));
        position = end;
    }
    return words;
}

namespace {

// A whole non-negative number, or a ModelError naming what the number was for.
unsigned parse_number(const std::string& word, std::string_view what) {
    unsigned value = 0;
    const char* end = word.data() + word.size();
    const auto [stopped_at, error] = std::from_chars(word.data(), end, value);
    if (error != std::errc() || stopped_at != end || word.empty())
        throw ModelError(std::string(what) + ": '" + word + "' is not a whole number");
    return value;
}

// "bytes=512" -> true with value 512 when the word starts with "bytes=".
bool parse_option(const std::string& word, std::string_view name, unsigned& value) {
    if (word.size() <= name.size() + 1 || word.compare(0, name.size(), name) != 0 || word[name.size()] != '=')
        return false;
    value = parse_number(word.substr(name.size() + 1), name);
    return true;
}

void require_word_count(const std::vector<std::string>& words, std::size_t at_least, std::size_t at_most,
                        std::string_view usage) {
    if (words.size() < at_least || words.size() > at_most) throw ModelError("usage: " + std::string(usage));
}

std::string join(const std::vector<std::string>& words, const char* when_empty) {
    if (words.empty()) return when_empty;
    std::string text;
    for (const std::string& word : words) text += (text.empty() ? "" : " ") + word;
    return text;
}

}  // namespace

// ---- the player ---------------------------------------------------------------------------------------------------

ScenarioPlayer::ScenarioPlayer(std::string_view text) {
    int number = 1;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        lines_.push_back(ScenarioLine{number++, std::string(text.substr(start, end - start))});
        start = end + 1;
    }
    skip_lines_without_commands();
}

void ScenarioPlayer::skip_lines_without_commands() {
    while (next_ < lines_.size() && scenario_words(lines_[next_].text).empty()) ++next_;
}

bool ScenarioPlayer::finished() const { return run_.stopped_by_error() || next_ >= lines_.size(); }

const ScenarioLine* ScenarioPlayer::next_line() const { return finished() ? nullptr : &lines_[next_]; }

bool ScenarioPlayer::play_next_line() {
    if (finished()) {
        start_model_if_needed();  // a scenario of setup lines only still yields the port it describes
        return false;
    }
    const ScenarioLine& line = lines_[next_++];
    // A line that starts the model (the first thread or action) also owns the model's opening sentence.
    const std::size_t explanations_before = model_started_ ? run_.model.explanations().size() : 0;
    const std::size_t failures_before = run_.failed_expectations.size();
    const std::size_t releases_before = model_started_ ? run_.model.releases().size() : 0;
    const std::vector<std::string> words = scenario_words(line.text);
    const bool is_action = words.front() != "expect" && words.front() != "processors" && words.front() != "concurrency";
    try {
        apply(line, words);
    } catch (const ModelError& error) {
        run_.error = "line " + std::to_string(line.number) + ": " + error.what();
    }
    if (is_action) {  // `expect released` checks the releases of the most recent action line
        released_by_last_action_.clear();
        const auto& releases = run_.model.releases();
        for (std::size_t i = releases_before; i < releases.size(); ++i)
            released_by_last_action_.push_back(run_.model.thread(releases[i].thread).name);
    }
    ScenarioLineOutcome outcome{line, {}, false, false};
    if (words.front() == "expect") {
        outcome.is_expectation = true;
        outcome.expectation_met = !run_.stopped_by_error() && run_.failed_expectations.size() == failures_before;
    }
    const auto& explanations = run_.model.explanations();
    if (model_started_)  // setup lines only change the options of a port not created yet
        for (std::size_t i = explanations_before; i < explanations.size(); ++i)
            outcome.explanations.push_back(explanations[i].text);
    run_.lines.push_back(std::move(outcome));
    skip_lines_without_commands();
    if (finished()) start_model_if_needed();
    return !run_.stopped_by_error();
}

void ScenarioPlayer::play_to_end() {
    while (play_next_line()) {}
}

ScenarioRun run_scenario(std::string_view text) {
    ScenarioPlayer player(text);
    player.play_to_end();
    return player.run();
}

void ScenarioPlayer::start_model_if_needed() {
    if (model_started_) return;
    model_started_ = true;
    run_.model = CompletionPortModel(options_);
}

void ScenarioPlayer::apply(const ScenarioLine& line, const std::vector<std::string>& words) {
    const std::string& command = words.front();
    if (command == "processors" || command == "concurrency") return apply_setup(words);
    if (command == "expect") return apply_expectation(line, words);

    start_model_if_needed();
    CompletionPortModel& model = run_.model;

    // ---- threads ----
    if (command == "threads") {
        require_word_count(words, 2, 2, "threads N");
        const unsigned count = parse_number(words[1], "threads");
        for (unsigned added = 0; added < count;) {
            const std::string name = "w" + std::to_string(next_worker_number_++);
            bool taken = false;
            for (const ModelThread& thread : model.threads()) taken = taken || thread.name == name;
            if (taken) continue;  // a thread was added by hand under this name: use the next number
            model.add_thread(name, "worker");
            ++added;
        }
        return;
    }
    if (command == "thread") {
        require_word_count(words, 2, 3, "thread NAME [ROLE]");
        model.add_thread(words[1], words.size() == 3 ? words[2] : "worker");
        return;
    }

    // ---- actions ----
    if (command == "wait" || command == "done") {
        // `count=N`: the threads call GetQueuedCompletionStatusEx with ulCount N instead (rule 7).
        std::vector<ThreadIndex> threads;
        unsigned max_entries = 0;
        for (std::size_t i = 1; i < words.size(); ++i) {
            if (parse_option(words[i], "count", max_entries)) {
                if (max_entries == 0) throw ModelError(command + ": count=0: ulCount must be at least 1");
                continue;
            }
            threads.push_back(model.thread_named(words[i]));
        }
        if (threads.empty()) throw ModelError("usage: " + command + " NAME... [count=N]");
        for (const ThreadIndex thread : threads) {
            if (command == "wait" && max_entries == 0) model.thread_calls_get_queued_completion_status(thread);
            else if (command == "wait") model.thread_calls_get_queued_completion_status_ex(thread, max_entries);
            else if (max_entries == 0) model.thread_finishes_packet(thread);
            else model.thread_finishes_packets_ex(thread, max_entries);
        }
        return;
    }
    if (command == "timeout") {
        require_word_count(words, 2, words.size() + 1, "timeout NAME...");
        for (std::size_t i = 1; i < words.size(); ++i) model.thread_wait_times_out(model.thread_named(words[i]));
        return;
    }
    if (command == "close") {
        require_word_count(words, 1, 1, "close");
        model.close_port();
        return;
    }
    if (command == "post") {
        unsigned count = 1;
        unsigned bytes = 64;
        unsigned connection = 0;
        for (std::size_t i = 1; i < words.size(); ++i) {
            if (parse_option(words[i], "bytes", bytes) || parse_option(words[i], "connection", connection)) continue;
            if (i == 1) {
                count = parse_number(words[i], "post");
                continue;
            }
            throw ModelError("usage: post [COUNT] [bytes=N] [connection=N]");
        }
        for (unsigned posted = 0; posted < count; ++posted) model.post_packet(bytes, connection);
        return;
    }
    if (command == "block") {
        require_word_count(words, 2, 3, "block NAME [MILLISECONDS]");
        model.thread_blocks(model.thread_named(words[1]), words.size() == 3 ? parse_number(words[2], "block") : 0);
        return;
    }
    if (command == "unblock") {
        require_word_count(words, 2, 2, "unblock NAME");
        model.thread_unblocks(model.thread_named(words[1]));
        return;
    }
    if (command == "exit") {
        require_word_count(words, 2, 2, "exit NAME");
        model.thread_exits(model.thread_named(words[1]));
        return;
    }

    // The kernel takes each decision inside the action that causes it (completion_port_model.h, "How the model
    // moves"): there is nothing left for a separate step to decide. Scenarios written for the old model say so.
    if (command == "step" || command == "settle")
        throw ModelError(command +
                         ": the kernel now decides inside the action itself (post, block, exit, ...), "
                         "as Windows does; remove this line and put `expect released` after the action");
    throw ModelError("unknown command '" + command +
                     "' (known: processors, concurrency, threads, thread, wait, done, post, block, unblock, timeout, "
                     "exit, close, expect)");
}

// ---- setup -----------------------------------------------------------------------------------------------------

void ScenarioPlayer::apply_setup(const std::vector<std::string>& words) {
    const std::string& command = words.front();
    require_word_count(words, 2, 2, command + " N");
    // The port is created with its concurrency value and cannot change it afterwards, as on Windows.
    if (model_started_) throw ModelError(command + " must come before threads and actions: the port already exists");
    const unsigned value = parse_number(words[1], command);
    if (command == "processors") {
        if (value == 0) throw ModelError("processors: a machine has at least one processor");
        options_.processors = value;
    } else {
        options_.concurrency_value = value;
    }
}

// ---- expectations ------------------------------------------------------------------------------------------------

void ScenarioPlayer::apply_expectation(const ScenarioLine& line, const std::vector<std::string>& words) {
    start_model_if_needed();
    const CompletionPortModel& model = run_.model;
    if (words.size() < 3)
        throw ModelError("usage: expect running|concurrency|queued|queue|waiters|state|holding|released|error ...");
    const std::string& what = words[1];
    const std::vector<std::string> wanted(words.begin() + 2, words.end());

    auto fail_unless = [&](bool met, const std::string& found) {
        if (!met)
            run_.failed_expectations.push_back(
                ExpectationFailure{line, "expected " + what + " " + join(wanted, "") + ", found " + found});
    };
    auto number_check = [&](unsigned actual) {
        require_word_count(words, 3, 3, "expect " + what + " N");
        fail_unless(parse_number(words[2], "expect " + what) == actual, std::to_string(actual));
    };

    if (what == "running") return number_check(model.running_count());
    if (what == "concurrency") return number_check(model.concurrency_value());
    if (what == "queued") return number_check(static_cast<unsigned>(model.queued_packets().size()));
    if (what == "queue") {
        std::vector<std::string> actual;
        for (const Packet& packet : model.queued_packets()) actual.push_back(std::to_string(packet.id));
        const bool wants_empty = wanted.size() == 1 && wanted[0] == "empty";
        if (!wants_empty)
            for (const std::string& id : wanted) parse_number(id, "expect queue");
        fail_unless(wants_empty ? actual.empty() : actual == wanted, join(actual, "empty"));
        return;
    }
    if (what == "waiters") {
        std::vector<std::string> actual;
        for (ThreadIndex index : model.waiters_most_recent_first()) actual.push_back(model.thread(index).name);
        for (const std::string& name : wanted)
            if (name != "none") model.thread_named(name);  // a misspelt name is an error, not a failed check
        const bool wants_none = wanted.size() == 1 && wanted[0] == "none";
        fail_unless(wants_none ? actual.empty() : actual == wanted, join(actual, "none"));
        return;
    }
    if (what == "state") {
        require_word_count(words, 4, 4, "expect state NAME not-associated|waiting|running|blocked|exited");
        const ModelThread& thread = model.thread(model.thread_named(words[2]));
        const std::string& state = words[3];
        if (state != "not-associated" && state != "waiting" && state != "running" && state != "blocked" &&
            state != "exited")
            throw ModelError("expect state: '" + state +
                             "' is not a state (not-associated, waiting, running, "
                             "blocked, exited)");
        fail_unless(to_string(thread.state) == state, words[2] + " " + std::string(to_string(thread.state)));
        return;
    }
    if (what == "holding") {
        require_word_count(words, 4, words.size() + 1, "expect holding NAME ID...|none");
        const ModelThread& thread = model.thread(model.thread_named(words[2]));
        const std::vector<std::string> wanted_packets(words.begin() + 3, words.end());
        std::vector<std::string> actual;
        for (PacketId id : thread.packets_in_hand) actual.push_back(std::to_string(id));
        const bool wants_none = wanted_packets.size() == 1 && wanted_packets[0] == "none";
        if (!wants_none)
            for (const std::string& id : wanted_packets) parse_number(id, "expect holding");
        fail_unless(wants_none ? actual.empty() : actual == wanted_packets, words[2] + " " + join(actual, "none"));
        return;
    }
    if (what == "released") {
        for (const std::string& name : wanted)
            if (name != "none") model.thread_named(name);  // a misspelt name is an error, not a failed check
        const bool wants_none = wanted.size() == 1 && wanted[0] == "none";
        fail_unless(wants_none ? released_by_last_action_.empty() : released_by_last_action_ == wanted,
                    join(released_by_last_action_, "none"));
        return;
    }
    if (what == "error") {
        require_word_count(words, 4, 4, "expect error NAME WAIT_TIMEOUT|ERROR_ABANDONED_WAIT_0|none");
        const ModelThread& thread = model.thread(model.thread_named(words[2]));
        const std::string& error = words[3];
        if (error != "WAIT_TIMEOUT" && error != "ERROR_ABANDONED_WAIT_0" && error != "none")
            throw ModelError("expect error: '" + error +
                             "' is not one the model reports (WAIT_TIMEOUT, "
                             "ERROR_ABANDONED_WAIT_0, none)");
        const std::string actual = thread.last_error == wait_timeout_error     ? "WAIT_TIMEOUT"
                                   : thread.last_error == abandoned_wait_error ? "ERROR_ABANDONED_WAIT_0"
                                                                               : "none";
        fail_unless(actual == error, words[2] + " " + actual);
        return;
    }
    throw ModelError("expect: unknown check '" + what +
                     "' (known: running, concurrency, queued, queue, waiters, state, holding, released, error)");
}

}  // namespace socklab::kernel_queue
