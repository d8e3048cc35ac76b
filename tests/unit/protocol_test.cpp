// The shared line protocol (docs/design.md §3), tested the way a client would break it.
#include <string>
#include <vector>

#include "common/protocol/session.h"
#include "tests/catch.hpp"

using socklab::protocol::LineDecoder;
using socklab::protocol::Session;

namespace {

// A host that records broadcasts instead of sending them.
struct FakeHost : socklab::protocol::SessionHost {
    std::vector<std::pair<std::uint32_t, std::string>> broadcasts;
    std::size_t others = 3;
    std::size_t broadcast(std::uint32_t from, std::string_view message) override {
        broadcasts.emplace_back(from, std::string(message));
        return others;
    }
    std::string stats_line() override { return "OK stats model=fake"; }
};

// Feeds a whole byte stream to a new session, cut into pieces at the given points; returns every reply.
std::string replies_for(const std::string& stream, const std::vector<std::size_t>& cuts, std::size_t max_line = 4096) {
    FakeHost host;
    Session session(7, host, max_line);
    std::string replies;
    std::size_t begin = 0;
    for (std::size_t cut : cuts) {
        session.on_receive(stream.data() + begin, cut - begin, replies);
        begin = cut;
    }
    session.on_receive(stream.data() + begin, stream.size() - begin, replies);
    return replies;
}

}  // namespace

TEST_CASE("every split point of a byte stream yields the same replies") {
    const std::string stream = "hello\r\n\n/stats\r\nsecond line\n/nope\nh\xC3\xA9llo \xE2\x9C\x93\n/all hi there\n";
    const std::string whole = replies_for(stream, {});
    REQUIRE(whole ==
            "hello\n\nOK stats model=fake\nsecond line\nERR unknown-command\nh\xC3\xA9llo \xE2\x9C\x93\nOK all 3\n");
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        INFO("cut at " << cut);
        CHECK(replies_for(stream, {cut}) == whole);
    }
    for (std::size_t a = 0; a <= stream.size(); a += 3)
        for (std::size_t b = a; b <= stream.size(); b += 5) CHECK(replies_for(stream, {a, b}) == whole);
    // One byte at a time.
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < stream.size(); ++i) every.push_back(i);
    CHECK(replies_for(stream, every) == whole);
}

TEST_CASE("CRLF and LF lines are the same line; a lone CR inside a line is kept") {
    CHECK(replies_for("a\r\nb\n", {}) == "a\nb\n");
    CHECK(replies_for("a\rb\n", {}) == "a\rb\n");
    CHECK(replies_for("a\r", {}) == "");
    CHECK(replies_for("a\r\n", {2}) == "a\n");
}

TEST_CASE("empty lines are echoed as empty lines") { CHECK(replies_for("\n\n\r\n", {}) == "\n\n\n"); }

TEST_CASE("UTF-8 and other bytes pass untouched") {
    std::string bytes;
    for (int c = 1; c < 256; ++c)
        if (c != '\n' && c != '\r' && c != '/') bytes.push_back(static_cast<char>(c));
    CHECK(replies_for(bytes + "\n", {}) == bytes + "\n");
    CHECK(replies_for("\xF0\x9F\x98\x80 emoji\n", {2}) == "\xF0\x9F\x98\x80 emoji\n");
}

TEST_CASE("an over-long line gets ERR line-too-long and the session asks to close") {
    FakeHost host;
    Session session(1, host, 16);
    std::string replies;
    CHECK(session.on_receive("short\n", 6, replies) == Session::Verdict::keep_open);
    std::string exact(16, 'x');
    exact += "\r\n";
    CHECK(session.on_receive(exact.data(), exact.size(), replies) == Session::Verdict::keep_open);
    std::string too_long(17, 'y');
    too_long += "\n";
    CHECK(session.on_receive(too_long.data(), too_long.size(), replies) == Session::Verdict::close_after_replies);
    CHECK(replies == "short\n" + std::string(16, 'x') + "\nERR line-too-long\n");
    CHECK(session.close_reason() == socklab::trace::CloseReason::line_too_long);
    // Nothing after the error is answered.
    std::string after = "more\n";
    CHECK(session.on_receive(after.data(), after.size(), replies) == Session::Verdict::close_after_replies);
    CHECK(replies == "short\n" + std::string(16, 'x') + "\nERR line-too-long\n");
}

TEST_CASE("an over-long line is caught before its end arrives, however it is fragmented") {
    FakeHost host;
    Session session(1, host, 100);
    std::string replies;
    std::string chunk(10, 'z');
    Session::Verdict verdict = Session::Verdict::keep_open;
    for (int i = 0; i < 20 && verdict == Session::Verdict::keep_open; ++i)
        verdict = session.on_receive(chunk.data(), chunk.size(), replies);
    CHECK(verdict == Session::Verdict::close_after_replies);
    CHECK(replies == "ERR line-too-long\n");
}

TEST_CASE("a hundred lines in one read are answered in order") {
    std::string stream, expected;
    for (int i = 0; i < 100; ++i) {
        stream += "line " + std::to_string(i) + (i % 10 == 0 ? "\r\n" : "\n");
        expected += "line " + std::to_string(i) + "\n";
        if (i % 25 == 0) {
            stream += "/stats\n";
            expected += "OK stats model=fake\n";
        }
    }
    CHECK(replies_for(stream, {}) == expected);
}

TEST_CASE("/all broadcasts '<id>: <text>' to the others and replies with the count") {
    FakeHost host;
    Session session(42, host);
    std::string replies;
    std::string line = "/all good morning, class\n";
    session.on_receive(line.data(), line.size(), replies);
    REQUIRE(host.broadcasts.size() == 1);
    CHECK(host.broadcasts[0].first == 42);
    CHECK(host.broadcasts[0].second == "42: good morning, class\n");
    CHECK(replies == "OK all 3\n");
}

TEST_CASE("/all with no text gets a usage error and reaches nobody") {
    for (std::string line : {"/all\n", "/all \n"}) {
        FakeHost host;
        Session session(7, host);
        std::string replies;
        session.on_receive(line.data(), line.size(), replies);
        CHECK(host.broadcasts.empty());
        CHECK(replies == "ERR usage: /all <text>\n");
    }
}

TEST_CASE("/work replies after doing its work; bad arguments get a usage error") {
    CHECK(replies_for("/work 0 0\n", {}) == "OK work 0 0\n");
    CHECK(replies_for("/work 1 1\n", {}) == "OK work 1 1\n");
    CHECK(replies_for("/work\n", {}).rfind("ERR usage: /work", 0) == 0);
    CHECK(replies_for("/work 5\n", {}).rfind("ERR usage: /work", 0) == 0);
    CHECK(replies_for("/work -1 0\n", {}).rfind("ERR usage: /work", 0) == 0);
    CHECK(replies_for("/work 1 2 3\n", {}).rfind("ERR usage: /work", 0) == 0);
    CHECK(replies_for("/work 99999999 0\n", {}).rfind("ERR usage: /work", 0) == 0);
}

TEST_CASE("/quit says BYE, asks to close, and ignores what follows in the same read") {
    FakeHost host;
    Session session(1, host);
    std::string replies;
    std::string stream = "one\n/quit\ntwo\n";
    CHECK(session.on_receive(stream.data(), stream.size(), replies) == Session::Verdict::close_after_replies);
    CHECK(replies == "one\nBYE\n");
    CHECK(session.close_reason() == socklab::trace::CloseReason::quit);
}

TEST_CASE("unknown commands and a bare slash get ERR unknown-command") {
    CHECK(replies_for("/\n/WORK 1 1\n/statsx\n", {}) ==
          "ERR unknown-command\nERR unknown-command\nERR unknown-command\n");
}

TEST_CASE("a last line without its end is answered when the peer closes") {
    FakeHost host;
    Session session(1, host);
    std::string replies;
    session.on_receive("tail\r", 5, replies);
    CHECK(replies.empty());
    CHECK(session.on_peer_closed(replies) == Session::Verdict::close_after_replies);
    CHECK(replies == "tail\n");
}

TEST_CASE("the decoder reports each line exactly once, without its end") {
    LineDecoder decoder(8);
    std::vector<std::string> lines;
    auto collect = [&](std::string_view line) { lines.emplace_back(line); };
    CHECK(decoder.feed("ab", collect) == LineDecoder::Result::ok);
    CHECK(decoder.feed("c\r\nd", collect) == LineDecoder::Result::ok);
    CHECK(decoder.feed("\n", collect) == LineDecoder::Result::ok);
    CHECK(lines == std::vector<std::string>{"abc", "d"});
    CHECK(decoder.pending().empty());
}

TEST_CASE("the session counts lines in and lines out on its host") {
    FakeHost host;
    Session session(1, host);
    std::string replies;
    std::string stream = "a\nb\n/nope\n";
    session.on_receive(stream.data(), stream.size(), replies);
    CHECK(host.counters.lines_in.load() == 3);
    CHECK(host.counters.lines_out.load() == 3);
}

TEST_CASE("the decoder tells the bytes each line took on the wire, its end included") {
    LineDecoder decoder(100);
    std::vector<std::pair<std::string, std::size_t>> lines;
    auto collect = [&](std::string_view line, std::size_t wire_bytes) { lines.emplace_back(line, wire_bytes); };
    CHECK(decoder.feed("ab", collect) == LineDecoder::Result::ok);
    CHECK(decoder.feed("c\r\nd", collect) == LineDecoder::Result::ok);
    CHECK(decoder.feed("\n\n", collect) == LineDecoder::Result::ok);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == std::make_pair(std::string("abc"), std::size_t(5)));  // "abc\r\n", split across two reads
    CHECK(lines[1] == std::make_pair(std::string("d"), std::size_t(2)));
    CHECK(lines[2] == std::make_pair(std::string(""), std::size_t(1)));
}
