// common/posix/connection.cpp — the steps every native model takes the same way (connection.h says why).
#include "common/posix/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

namespace socklab::posix {

using trace::CloseReason;

// ---- the connection ---------------------------------------------------------------------------------------
CloseReason close_reason_for(int error) {
    return error == ECONNRESET || error == EPIPE || error == ECONNABORTED || error == ETIMEDOUT ? CloseReason::reset
                                                                                                : CloseReason::error;
}

// ---- closing politely -------------------------------------------------------------------------------------
bool say_goodbye(ConnectionBase& connection) {
    if (connection.socket < 0 || !connection.close_when_sent || !connection.send_queue.empty()) return false;
    if (connection.peer_finished) return true;
    if (!connection.draining) {
        shutdown(connection.socket, SHUT_WR);
        connection.draining = true;
    }
    return false;
}

// ---- accepting --------------------------------------------------------------------------------------------
void set_no_delay(int socket) {
    int no_delay = 1;
    if (setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof no_delay) != 0)
        report_error("setsockopt(TCP_NODELAY)", errno);
}

int accept_waiting_client(int listener, std::uint16_t& peer_port) {
    for (;;) {
        sockaddr_in peer{};
        socklen_t peer_length = sizeof peer;
        int client = accept(listener, reinterpret_cast<sockaddr*>(&peer), &peer_length);
        if (client < 0) {
            int error = errno;
            if (error == EINTR || client_left_before_accept(error)) continue;         // the next, at once
            if (error != EAGAIN && error != EWOULDBLOCK) after_failed_accept(error);  // e.g. EMFILE: reported, a pause
            return -1;
        }
        track_socket(client);
        set_no_delay(client);
        peer_port = ntohs(peer.sin_port);
        return client;
    }
}

std::uint16_t take_accepted_client(int client) {
    track_socket(client);
    set_no_delay(client);
    sockaddr_in peer{};
    socklen_t peer_length = sizeof peer;
    if (getpeername(client, reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0) return 0;  // ENOTCONN: it reset
    return ntohs(peer.sin_port);
}

}  // namespace socklab::posix
