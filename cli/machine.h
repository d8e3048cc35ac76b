// cli/machine.h — the machine a report was measured on, in words for its page: processor, memory, system, and
// whether socklab itself runs under Wine. Windows has the registry, GlobalMemoryStatusEx and ntdll for these;
// Linux has /proc and uname.
#pragma once

#include <string>

namespace socklab::cli {

// "Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz, 2 logical processors, 8 GiB; Linux 6.1.0-18-amd64 (Debian 12.5)".
std::string machine_description();

// Where our own benchmarks ran: "native", or "under Wine 8.0" when socklab.exe itself runs there.
std::string machinery_where();

// The date and time now, for the page: "2024-05-01 14:03 UTC".
std::string today();

}  // namespace socklab::cli
