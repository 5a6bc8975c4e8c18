// Entry points of the zicht subcommands; each returns the process exit code
// (0 ok, 1 invalid input or configuration, 2 usage).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zicht::cli {

struct RunCommandOptions {
  std::string config_path;
};
int RunCommand(const RunCommandOptions& options);

struct ReplayCommandOptions {
  std::vector<std::string> rule_files;
  std::string municipalities_path;
  std::string neighbourhoods_path;  // empty: none
  std::string mergers_path;         // empty: no municipal mergers
  std::string input_path;           // "-" = standard input
  std::string alerts_path;
  std::string dead_letter_path;  // empty: dead letters are counted and reported only
  std::string state_dir;         // empty: a fresh temporary directory
  std::string allowed_lateness = "1d";
  int partitions = 1;
  bool quiet = false;
  std::string metrics_file;  // non-empty: Prometheus probe, its text written here at the end
};
int ReplayCommand(const ReplayCommandOptions& options);

// Prints the configuration property registry as a Markdown table.
int ConfigDescribeCommand();

// `municipalities`: the table whose columns peers baselines are checked
// against; empty = config/reference/municipalities.csv if present, else none.
int RulesCheckCommand(const std::vector<std::string>& files,
                      const std::string& municipalities = {});
int RulesTestCommand(const std::vector<std::string>& files);

struct GenerateCommandOptions {
  int days = 0;
  uint64_t seed = 0;
  std::string anomalies_path;
  std::string start_date = "2026-01-01";
  double scale = 1.0;
  std::string output_path;  // empty = standard output
  std::string municipalities_path = "config/reference/municipalities.csv";
  std::string neighbourhoods_path;  // empty: events without neighbourhoods
  bool clean = false;               // no deliberately bad lines
};
int GenerateCommand(const GenerateCommandOptions& options);

}  // namespace zicht::cli
