// visualizer/model/lesson_run.h — running a lesson's step and deciding its checks from what really happened.
//
// A step runs one of:
//   - the reference model (common/kernel_queue): the step's ```scenario block is played; its `expect` lines
//     are checks, and so are the step's `expect` lines about the trace the model recorded;
//   - a live model: a server started under Wine (on Linux) with a trace file, driven by the client actions
//     below over real sockets; checks are decided from the replies and from the server's own trace.
// Who starts the server differs (the CLI uses cli/server_run.h, the visualizer visualizer/model/server_process.h),
// so a live step takes a LiveServer. Everything else — actions, checks, verdicts — is this one file's code.
//
// ---- Client actions (live steps) ----------------------------------------------------------------------------
//   connect N              N more clients connect (c1, c2, ...)
//   send LINE              every client sends LINE and reads one reply (a line starting with / is a command)
//   send-split LINE        client 1 sends LINE one byte at a time, 10 ms apart, and reads one reply
//   send-joined A | B | C  client 1 sends the lines in a single send() call and reads one reply per line
//   work CPU_MS BLOCK_MS   every client sends `/work CPU_MS BLOCK_MS` at once, then each reads its reply
//   all TEXT               client 1 sends `/all TEXT` and reads its reply; every other client reads one line
//                          (a server counts a client once it has accepted it: send a line from each first)
//   burst N                every client sends N lines in one send() and reads N replies
//   quit                   every client sends /quit, reads BYE, then waits for the server to close
//   pause MS               nothing happens for MS milliseconds
//   disconnect             every client closes its connection
//
// ---- Checks (`expect ...`) ----------------------------------------------------------------------------------
// About the replies (live steps only):
//   expect echo                     every line sent that is not a command came back exactly as sent
//   expect reply TEXT               every reply to the action above starts with TEXT
//   expect broadcast TEXT           every client but the sender received "<id>: TEXT"
//   expect closed                   every client saw the server close the connection
//   expect elapsed OP MS            the action above took OP MS milliseconds (wall clock, first send to last reply)
// About the trace (live and reference):
//   expect trace KIND [then KIND2]  an event of KIND is in the trace (followed later, on the same thread, by KIND2)
//   expect count KIND OP N          events of KIND
//   expect threads [ROLE] OP N      threads in the trace (with that role: worker, client, select-loop, ...;
//                                   a space in a role is written '-')
//   expect lifo-share OP X          of the wakes that had a choice of waiter, the share that took the most recent
//   expect most-running OP N        most threads of one port running at once
// About the runtime (live steps: what the runtime did is measured and named, never assumed). When the trace's
// runtime is Windows they also hold the run to the documented rules ("I/O Completion Ports"); under any other
// runtime (Wine) they measure and name how it differs:
//   expect measured lifo-share      the share was measured (some wake had a choice); on Windows at least 0.9
//   expect measured most-running    the most running was measured; on Windows no more than the concurrency
//                                   value plus the workers blocked outside the port at the time
//   expect runtime named            the trace names the runtime it ran under (Windows, Wine 8.0, ...)
// OP is one of >= <= == > <. KIND is an event kind of common/trace/event.h (wait_end, packet_dequeued, ...).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "visualizer/model/lesson.h"
#include "visualizer/model/trace_model.h"

namespace socklab::lessons {

// "" when the command is a well-formed action / check; else what is wrong with it.
std::string action_syntax(const Command& action);
std::string check_syntax(const Command& check);
bool check_needs_live(const Command& check);

struct CheckResult {
    int line = 0;      // in the lesson file
    std::string text;  // "expect waiters w3 w2 w1"
    bool met = false;
    std::string detail;  // what was found: "found w2 w1", "LIFO share 38% under Wine 8.0 (Windows: LIFO)"
};

struct StepResult {
    std::vector<std::string> log;     // what happened, in order, for people
    std::vector<CheckResult> checks;  // every check of the step, in the lesson's order
    std::string error;                // the step could not run: "cannot start iocp: ...", "line 7: ..."
    std::string trace_file;           // live steps: the server's trace, for the visualizer to replay

    bool passed() const;
};

// What a live run saw of its clients: one record per action.
struct ActionOutcome {
    Command action;
    double elapsed_ms = 0;
    struct Exchange {
        unsigned client = 0;  // from 1
        std::string sent;     // the line sent ("" when the line was not asked for: a broadcast received)
        std::string reply;    // the line received ("" when none came)
    };
    std::vector<Exchange> exchanges;
    unsigned clients_closed = 0;  // quit: clients that saw the server close
    std::string problem;          // "c3: no reply within 5 s"
};

// ---- the reference model ----
StepResult run_reference_step(const Step& step);

// ---- live ----
// Starts and stops one server for a live step. start() returns once it listens (port set) or failed.
class LiveServer {
public:
    virtual ~LiveServer() = default;
    virtual bool start(const std::string& io_model, const std::vector<std::string>& flags,
                       const std::string& trace_file, std::uint16_t& port, std::string& error) = 0;
    // Stops it gracefully and waits until it has exited (the trace file is complete then). False, with a
    // message, when it did not exit in time: a shutdown that hangs is a finding, not something to wait out.
    virtual bool stop(std::string& error) = 0;
};

// Drives the clients of one live run: connects, performs actions, remembers what came back.
class LiveClients {
public:
    explicit LiveClients(std::uint16_t port);
    ~LiveClients();
    ActionOutcome perform(const Command& action);

private:
    struct Client;
    struct Performance;  // one action's outcome while it is performed
    void connect(int count, Performance& performance);
    void send_and_read(const std::string& line, Performance& performance);  // send and work: every client
    void send_split(const std::string& text, Performance& performance);
    void send_joined(const std::vector<std::string>& words, Performance& performance);
    void broadcast(const std::string& text, Performance& performance);
    void burst(int count, Performance& performance);
    void quit(Performance& performance);

    std::uint16_t port_;
    std::vector<std::unique_ptr<Client>> clients_;
};

// Runs a live step from start to finish. `say` gets each line of progress ("starting iocp under Wine...").
StepResult run_live_step(const Step& step, LiveServer& server, const std::function<void(const std::string&)>& say = {});

// Decides the step's checks from what the run did (outcomes: live runs; trace: what was recorded).
std::vector<CheckResult> decide_checks(const Step& step, const std::vector<ActionOutcome>& outcomes,
                                       const viz::TraceModel& trace);

// A finished trace read into a model: a file (a live server's), or the reference model's trace.
bool load_trace_file(const std::string& path, viz::TraceModel& model, std::string& error);
void load_trace(const trace::Trace& trace, viz::TraceModel& model);

// What a step asks to be run, in words: "the reference model: concurrency 2, threads 4, ..." / "live: iocp
// --workers 4, then connect 4, work 0 200".
std::string describe_run(const Step& step);

}  // namespace socklab::lessons
