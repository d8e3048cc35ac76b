// common/server/connection_table.h — the table of live connections that /all walks, the same on both platforms:
// the Windows models keep it under an SRWLOCK (win::Lock, common/win/winsock.h says why), the Linux models under a
// std::mutex. Lock order, everywhere (models/README.md): the table's lock first, then a connection's own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace socklab::server {

template <class Connection, class Lock>
class ConnectionTable {
public:
    void add(Connection* connection) {
        std::lock_guard lock(mutex_);
        connections_[connection->id] = connection;
    }
    void remove(Connection& connection) {
        std::lock_guard lock(mutex_);
        connections_.erase(connection.id);
    }
    // The connection `id` with its own lock held (the caller unlocks it), or nullptr when it has gone: for a model
    // whose events name a connection by id (epoll), because a connection may be freed while an event names it.
    Connection* take(std::uint32_t id) {
        std::lock_guard lock(mutex_);
        auto found = connections_.find(id);
        if (found == connections_.end()) return nullptr;
        found->second->lock.lock();
        return found->second;
    }
    // Calls action(connection) for every connection but `except`, under the table's lock, so no connection
    // can be freed meanwhile (a model removes a connection from the table before freeing it); the action takes
    // the connection's lock itself. Returns how many it returned true for.
    template <class Action>
    std::size_t for_each_except(std::uint32_t except, Action&& action) {
        std::lock_guard lock(mutex_);
        std::size_t count = 0;
        for (auto& [id, connection] : connections_)
            if (id != except && action(connection)) ++count;
        return count;
    }
    std::size_t size() {
        std::lock_guard lock(mutex_);
        return connections_.size();
    }
    // Any one connection, or nullptr when the table is empty.
    Connection* any() {
        std::lock_guard lock(mutex_);
        return connections_.empty() ? nullptr : connections_.begin()->second;
    }

private:
    Lock mutex_;
    std::unordered_map<std::uint32_t, Connection*> connections_;
};

}  // namespace socklab::server
