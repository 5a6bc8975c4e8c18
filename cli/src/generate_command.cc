// `zicht generate`: writes the seeded synthetic feed (JSONL) and, optionally,
// the planted anomalies; a summary goes to standard error.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>

#include "zicht/cli/commands.h"
#include "zicht/tools/generator.h"

namespace zicht::cli {

using tools::GenerateFeed;
using tools::GeneratorOptions;
namespace {

constexpr int kExitOk = 0;
constexpr int kExitInvalid = 1;
constexpr int kExitUsage = 2;

}  // namespace

int GenerateCommand(const GenerateCommandOptions& options) {
  GeneratorOptions gen;
  gen.days = options.days;
  gen.seed = options.seed;
  gen.start_date = options.start_date;
  gen.scale = options.scale;
  gen.clean = options.clean;
  if (Status s = gen.Validate(); !s.ok()) {
    fmt::print(stderr, "zicht generate: {}\n", s.message());
    return kExitUsage;
  }
  auto municipalities = reference::MunicipalityTable::Load(options.municipalities_path);
  if (!municipalities.ok()) {
    fmt::print(stderr, "zicht generate: {} (choose the table with --municipalities)\n",
               municipalities.status().message());
    return kExitInvalid;
  }

  reference::NeighbourhoodTablePtr neighbourhoods;
  if (!options.neighbourhoods_path.empty()) {
    auto loaded =
        reference::NeighbourhoodTable::Load(options.neighbourhoods_path, **municipalities);
    if (!loaded.ok()) {
      fmt::print(stderr, "zicht generate: {}\n", loaded.status().message());
      return kExitInvalid;
    }
    neighbourhoods = *loaded;
    gen.neighbourhoods = neighbourhoods.get();
  }

  std::unique_ptr<std::ofstream> truth;
  if (!options.anomalies_path.empty()) {
    truth =
        std::make_unique<std::ofstream>(options.anomalies_path, std::ios::binary | std::ios::trunc);
    if (!*truth) {
      fmt::print(stderr, "zicht generate: cannot open {}\n", options.anomalies_path);
      return kExitInvalid;
    }
  }
  std::unique_ptr<std::ofstream> file;
  if (!options.output_path.empty()) {
    file = std::make_unique<std::ofstream>(options.output_path, std::ios::binary | std::ios::trunc);
    if (!*file) {
      fmt::print(stderr, "zicht generate: cannot open {}\n", options.output_path);
      return kExitInvalid;
    }
  }
  std::ostream& events = file ? *file : std::cout;

  auto stats = GenerateFeed(gen, (*municipalities)->rows(), events, truth.get());
  if (stats.ok()) {
    events.flush();
    if (truth) truth->flush();
    if (!events || (truth && !*truth)) stats = Status::IoError("write failed");
  }
  if (!stats.ok()) {
    fmt::print(stderr, "zicht generate: {}\n", stats.status().message());
    return kExitInvalid;
  }
  fmt::print(stderr,
             "zicht generate: {} lines: {} events (suspicious_transaction {}, property_sale {}, "
             "business_registration {}, drug_finding {}), {} delivered late within 1d, {} beyond "
             "1d, {} bad lines, {} planted anomalies\n",
             stats->lines, stats->valid_event_total(), stats->valid_events[0],
             stats->valid_events[1], stats->valid_events[2], stats->valid_events[3],
             stats->delayed_within_lateness, stats->delayed_beyond_lateness,
             stats->bad_line_total(), stats->anomalies.size());
  return kExitOk;
}

}  // namespace zicht::cli
