// tests/unit/table_test.cpp — the tables socklab compare prints and socklab report plots (cli/table.h): the
// same cells as Markdown, CSV and JSON, with what each format must escape, and numbers read back for plots.
#include "cli/table.h"
#include "tests/catch.hpp"

using socklab::cli::render;
using socklab::cli::Table;

namespace {

Table two_models() {
    Table table;
    table.title = "Echo: 2 clients; measured under Wine 8.0";
    table.columns = {{"model", "model"}, {"round_trips_per_second", "round trips/s"}, {"note", "note"}};
    table.rows = {{"iocp", "9650", "said \"fast\", then left"}, {"select", "3447", ""}};
    table.notes = {"Measured under Wine."};
    return table;
}

}  // namespace

TEST_CASE("table: Markdown has the title, right-aligned numbers and the notes") {
    std::string text = render(two_models(), "md");
    CHECK(text ==
          "## Echo: 2 clients; measured under Wine 8.0\n\n"
          "| model | round trips/s | note |\n"
          "| --- | ---: | --- |\n"
          "| iocp | 9650 | said \"fast\", then left |\n"
          "| select | 3447 |   |\n"
          "\nMeasured under Wine.\n");
}

TEST_CASE("table: CSV quotes a cell with a comma or a quote, doubling the quote") {
    CHECK(render(two_models(), "csv") ==
          "model,round trips/s,note\n"
          "iocp,9650,\"said \"\"fast\"\", then left\"\n"
          "select,3447,\n");
}

TEST_CASE("table: JSON writes numbers as numbers and escapes strings") {
    std::string text = render(two_models(), "json");
    CHECK(text.find("\"title\": \"Echo: 2 clients; measured under Wine 8.0\"") != std::string::npos);
    CHECK(text.find("{\"model\": \"iocp\", \"round_trips_per_second\": 9650, "
                    "\"note\": \"said \\\"fast\\\", then left\"}") != std::string::npos);
    CHECK(text.find("\"round_trips_per_second\": 3447, \"note\": \"\"}") != std::string::npos);
    CHECK(text.find("\"notes\": [\"Measured under Wine.\"]") != std::string::npos);
}

TEST_CASE("table: cells read back as numbers by column key, for plots") {
    Table table = two_models();
    CHECK(table.column("round_trips_per_second") == 1);
    CHECK(table.column("nonsense") == -1);
    CHECK(table.number(0, "round_trips_per_second") == 9650);
    CHECK(table.number(1, "round_trips_per_second") == 3447);
    CHECK(table.number(0, "nonsense") == 0);
    CHECK(table.number(7, "round_trips_per_second") == 0);
}
