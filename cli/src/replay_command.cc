// zicht replay: a finite JSONL file through the engine as fast as possible.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "summary.h"
#include "zicht/base/file.h"
#include "zicht/base/version.h"
#include "zicht/cli/commands.h"
#include "zicht/connectors/file.h"
#include "zicht/engine/engine.h"
#include "zicht/monitoring/metrics_registry.h"
#include "zicht/runtime/file_input.h"
#include "zicht/runtime/plan_loader.h"
#include "zicht/runtime/prometheus_probe.h"
#include "zicht/runtime/rocksdb_state_store.h"

namespace zicht::cli {

using engine::Engine;
using engine::EngineOptions;
using runtime::LoadPlan;
using runtime::OpenResumedFileSource;
using runtime::OpenRocksDbStateStore;
using runtime::PlanSources;
using runtime::PrometheusEngineProbe;
using runtime::PrometheusEngineProbeOptions;

int ReplayCommand(const ReplayCommandOptions& options) {
  auto lateness = ParseDuration(options.allowed_lateness);
  if (!lateness) {
    fmt::print(stderr, "zicht replay: --allowed-lateness '{}' is not a duration like 1d or 12h\n",
               options.allowed_lateness);
    return 2;
  }
  PlanSources setup_options;
  setup_options.rule_files = options.rule_files;
  setup_options.municipalities_path = options.municipalities_path;
  setup_options.neighbourhoods_path = options.neighbourhoods_path;
  setup_options.mergers_path = options.mergers_path;
  setup_options.allowed_lateness_ms = lateness->ms();
  auto plan = LoadPlan(setup_options);
  if (!plan.ok()) {
    fmt::print(stderr, "{}\n", plan.status().message());
    return 1;
  }

  TemporaryDirectory temp_dir;
  std::string state_dir = options.state_dir;
  if (state_dir.empty()) {
    auto made = TemporaryDirectory::Make("zicht-replay-");
    if (!made.ok()) {
      fmt::print(stderr, "zicht replay: {}\n", made.status().message());
      return 1;
    }
    temp_dir = std::move(*made);
    state_dir = temp_dir.path();
  }
  auto store = OpenRocksDbStateStore(state_dir);
  if (!store.ok()) {
    fmt::print(stderr, "zicht replay: {}\n", store.status().message());
    return 1;
  }
  auto alerts = connectors::OpenJsonlSink(options.alerts_path);
  if (!alerts.ok()) {
    fmt::print(stderr, "zicht replay: {}\n", alerts.status().message());
    return 1;
  }
  connectors::RecordSinkPtr dead_letters;
  if (!options.dead_letter_path.empty()) {
    auto dl = connectors::OpenDeadLetterFileSink(options.dead_letter_path);
    if (!dl.ok()) {
      fmt::print(stderr, "zicht replay: {}\n", dl.status().message());
      return 1;
    }
    dead_letters = std::move(*dl);
  }

  EngineOptions engine_options;
  engine_options.allowed_lateness_ms = lateness->ms();
  engine_options.partitions = options.partitions;
  // A replay is re-run from its input after a crash anyway: commit rarely
  // (each commit rewrites the day rows and evidence it touched).
  engine_options.commit_every_records = 250000;
  // The same probe as zicht run, when asked for: a batch job's metrics, and
  // the way to measure what metrics cost (bench/replay --metrics).
  std::unique_ptr<monitoring::MetricsRegistry> metrics;
  std::unique_ptr<PrometheusEngineProbe> probe;
  if (!options.metrics_file.empty()) {
    monitoring::MetricsRegistryOptions metrics_options;
    metrics_options.version = VersionString();
    metrics = std::make_unique<monitoring::MetricsRegistry>(metrics_options);
    PrometheusEngineProbeOptions probe_options;
    probe_options.partitions = options.partitions;
    probe = std::make_unique<PrometheusEngineProbe>(metrics.get(), **plan, probe_options);
  }
  Engine engine(*plan, store->get(), alerts->get(), dead_letters.get(), engine_options,
                probe.get());
  if (Status s = engine.Open(); !s.ok()) {
    fmt::print(stderr, "zicht replay: {}\n", s.ToString());
    return 1;
  }

  // Continue where a previous replay of the same file stopped.
  auto source = OpenResumedFileSource(engine, options.input_path, /*follow=*/false);
  if (!source.ok()) {
    fmt::print(stderr, "zicht replay: {}\n", source.status().message());
    return 1;
  }
  if (source->resumed_line > 0 && !options.quiet) {
    fmt::print(stderr, "zicht replay: resuming {} at line {}\n", options.input_path,
               source->resumed_line);
  }
  const std::string source_name = source->name;

  auto started = std::chrono::steady_clock::now();
  std::vector<connectors::SourceRecord> batch;
  Status status;
  int64_t since_commit = 0;
  while (true) {
    status = source->source->Poll(&batch, std::chrono::milliseconds(1000));
    if (status.code() == StatusCode::kAborted) {
      status = Status::Ok();
      break;
    }
    if (!status.ok()) break;
    for (const connectors::SourceRecord& r : batch) {
      status = engine.Process(r, source_name, /*route_by_municipality=*/true);
      if (!status.ok()) break;
      if (++since_commit >= engine_options.commit_every_records) {
        status = engine.Commit();
        since_commit = 0;
        if (!status.ok()) break;
      }
    }
    if (!status.ok()) break;
  }
  if (status.ok()) status = engine.Drain();
  if (status.ok()) status = engine.Commit();
  if (!status.ok()) {
    fmt::print(stderr, "zicht replay: {}\n", status.ToString());
    return 1;
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!options.quiet) PrintSummary(engine, seconds, options.dead_letter_path.empty());
  if (metrics) {
    if (Status s = WriteFileAtomic(options.metrics_file, metrics->Render()); !s.ok()) {
      fmt::print(stderr, "zicht replay: {}\n", s.ToString());
      return 1;
    }
  }
  return 0;
}

}  // namespace zicht::cli
