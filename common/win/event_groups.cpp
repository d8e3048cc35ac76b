// common/win/event_groups.cpp — a group's thread (event_groups.h says what a group is, and why both models share it).
#include "common/win/event_groups.h"

namespace socklab::win {

bool start_group_thread(HANDLE& thread, HANDLE& arrival_event, LPTHREAD_START_ROUTINE main, void* group) {
    arrival_event = CreateEventW(nullptr, FALSE, FALSE, nullptr);  // auto-reset: the wait that returns it resets it
    if (arrival_event == nullptr) {
        report_error("CreateEventW", GetLastError());
        return false;
    }
    thread = CreateThread(nullptr, 0, main, group, 0, nullptr);  // LESSON: event-select-new-group
    if (thread == nullptr) {
        report_error("CreateThread", GetLastError());
        CloseHandle(arrival_event);
        return false;
    }
    accounting().threads.fetch_add(1);
    return true;
}

void group_wait_failed(ServerControl& control) {
    int error = WSAGetLastError();
    TRACE(wait_end, 0, trace::Wake::error, 0, error);
    wait_failed("WSAWaitForMultipleEvents", error, control);
}

void join_group_thread(HANDLE thread, HANDLE arrival_event) {
    WaitForSingleObject(thread, INFINITE);  // LESSON: overlapped-event-join-groups
    CloseHandle(thread);
    CloseHandle(arrival_event);
    accounting().threads.fetch_sub(1);
}

}  // namespace socklab::win
