// cli/machine.cpp — see machine.h.
#include "cli/machine.h"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/table.h"

#ifdef _WIN32
// The processor's name, the memory and the system's version have no portable call: Windows has the registry,
// GlobalMemoryStatusEx and ntdll; Linux has /proc and uname.
#include <windows.h>

#include "common/win/system_version.h"
#else
#include <sys/utsname.h>
#endif

namespace socklab::cli {

namespace {

#ifdef _WIN32
using win::wine_version;

std::string processor_name() {
    char name[256] = "";
    DWORD size = sizeof name;
    if (RegGetValueA(HKEY_LOCAL_MACHINE, "HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\0", "ProcessorNameString",
                     RRF_RT_REG_SZ, nullptr, name, &size) != ERROR_SUCCESS)
        return "";
    std::string text = name;
    text.erase(0, text.find_first_not_of(' '));  // some processors pad their name on the left
    return text;
}

double memory_gib() {
    MEMORYSTATUSEX status{};
    status.dwLength = sizeof status;
    return GlobalMemoryStatusEx(&status) ? static_cast<double>(status.ullTotalPhys) / (1024.0 * 1024.0 * 1024.0) : 0;
}

// "Windows 10.0.19045"; under Wine the system Wine runs on, which is what the figures depend on.
std::string system_name() {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    using WineHostVersion = void(CDECL*)(const char** system, const char** release);
    if (auto host = ntdll ? reinterpret_cast<WineHostVersion>(
                                reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_host_version")))
                          : nullptr) {
        const char *system = nullptr, *release = nullptr;
        host(&system, &release);
        return std::string(system ? system : "an unknown system") + (release ? std::string(" ") + release : "") +
               " (socklab.exe under Wine " + wine_version() + ")";
    }
    return win::windows_version();
}
#else
const char* wine_version() { return nullptr; }  // the native Linux CLI: never under Wine itself

std::string first_line_with(const std::string& path, const std::string& prefix) {
    std::ifstream file(path);
    std::string line;
    while (std::getline(file, line))
        if (line.rfind(prefix, 0) == 0) return line;
    return "";
}

std::string processor_name() {
    std::string cpu = first_line_with("/proc/cpuinfo", "model name");
    auto colon = cpu.find(':');
    return colon == std::string::npos ? "" : cpu.substr(colon + 2);
}

double memory_gib() {
    std::string memory = first_line_with("/proc/meminfo", "MemTotal:");
    return memory.empty() ? 0 : std::atof(memory.c_str() + 9) / (1024.0 * 1024.0);  // kB
}

// "Linux 6.1.0-18-amd64 (Debian 12.5)".
std::string system_name() {
    utsname system{};
    uname(&system);
    std::string debian;
    std::ifstream("/etc/debian_version") >> debian;
    return std::string(system.sysname) + " " + system.release + (debian.empty() ? "" : " (Debian " + debian + ")");
}
#endif

}  // namespace

std::string machine_description() {
    const std::string cpu = processor_name();
    std::ostringstream text;
    text << (cpu.empty() ? "unknown processor" : cpu) << ", " << std::thread::hardware_concurrency()
         << " logical processors, " << fixed(memory_gib(), 0) << " GiB; " << system_name();
    return text.str();
}

std::string machinery_where() {
    const char* wine = wine_version();
    return wine ? std::string("under Wine ") + wine : "native";
}

std::string today() {
    std::time_t now = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    return text;
}

}  // namespace socklab::cli
