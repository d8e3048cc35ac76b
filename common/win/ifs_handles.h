// common/win/ifs_handles.h — whether a socket may be told to queue no completion packet for an I/O that succeeds
// at once (FILE_SKIP_COMPLETION_PORT_ON_SUCCESS), which the completion-port models ask for.
//
// SetFileCompletionNotificationModes' documentation: for a socket the mode "is only compatible with Layered
// Service Providers (LSP) that return Installable File Systems (IFS) handles"; to find a non-IFS one, enumerate
// the providers with WSAEnumProtocols and look for XP1_IFS_HANDLES in each dwServiceFlags1. With a non-IFS
// provider installed, the completions of such a socket may never reach the port (Microsoft's knowledge-base
// article "SetFileCompletionNotificationModes API causes an I/O completion port not to work correctly if a non-IFS
// LSP is installed"). Then the models leave the mode off, and every I/O comes back as a packet.
#pragma once

#include <vector>

#include "common/win/winsock.h"

namespace socklab::win {

// True when every installed TCP provider for IPv4 returns IFS handles. Asked once; the answer is kept.
inline bool every_provider_returns_ifs_handles() {
    static const bool answer = [] {
        INT protocols[] = {IPPROTO_TCP, 0};
        DWORD size = 0;
        if (WSAEnumProtocolsW(protocols, nullptr, &size) != SOCKET_ERROR) return false;  // no provider at all
        if (WSAGetLastError() != WSAENOBUFS) {  // the one error that tells the size needed
            report_error("WSAEnumProtocols", WSAGetLastError());
            return false;
        }
        std::vector<WSAPROTOCOL_INFOW> providers(size / sizeof(WSAPROTOCOL_INFOW) + 1);
        size = static_cast<DWORD>(providers.size() * sizeof(WSAPROTOCOL_INFOW));
        const int count = WSAEnumProtocolsW(protocols, providers.data(), &size);
        if (count == SOCKET_ERROR) {
            report_error("WSAEnumProtocols", WSAGetLastError());
            return false;
        }
        for (int i = 0; i < count; ++i)
            if (providers[i].iAddressFamily == AF_INET && !(providers[i].dwServiceFlags1 & XP1_IFS_HANDLES))
                return false;
        return count > 0;
    }();
    return answer;
}

}  // namespace socklab::win
