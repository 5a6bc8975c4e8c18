// zicht command line (SPEC section 6): run, replay, rules check|test, generate.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "zicht/base/version.h"
#include "zicht/cli/commands.h"

namespace {

// SPEC exit codes: 0 ok, 1 invalid input or configuration, 2 usage.
constexpr int kExitUsage = 2;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "zicht: continuous \"Zicht op\" monitoring of municipalities against the national average"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("zicht ") + zicht::VersionString());

  // run
  zicht::cli::RunCommandOptions run_opts;
  auto* run = app.add_subcommand("run", "Run the long-running engine (Kafka or files)");
  run->add_option("--config", run_opts.config_path, "Engine configuration (YAML)")->required();

  // replay
  zicht::cli::ReplayCommandOptions replay_opts;
  auto* replay = app.add_subcommand("replay", "Process a finite JSONL file as fast as possible");
  replay->add_option("--rules", replay_opts.rule_files, "Rule pack(s), comma separated")
      ->required()
      ->delimiter(',');
  replay
      ->add_option("--municipalities", replay_opts.municipalities_path,
                   "Municipality reference CSV")
      ->required();
  replay->add_option("--neighbourhoods", replay_opts.neighbourhoods_path,
                     "Neighbourhood (CBS buurt) reference CSV (default: none)");
  replay->add_option("--mergers", replay_opts.mergers_path,
                     "Municipal mergers CSV: effective,old_code,new_code,new_name (default: none)");
  replay->add_option("--input", replay_opts.input_path, "Events (JSONL), - for standard input")
      ->required();
  replay->add_option("--alerts", replay_opts.alerts_path, "Alerts output (JSONL)")->required();
  replay->add_option("--dead-letter", replay_opts.dead_letter_path, "Dead-letter output (JSONL)");
  replay->add_option("--state-dir", replay_opts.state_dir,
                     "State directory (default: a fresh temporary one)");
  replay->add_option("--allowed-lateness", replay_opts.allowed_lateness,
                     "How far behind the newest event time an event may be (default 1d)");
  replay
      ->add_option("--partitions", replay_opts.partitions,
                   "Emulate N Kafka partitions keyed by municipality (default 1)")
      ->check(CLI::Range(1, 1024));
  replay->add_flag("--quiet", replay_opts.quiet, "No summary on standard error");
  replay->add_option("--metrics-file", replay_opts.metrics_file,
                     "Count the zicht_* metrics as zicht run does and write them at the end in "
                     "Prometheus text format (e.g. for node_exporter's textfile collector)");

  // rules check | test
  auto* rules = app.add_subcommand("rules", "Rule pack tools");
  rules->require_subcommand(1);
  std::vector<std::string> check_files;
  auto* check = rules->add_subcommand("check", "Validate rule packs; exit 1 on any error");
  check->add_option("packs", check_files, "Rule pack files")->required();
  std::string check_municipalities;
  check->add_option("--municipalities", check_municipalities,
                    "Municipality CSV whose columns `baseline: {peers: COLUMN}` may name "
                    "(default config/reference/municipalities.csv when it exists)");
  std::vector<std::string> test_files;
  auto* test = rules->add_subcommand("test", "Run analyst-written rule test files");
  test->add_option("files", test_files, "Rule test files")->required();

  // generate
  zicht::cli::GenerateCommandOptions gen_opts;
  auto* generate = app.add_subcommand("generate", "Write a seeded synthetic event feed (JSONL)");
  generate->add_option("--days", gen_opts.days, "Days of events")
      ->required()
      ->check(CLI::Range(1, 3660));
  generate->add_option("--seed", gen_opts.seed, "Random seed")->required();
  generate->add_option("--anomalies", gen_opts.anomalies_path,
                       "Write the planted anomalies (truth file, JSONL)");
  generate->add_option("--start", gen_opts.start_date,
                       "First day, YYYY-MM-DD (default 2026-01-01)");
  generate->add_option("--scale", gen_opts.scale,
                       "Multiply all event rates (default 1.0; 10 gives ~10x events)");
  generate->add_option("--output,-o", gen_opts.output_path,
                       "Output file (default standard output)");
  generate->add_option("--municipalities", gen_opts.municipalities_path,
                       "Municipality reference CSV (default config/reference/municipalities.csv)");
  generate->add_option("--neighbourhoods", gen_opts.neighbourhoods_path,
                       "Neighbourhood (CBS buurt) CSV: every event names a neighbourhood of its "
                       "municipality (default: none)");
  generate->add_flag("--clean", gen_opts.clean, "No deliberately bad lines");

  // config describe: the property registry as Markdown (docs/configuration.md).
  auto* config = app.add_subcommand("config", "Engine configuration tools");
  config->require_subcommand(1);
  auto* describe =
      config->add_subcommand("describe", "Print every configuration key as a Markdown table");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  if (*run) return zicht::cli::RunCommand(run_opts);
  if (*replay) return zicht::cli::ReplayCommand(replay_opts);
  if (*check) return zicht::cli::RulesCheckCommand(check_files, check_municipalities);
  if (*test) return zicht::cli::RulesTestCommand(test_files);
  if (*generate) return zicht::cli::GenerateCommand(gen_opts);
  if (*describe) return zicht::cli::ConfigDescribeCommand();
  return kExitUsage;
}
