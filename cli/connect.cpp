// cli/connect.cpp — `socklab connect [host:]port`: a line client in the box, for the hands-on steps.
//
// What you type is sent when you end the line; what the server sends is printed as it arrives, including the
// broadcasts (/all) that other clients cause while you are typing. The end of input (Ctrl-D; on a Windows
// console Ctrl-Z then Enter) half-closes the connection: nothing more is sent, the replies still on their way
// are printed, and the command ends when the server closes. Ctrl-C quits at once. Bytes go both ways exactly
// as they are: this is nc's job, done with common/net so that it is the same on Linux and Windows.
//
// Two threads, because the two directions do not wait for each other: the main thread reads standard input
// and sends; a receiver thread waits in recv() and prints. One thread waiting for both would need poll() over
// the keyboard and the socket, and Windows has no such call: a console is not a socket.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "cli/connect.h"
#include "cli/terminal.h"
#include "common/net/socket.h"

#ifdef _WIN32
// Standard input and output are in text mode by default on Windows, which turns "\r\n" into "\n" and stops
// piped input at a Ctrl-Z byte: binary mode keeps the bytes sent and printed the bytes given and received.
#include <fcntl.h>
#include <io.h>
#endif

namespace socklab::cli {

bool parse_target(const std::string& target, std::string& host, std::uint16_t& port) {
    const std::size_t colon = target.rfind(':');
    host = colon == std::string::npos || colon == 0 ? "127.0.0.1" : target.substr(0, colon);
    const std::string digits = colon == std::string::npos ? target : target.substr(colon + 1);
    if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos)
        return false;
    const long number = std::strtol(digits.c_str(), nullptr, 10);
    if (number < 1 || number > 65535) return false;
    port = static_cast<std::uint16_t>(number);
    return true;
}

Parsed<ConnectRequest> parse_connect_command(const Arguments& arguments) {
    Parsed<ConnectRequest> parsed;
    ConnectRequest& request = parsed.request;
    Flags flags("connect");
    flags.set_synopsis(
        "[host:]port [options]\n\n"
        "A line client, for trying a server by hand (what nc or telnet would do): every\n"
        "line you type is sent, and whatever the server sends — replies, and /all\n"
        "broadcasts from other clients — is printed as it arrives. The host is 127.0.0.1\n"
        "unless given.\n\n"
        "End of input (Ctrl-D; on a Windows console Ctrl-Z, Enter) half-closes the\n"
        "connection: nothing more is sent, the replies still coming are printed, and it\n"
        "ends when the server closes. Ctrl-C quits at once. Input can be piped:\n"
        "socklab connect 5000 < lines.txt\n\n"
        "example: socklab serve iocp --port 5000, then socklab connect 5000 and type\n"
        "hello, /stats, /work 50 200, /all hi, /quit.\n\n"
        "Exit code 0 when the server closed the connection, 1 when it could not be\n"
        "reached or the connection failed.");
    flags.number("timeout", request.timeout_seconds, 0.1, 600, "seconds to wait for the server to accept");
    std::vector<std::string> positional;
    if (!flags.parse(arguments, &positional)) return parsed.stop(flags.early_exit());
    if (positional.size() != 1)
        return parsed.stop(
            EarlyExit::usage_error("connect", "give one [host:]port, e.g. socklab connect 5000 (see --help)"));
    if (!parse_target(positional[0], request.host, request.port))
        return parsed.stop(EarlyExit::usage_error(
            "connect", "'" + positional[0] + "' is not [host:]port with a port from 1 to 65535"));
    return parsed;
}

namespace {

// Prints what the server sends until it closes. Returns the exit code: 0 when the server closed the connection,
// 1 when it failed (reset, or an error). line_open: the last byte printed was not a newline.
int print_replies(const net::Socket& socket, std::string& problem, bool& line_open) {
    char buffer[4096];
    for (;;) {
        const long received = net::receive_some(socket, buffer, sizeof buffer);
        if (received > 0) line_open = buffer[received - 1] != '\n';
        if (received == 0) return 0;
        if (received < 0) {
            problem = net::error_text(net::last_error());
            return 1;
        }
        std::fwrite(buffer, 1, static_cast<std::size_t>(received), stdout);
        std::fflush(stdout);  // a reply or a broadcast is shown the moment it arrives, not when a buffer fills
    }
}

// The receiver thread's whole job: the server's bytes until it closes, then how it ended. When the server closes
// first, the main thread is still waiting for a line that has nowhere to go, and no portable call interrupts a read
// of standard input: the process ends here, its output written out.
int print_until_closed(const net::Socket& socket, bool typing, const std::atomic<bool>& input_ended) {
    std::string problem;
    bool line_open = false;
    const int exit_code = print_replies(socket, problem, line_open);
    if (typing && line_open) std::fputs("\n", stdout);  // the note below on a line of its own
    std::fflush(stdout);
    if (!problem.empty()) std::fprintf(stderr, "socklab connect: the connection failed: %s\n", problem.c_str());
    else if (typing) std::fprintf(stderr, "(the server closed the connection)\n");
    if (!input_ended) {
        std::fflush(stdout);
        std::fflush(stderr);
        std::_Exit(exit_code);
    }
    return exit_code;
}

// Reads standard input byte by byte (stdio buffers it) so that every byte is sent as given, a NUL or a '\r'
// included, and sends each line the moment it ends; a last line with no newline too. Stops when the input ends
// or a send fails.
void send_standard_input(const net::Socket& socket) {
    std::string line;
    bool sending = true;
    for (int c; sending && (c = std::getc(stdin)) != EOF;) {
        line += static_cast<char>(c);
        if (c != '\n') continue;
        sending = net::send_all(socket, line.data(), line.size());
        line.clear();
    }
    if (sending && !line.empty()) net::send_all(socket, line.data(), line.size());
}

// Connects, then the two directions at once: the server's bytes printed on a thread of their own, standard input
// sent on this one, then a half-close, and the replies still coming printed until the server closes.
int talk_to_server(const ConnectRequest& request) {
#ifdef _WIN32
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
#endif
    net::Startup startup;
    std::string error;
    net::Socket socket =
        net::connect_tcp(request.host, request.port, error, static_cast<int>(request.timeout_seconds * 1000));
    if (!socket.valid()) {
        std::fprintf(stderr, "socklab connect: %s\n", error.c_str());
        return 1;
    }
    // Someone typing gets a word on how to use it and how it ended; a script reading the output gets only the
    // server's bytes.
    const bool typing = is_terminal(stdin);
    if (typing)
        std::fprintf(stderr, "connected to %s:%u: type lines; Ctrl-D ends input, Ctrl-C quits\n", request.host.c_str(),
                     request.port);
    std::atomic<bool> input_ended{false};
    int exit_code = 0;
    std::thread receiver([&] { exit_code = print_until_closed(socket, typing, input_ended); });
    send_standard_input(socket);
    input_ended = true;
    net::shutdown_send(socket);  // the server reads the end of the stream; its replies can still arrive
    receiver.join();
    return exit_code;
}

}  // namespace

int connect_command(const Arguments& arguments) {
    const Parsed<ConnectRequest> parsed = parse_connect_command(arguments);
    if (parsed.early_exit) return parsed.early_exit->print();
    return talk_to_server(parsed.request);
}

}  // namespace socklab::cli
