// common/win/message_window.h — the message-only window that async-select's network events are posted to.
//
// WSAAsyncSelect posts each network event as a message to a window, so the model needs a window, one nobody
// sees. A message-only window (its parent is HWND_MESSAGE) "is not visible, has no z-order, cannot be enumerated,
// and does not receive broadcast messages" ("Window Features", Message-Only Windows, Microsoft Learn): it is a
// message queue with a window procedure, owned by the thread that creates it. Opening and closing one is window
// plumbing, not the Winsock lesson, so it is written here; the window procedure and the loop stay in the model.
#pragma once

#include "common/win/winsock.h"

namespace socklab::win {

// Registers the window class `class_name` (once per process) and creates a message-only window of it on the
// calling thread, whose messages go to `procedure`; `owner` is kept in the window for window_owner. nullptr, after
// reporting why, when either call fails.
HWND open_message_window(const wchar_t* class_name, WNDPROC procedure, void* owner);

// What open_message_window was given as `owner`; nullptr for the messages CreateWindowEx sends before it is kept.
template <class Owner>
Owner* window_owner(HWND window) {
    return reinterpret_cast<Owner*>(GetWindowLongPtrW(window, GWLP_USERDATA));
}

// Destroys the window (nothing when it is nullptr: a start that failed) and unregisters its class.
void close_message_window(HWND window, const wchar_t* class_name);

}  // namespace socklab::win
