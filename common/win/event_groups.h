// common/win/event_groups.h — the groups of the models that wait in WSAWaitForMultipleEvents (event-select,
// overlapped-event).
//
// One WSAWaitForMultipleEvents takes at most WSA_MAXIMUM_WAIT_EVENTS (64) handles, so these two models deal their
// connections out to groups: a thread each, waiting for the events of as many connections as one wait can hold.
// Both do it the same way, written here once: the acceptor hands a new connection to the first group with room,
// starting a new group (and its thread) when every one is full; the connection goes into the group's `arrivals`
// and the group's `arrival_event` is signalled; the group's thread takes the arrivals (take_arrivals) when it wakes
// for that event. What a group waits for, and what it does when it wakes, is its model's lesson: that stays in the
// model file, in the model's Group, which derives from EventGroup.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "common/trace/recorder.h"
#include "common/win/connection.h"
#include "common/win/winsock.h"

namespace socklab::win {

// What the acceptor and a group's thread share.
template <class Connection>
struct EventGroup {
    using Member = Connection;

    HANDLE thread = nullptr;
    HANDLE arrival_event = nullptr;     // auto-reset: arrivals wait (a model may signal it for more)
    std::mutex lock;                    // guards what follows
    std::vector<Connection*> arrivals;  // handed over by the acceptor, not yet taken by the group's thread
    std::size_t assigned = 0;           // arrivals and members: the acceptor fills a group up to its capacity
    bool closed = false;                // the thread is ending: nothing more is handed over

    // For the group's thread: what was handed over since it last looked.
    std::vector<Connection*> take_arrivals() {
        std::lock_guard guard(lock);
        return std::exchange(arrivals, {});
    }
    // For the group's thread, at its end: closes the group to new arrivals — unless some wait, which it must take
    // first (false). From then on the acceptor passes this group by, so no connection is left in it.
    bool close_if_no_arrivals() {
        std::lock_guard guard(lock);
        closed = arrivals.empty();
        return closed;
    }
    // A member was freed: room for another.
    void member_left() {
        std::lock_guard guard(lock);
        --assigned;
    }
};

// Creates a group's arrival event, then its thread, which runs main(group); counted in accounting().threads.
// False, after reporting which call failed, when either cannot be created.
bool start_group_thread(HANDLE& thread, HANDLE& arrival_event, LPTHREAD_START_ROUTINE main, void* group);
// Waits for a group's thread to end, then closes its handles.
void join_group_thread(HANDLE thread, HANDLE arrival_event);
// A group's WSAWaitForMultipleEvents returned WSA_WAIT_FAILED: the wait's end is traced with the error, which is
// reported, and the server stops (wait_failed). The group then closes what it has and ends, as at the stop.
void group_wait_failed(ServerControl& control);

// Every group of a server. Used by the acceptor only: it is the only thread that hands over and starts groups.
template <class Group, class Server>
class EventGroups {
public:
    // `capacity` connections per group; a new group is a Group(server) whose thread runs group_main(Group*).
    EventGroups(Server& server, std::size_t capacity, LPTHREAD_START_ROUTINE group_main)
        : server_(server), capacity_(capacity), group_main_(group_main) {}

    // Hands `connection` to the first group with room, starting a new one when every group is full. False when
    // no group can take it: the server is stopping (a new group's thread would end at once), or none could start.
    bool hand_over(typename Group::Member* connection) {
        for (;;) {
            for (auto& group : groups_) {
                std::lock_guard lock(group->lock);
                if (group->closed || group->assigned >= capacity_) continue;
                ++group->assigned;
                group->arrivals.push_back(connection);
                SetEvent(group->arrival_event);  // LESSON: event-select-hand-over
                return true;
            }
            if (server_.control.stop_requested()) return false;
            auto group = std::make_unique<Group>(server_);
            if (!start_group_thread(group->thread, group->arrival_event, group_main_, group.get())) return false;
            groups_.push_back(std::move(group));
        }
    }

    // After the stop: every group closes its connections and ends by itself. One thread at a time:
    // WaitForMultipleObjects has the same 64-handle limit, and there may be more groups.
    void join() {
        for (auto& group : groups_) join_group_thread(group->thread, group->arrival_event);
        groups_.clear();
    }

private:
    Server& server_;
    const std::size_t capacity_;
    const LPTHREAD_START_ROUTINE group_main_;
    std::vector<std::unique_ptr<Group>> groups_;
};

// The run of a group model: a Server, and its acceptor on the calling thread until the stop (run_acceptor runs
// accept_clients(server)); then every group ends by itself once it has seen the stop, and its thread is waited
// for. 1 when the server could not start (reported), else 0.
template <class Server>
int run_with_groups(const char* model, const ServerOptions& options, ServerControl& control,
                    void (*accept_clients)(Server&)) {
    Server server(options, control);
    int failed = run_acceptor(model, options, control, server.listener, [&] { accept_clients(server); });
    server.groups.join();
    trace::thread_exiting();
    return failed;
}

}  // namespace socklab::win
