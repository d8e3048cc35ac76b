// cli/table.cpp — see table.h.
#include "cli/table.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace socklab::cli {

int Table::column(const std::string& key) const {
    for (std::size_t i = 0; i < columns.size(); ++i)
        if (columns[i].key == key) return static_cast<int>(i);
    return -1;
}

double Table::number(std::size_t row, const std::string& key) const {
    int index = column(key);
    if (index < 0 || row >= rows.size() || static_cast<std::size_t>(index) >= rows[row].size()) return 0;
    return std::atof(rows[row][static_cast<std::size_t>(index)].c_str());
}

std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

namespace {

bool reads_as_number(const std::string& text) {
    if (text.empty()) return false;
    char* end = nullptr;
    std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size();
}

std::string json_string(const std::string& text) {
    std::string quoted = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') quoted += '\\', quoted += c;
        else if (c == '\n') quoted += "\\n";
        else if (static_cast<unsigned char>(c) < 0x20) quoted += ' ';
        else quoted += c;
    }
    return quoted + "\"";
}

std::string csv_cell(const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

}  // namespace

std::string render(const Table& table, const std::string& format) {
    std::ostringstream out;
    if (format == "json") {
        out << "{\n  \"title\": " << json_string(table.title) << ",\n  \"rows\": [\n";
        for (std::size_t r = 0; r < table.rows.size(); ++r) {
            out << "    {";
            for (std::size_t c = 0; c < table.columns.size(); ++c) {
                const std::string& cell = c < table.rows[r].size() ? table.rows[r][c] : "";
                out << (c ? ", " : "") << json_string(table.columns[c].key) << ": "
                    << (reads_as_number(cell) ? cell : json_string(cell));
            }
            out << "}" << (r + 1 < table.rows.size() ? "," : "") << "\n";
        }
        out << "  ],\n  \"notes\": [";
        for (std::size_t n = 0; n < table.notes.size(); ++n) out << (n ? ", " : "") << json_string(table.notes[n]);
        out << "]\n}\n";
        return out.str();
    }
    if (format == "csv") {
        for (std::size_t c = 0; c < table.columns.size(); ++c)
            out << (c ? "," : "") << csv_cell(table.columns[c].label);
        out << "\n";
        for (const auto& row : table.rows) {
            for (std::size_t c = 0; c < row.size(); ++c) out << (c ? "," : "") << csv_cell(row[c]);
            out << "\n";
        }
        return out.str();
    }
    out << "## " << table.title << "\n\n|";
    for (const auto& column : table.columns) out << " " << column.label << " |";
    out << "\n|";
    // Numbers right-aligned, so their digits line up; words left-aligned.
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
        bool numbers = false;  // at least one number, and nothing else but empty cells
        for (const auto& row : table.rows)
            if (c < row.size() && !row[c].empty()) {
                if (!reads_as_number(row[c])) {
                    numbers = false;
                    break;
                }
                numbers = true;
            }
        out << (numbers ? " ---: |" : " --- |");
    }
    out << "\n";
    for (const auto& row : table.rows) {
        out << "|";
        for (const auto& cell : row) out << " " << (cell.empty() ? " " : cell) << " |";
        out << "\n";
    }
    for (const std::string& note : table.notes) out << "\n" << note << "\n";
    return out.str();
}

}  // namespace socklab::cli
