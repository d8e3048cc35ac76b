// tests/cli/connect_test.cpp — `socklab connect` against a small echo listener of the test's own (no Wine):
// the exact bytes back, a broadcast printed while nobody types, and a half-close at the end of input.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "common/net/socket.h"
#include "tests/catch.hpp"
#include "tests/cli/output_of.h"

#include <sys/wait.h>

using namespace socklab;

namespace {

using cli_tests::output_of;

std::string socklab_program() { return std::string("'") + SOCKLAB_CLI + "'"; }

std::string file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE(
    "socklab connect echoes exact bytes and prints a broadcast while nobody types and half-closes at the end of "
    "input") {
    net::Startup startup;
    std::string error;
    net::Socket listener = net::listen_tcp("127.0.0.1", 0, error);
    REQUIRE(listener.valid());
    const std::uint16_t port = net::local_port(listener);
    const std::string broadcast = "7: hello from another client\n";
    const std::string after_end = "the listener saw the end of input\n";
    bool saw_end_of_input = false;
    // The echo listener: a broadcast at once, then every byte back; at the end of the client's input, one more
    // line (the client must still be reading), then close.
    std::thread server([&] {
        net::Socket client = net::accept_client(listener);
        if (!client.valid()) return;
        net::send_all(client, broadcast.data(), broadcast.size());
        char buffer[4096];
        for (long got; (got = net::receive_some(client, buffer, sizeof buffer)) > 0;)
            net::send_all(client, buffer, static_cast<std::size_t>(got));
        saw_end_of_input = true;
        net::send_all(client, after_end.data(), after_end.size());
    });

    const std::string out_file = std::filesystem::temp_directory_path() / ("socklab-connect-" + std::to_string(port));
    FILE* input = popen((socklab_program() + " connect " + std::to_string(port) + " >'" + out_file + "'").c_str(), "w");
    REQUIRE(input != nullptr);
    // The broadcast is printed while standard input is still open and nothing has been typed.
    std::string shown;
    for (int waited_ms = 0; shown != broadcast && waited_ms < 10'000; waited_ms += 50) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        shown = file_text(out_file);
    }
    REQUIRE(shown == broadcast);

    const std::string typed = std::string("hello\r\nnaïve — ünïcode\n/work 0 0\n\x01 and a NUL ") + '\0' +
                              " inside\na last line without a newline";
    std::fwrite(typed.data(), 1, typed.size(), input);
    const int status = pclose(input);  // the end of input: connect half-closes, prints the rest, ends
    server.join();
    const std::string printed = file_text(out_file);
    std::filesystem::remove(out_file);
    REQUIRE(saw_end_of_input);
    REQUIRE(printed == broadcast + typed + after_end);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
}

TEST_CASE("socklab connect with nobody listening is exit code 1 with a message") {
    net::Startup startup;
    std::string error;
    std::uint16_t port = 0;
    {
        net::Socket listener = net::listen_tcp("127.0.0.1", 0, error);
        port = net::local_port(listener);
    }  // closed: nothing listens on the port now
    const std::string output =
        output_of(socklab_program() + " connect " + std::to_string(port) + " </dev/null 2>&1; echo \"exit $?\"");
    REQUIRE(output.find("socklab connect: connect to 127.0.0.1:") != std::string::npos);
    REQUIRE(output.find("exit 1") != std::string::npos);
}
