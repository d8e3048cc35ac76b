// common/server/accounting.cpp — the counts and connection ids of a server run (accounting.h).
#include "common/server/accounting.h"

namespace socklab::server {

Accounting& accounting() {
    static Accounting instance;
    return instance;
}

static std::atomic<std::uint32_t> g_next_connection_id{1};
std::uint32_t next_connection_id() { return g_next_connection_id.fetch_add(1, std::memory_order_relaxed); }
void reset_connection_ids() { g_next_connection_id = 1; }

}  // namespace socklab::server
