// cli/table.h — a table of results, written as Markdown, CSV or JSON.
//
// `socklab compare` prints one; `socklab report` writes several into a Markdown page and plots columns of
// them, so the plots show exactly the numbers in the tables. Cells are text as shown; JSON writes a cell that
// reads as a number as a number.
#pragma once

#include <string>
#include <vector>

namespace socklab::cli {

struct Table {
    struct Column {
        std::string key;    // for JSON and for plotting: "round_trips_per_second"
        std::string label;  // for people: "round trips/s"
    };
    std::string title;
    std::vector<Column> columns;
    std::vector<std::vector<std::string>> rows;  // one cell per column
    std::vector<std::string> notes;              // paragraphs printed under a Markdown table

    // The column with this key, or -1.
    int column(const std::string& key) const;
    // A row's cell as a number (0 when empty or not a number).
    double number(std::size_t row, const std::string& key) const;
};

// format: "md", "csv" or "json".
std::string render(const Table& table, const std::string& format);

// "%.*f", for cells.
std::string fixed(double value, int decimals);

}  // namespace socklab::cli
