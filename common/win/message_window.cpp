// common/win/message_window.cpp — see message_window.h.
#include "common/win/message_window.h"

namespace socklab::win {

HWND open_message_window(const wchar_t* class_name, WNDPROC procedure, void* owner) {
    WNDCLASSEXW window_class{};
    window_class.cbSize = sizeof window_class;
    window_class.lpfnWndProc = procedure;
    window_class.hInstance = GetModuleHandleW(nullptr);
    window_class.lpszClassName = class_name;
    // A second server in the same process (the tests run several) finds the class registered already.
    if (RegisterClassExW(&window_class) == 0 && GetLastError() != ERROR_CLASS_ALREADY_EXISTS) {
        report_error("RegisterClassExW", GetLastError());
        return nullptr;
    }
    // HWND_MESSAGE as the parent: no desktop, no painting, only messages, delivered to this thread alone.
    // LESSON: async-select-message-window
    HWND window = CreateWindowExW(0, class_name, class_name, 0, 0, 0, 0, 0, HWND_MESSAGE, nullptr,
                                  GetModuleHandleW(nullptr), nullptr);
    if (window == nullptr) {
        report_error("CreateWindowExW", GetLastError());
        return nullptr;
    }
    SetWindowLongPtrW(window, GWLP_USERDATA, reinterpret_cast<LONG_PTR>(owner));
    return window;
}

void close_message_window(HWND window, const wchar_t* class_name) {
    if (window != nullptr) DestroyWindow(window);
    // Fails harmlessly while another server in this process still has a window of the class.
    UnregisterClassW(class_name, GetModuleHandleW(nullptr));
}

}  // namespace socklab::win
