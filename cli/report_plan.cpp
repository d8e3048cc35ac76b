// cli/report_plan.cpp — see report_plan.h.
#include "cli/report_plan.h"

#include "common/catalog/models.h"

#include <algorithm>

namespace socklab::cli {

std::vector<Section> plan(const std::vector<std::string>& models, bool quick) {
    auto section = [&](std::string name, std::string heading, std::string question, Scenario scenario, unsigned clients,
                       double seconds, std::vector<Plot> plots) {
        Section made{std::move(name), std::move(heading), std::move(question), {}, std::move(plots), {}};
        made.settings.models = models;
        made.settings.scenario = scenario;
        made.settings.load.clients = clients;
        made.settings.load.line_size = 64;
        made.settings.load.duration_seconds = seconds;
        return made;
    };
    std::vector<Section> sections;
    sections.push_back(
        section("echo", "Echo: throughput and latency",
                "Which model answers the most small requests, and how quickly, when many clients each keep one request "
                "outstanding?",
                Scenario::echo, quick ? 8 : 64, quick ? 1 : 10,
                {{"echo-throughput", {"round_trips_per_second"}, "round trips per second", false, 0, ""},
                 {"echo-latency", {"p50_ms", "p99_ms"}, "milliseconds (log scale)", true, 0, ""}}));
    sections.push_back(
        section("slow-handler", "Slow handlers: who stalls everyone else",
                "When one request in ten blocks its handler for 50 ms, do the other clients' echoes wait behind it?",
                Scenario::slow_handler, quick ? 8 : 32, quick ? 1 : 10,
                {{"slow-handler", {"p50_ms", "p99_ms"}, "echo latency, milliseconds (log scale)", true, 0, ""}}));
    sections.back().settings.load.work_every = 10;
    sections.back().settings.load.work_block_ms = 50;
    sections.push_back(section("broadcast", "Broadcast: /all fan-out",
                               "Every line is sent on to every other client: how many deliveries per second does "
                               "each model make, every one checked?",
                               Scenario::broadcast, quick ? 4 : 16, quick ? 1 : 10,
                               {{"broadcast", {"deliveries_per_second"}, "deliveries per second", false, 0, ""}}));
    sections.back().settings.load.broadcast = true;
    sections.push_back(section("capacity", "Capacity: concurrent clients held",
                               "How many clients, all connected at once, does each model serve correctly?",
                               Scenario::capacity, 0, 0,
                               {{"capacity", {"clients_held"}, "clients held, every echo correct", false, 0, ""}}));
    sections.back().settings.capacity_cap = quick ? 250 : 4000;
    sections.push_back(section(
        "tracing-overhead", "What tracing costs",
        "How much throughput does a server lose while it records every wait, wake and completion?",
        Scenario::tracing_overhead, quick ? 8 : 64, quick ? 1 : 12,
        {{"tracing-overhead", {"cost_percent"}, "throughput lost to recording, %", false, 3, "pair_cost_range"}}));
    sections.back().settings.overhead_pairs = quick ? 1 : 3;
    // What the cost section counts: wineserver requests for the Windows models under Wine, system calls for the
    // Linux models (cli/cost.h); a report over both says so wherever it names the count.
    const bool native = std::any_of(models.begin(), models.end(), [](const std::string& model) {
        const catalog::KnownModel* known = catalog::find_model(model);
        return known && known->platform == catalog::Platform::Linux;
    });
    const bool wine = std::any_of(models.begin(), models.end(), [](const std::string& model) {
        const catalog::KnownModel* known = catalog::find_model(model);
        return !known || known->platform == catalog::Platform::Windows;
    });
    const std::string counted = native && wine
                                    ? "calls beneath the server (wineserver requests under Wine, system calls natively)"
                                : native ? "system calls"
                                         : "requests to wineserver";
    sections.push_back(section(
        "cost", "Cost per echo: what one line costs beneath each server",
        "One connection, one line at a time: how many " + counted +
            " does each model make per echo, how "
            "much CPU time and how many context switches does it take, and how long does the client wait? And how many "
            "round trips a second does it serve to 1, 4 and 64 clients? Beside the iocp models, the yardstick (a bare "
            "IOCP echo) shows what socklab's own layers cost.",
        Scenario::cost, 1, 0,
        {{"cost",
          {"requests_per_round_trip"},
          (native && wine ? "calls"
           : native       ? "system calls"
                          : "wineserver requests") +
              std::string(" per round trip (a count)"),
          false,
          0,
          ""}}));
    CompareSettings& cost = sections.back().settings;
    // The yardstick is measured beside the models it is a yardstick for.
    for (const char* iocp : {"iocp", "iocp-acceptex"})
        if (std::find(models.begin(), models.end(), iocp) != models.end()) {
            cost.models.push_back(kYardstick);
            break;
        }
    cost.cost.lines = quick ? 100 : 1000;
    cost.cost.timed_windows = quick ? 1 : 3;
    cost.cost.throughput_seconds = quick ? 1 : 2;
    return sections;
}

}  // namespace socklab::cli
