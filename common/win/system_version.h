// common/win/system_version.h — which system a Windows program runs on: Windows (with its real version) or Wine.
//
// Header-only, because two programs need it that share no library: the servers (win::runtime_name, in every
// trace's header) and the CLI (`socklab machine`, in every report's header). Each figure socklab prints is
// labelled with this, so a Wine figure is never read as a Windows one.
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <string>

namespace socklab::win {

// Wine's version when this program runs under Wine (ntdll exports wine_get_version there), else nullptr.
inline const char* wine_version() {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    using WineGetVersion = const char*(CDECL*)();
    auto get =
        ntdll ? reinterpret_cast<WineGetVersion>(reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_version")))
              : nullptr;
    return get ? get() : nullptr;
}

// "Windows 10.0.19045", or "Windows" when the version cannot be read. RtlGetVersion, not GetVersionEx: since
// Windows 8.1 "applications not manifested for Windows 8.1 or Windows 10 will return the Windows 8 OS version value
// (6.2)" ("GetVersionExA function", Microsoft Learn); RtlGetVersion reports the system itself.
inline std::string windows_version() {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    using RtlGetVersionFunction = LONG(WINAPI*)(OSVERSIONINFOW*);
    auto get =
        ntdll ? reinterpret_cast<RtlGetVersionFunction>(reinterpret_cast<void*>(GetProcAddress(ntdll, "RtlGetVersion")))
              : nullptr;
    OSVERSIONINFOW version{};
    version.dwOSVersionInfoSize = sizeof version;
    if (!get || get(&version) != 0) return "Windows";
    return "Windows " + std::to_string(version.dwMajorVersion) + "." + std::to_string(version.dwMinorVersion) + "." +
           std::to_string(version.dwBuildNumber);
}

}  // namespace socklab::win
