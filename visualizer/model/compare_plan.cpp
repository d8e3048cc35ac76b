// visualizer/model/compare_plan.cpp — see compare_plan.h.
#include "visualizer/model/compare_plan.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "common/catalog/models.h"

namespace socklab::viz {

const std::vector<std::string>& known_models() {
    static const std::vector<std::string> models = catalog::ids_that_run_here();
    return models;
}

bool check_model(const std::string& name, const std::string& option, std::string& error) {
    const catalog::KnownModel* model = catalog::find_model(name);
    if (model && catalog::how_it_runs(*model) == catalog::HowItRuns::not_here) {
        error = option + ": " + name + " is a Linux model: run it from socklab on Linux";
        return false;
    }
    if (model) return true;
    error = option + ": no model '" + name + "'; the models are:";
    for (const auto& known : known_models()) error += " " + known;
    return false;
}

bool parse_compare_models(const std::string& list, std::vector<std::string>& models, std::string& error) {
    models.clear();
    std::size_t begin = 0;
    for (;;) {
        const std::size_t comma = list.find(',', begin);
        const std::string name = list.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
        if (name.empty()) {
            error = "--compare wants model names separated by commas, such as iocp,select (got '" + list + "')";
            return false;
        }
        if (!check_model(name, "--compare", error)) return false;
        models.push_back(name);
        if (comma == std::string::npos) break;
        begin = comma + 1;
    }
    if (models.size() < 2) {
        error = "--compare needs two or more models to compare, such as --compare iocp,select (got only '" + list +
                "'; --start " + list + " watches one)";
        return false;
    }
    return true;
}

bool parse_compare_ports(const std::string& list, std::size_t model_count, std::vector<std::uint16_t>& ports,
                         std::string& error) {
    ports.clear();
    std::size_t begin = 0;
    while (true) {
        const std::size_t comma = list.find(',', begin);
        const std::string item = list.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
        std::size_t used = 0;
        long port = -1;
        try {
            port = std::stol(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (item.empty() || used != item.size() || port < 1 || port > 65535) {
            error = "--compare-ports takes ports from 1 to 65535 separated by commas, such as 5000,5001 (got '" + item +
                    "')";
            return false;
        }
        for (const auto taken : ports)
            if (taken == port) {
                error = "--compare-ports names port " + item + " twice: each server needs its own";
                return false;
            }
        ports.push_back(static_cast<std::uint16_t>(port));
        if (comma == std::string::npos) break;
        begin = comma + 1;
    }
    if (ports.size() != model_count) {
        error = "--compare-ports needs one port per compared model: " + std::to_string(model_count) + " models, " +
                std::to_string(ports.size()) + " ports";
        return false;
    }
    return true;
}

std::string format_compare_summary(const std::vector<CompareRow>& rows, const std::string& load_description) {
    std::string text = "socklab-viz compare: " + load_description + "\n";
    bool any_wine = false;
    for (const auto& row : rows) any_wine = any_wine || row.runtime.find("Wine") != std::string::npos;
    if (any_wine) text += "Under Wine: compare the models with each other; these are not Windows figures.\n";
    bool any_native = false;
    for (const auto& row : rows) any_native = any_native || row.runtime.rfind("Linux", 0) == 0;
    if (any_wine && any_native)
        text +=
            "Two runtimes: the Linux models ran natively, the Windows ones under Wine (the runtime column); "
            "across them, the gap is mostly the runtime's.\n";
    text += "Latency: median over 250 ms windows of each window's p50 and p99 (nearest rank).\n";
    char line[256];
    std::snprintf(line, sizeof line, "%-20s %-22s %12s %10s %10s %8s  %s\n", "model", "runtime", "replies/s", "p50 ms",
                  "p99 ms", "windows", "replies/s p10-p90");
    text += line;
    for (const auto& row : rows) {
        std::snprintf(line, sizeof line, "%-20s %-22s %12.0f %10.2f %10.2f %8zu  %.0f-%.0f\n", row.io_model.c_str(),
                      row.runtime.empty() ? "(not reported)" : row.runtime.c_str(), row.summary.mean_replies_per_second,
                      double(row.summary.median_p50_ns) / 1e6, double(row.summary.median_p99_ns) / 1e6,
                      row.summary.windows, row.summary.low_replies_per_second, row.summary.high_replies_per_second);
        text += line;
    }
    for (const auto& note : spread_notes(rows)) text += note + "\n";
    return text;
}

std::vector<std::string> spread_notes(const std::vector<CompareRow>& rows) {
    std::vector<std::string> notes;
    for (std::size_t a = 0; a < rows.size(); ++a)
        for (std::size_t b = a + 1; b < rows.size(); ++b)
            if (within_spread(rows[a].summary, rows[b].summary))
                notes.push_back(rows[a].io_model + " and " + rows[b].io_model +
                                ": within the run's spread (p10-p90 of 250 ms windows): not a ranking");
    return notes;
}

}  // namespace socklab::viz
