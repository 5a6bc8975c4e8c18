#include "zicht/runtime/runtime.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <future>
#include <map>
#include <thread>

#include "source_driver.h"
#include "zicht/api/routes.h"
#include "zicht/base/json_writer.h"
#include "zicht/base/version.h"
#include "zicht/connectors/file.h"
#include "zicht/engine/probe.h"
#include "zicht/monitoring/bearer_auth.h"
#include "zicht/monitoring/http_server.h"
#include "zicht/monitoring/metrics_registry.h"
#include "zicht/rules/loader.h"
#include "zicht/runtime/file_input.h"
#include "zicht/runtime/kafka_runtime.h"
#include "zicht/runtime/plan_loader.h"
#include "zicht/runtime/prometheus_probe.h"
#include "zicht/runtime/rocksdb_state_store.h"

namespace zicht::runtime {

using engine::Engine;
using engine::EngineOptions;
using engine::EngineProbe;
using engine::EngineStats;
using engine::PlanPtr;
using engine::ReferenceValues;
using engine::StateStorePtr;
using engine::StateStoreStats;
namespace {

using Clock = std::chrono::steady_clock;

// mtime and size of a file, to notice edits (ConfigMap updates swap symlinks,
// which changes both).
std::string Fingerprint(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return fmt::format("{}:{}:{}", st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size);
}

}  // namespace

struct EngineRuntime::Impl {
  EngineConfig& config;
  PlanPtr plan;
  StateStorePtr store;
  // What the engine writes through: mirrored to the changelog on Kafka.
  std::unique_ptr<ChangelogStateStore> engine_store;
  connectors::RecordSinkPtr alerts;
  connectors::RecordSinkPtr dead_letters;
  std::unique_ptr<monitoring::MetricsRegistry> metrics;
  std::unique_ptr<EngineProbe> probe;
  std::unique_ptr<monitoring::HttpServer> http;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<SourceDriver> driver;  // the input: a file or Kafka
  std::unique_ptr<KafkaRuntime> kafka;
  std::map<std::string, std::string> fingerprints;
  Clock::time_point last_watch = Clock::now();

  // Tasks from other threads, run on the engine thread between records.
  std::mutex task_mutex;
  std::condition_variable task_cv;
  std::deque<std::function<void()>> tasks;

  mutable std::mutex status_mutex;
  RuntimeStatus status;

  explicit Impl(EngineConfig& c) : config(c) {}

  std::vector<std::string> WatchedFiles() const {
    std::vector<std::string> files = config.rules;
    files.push_back(config.municipalities);
    if (!config.neighbourhoods.empty()) files.push_back(config.neighbourhoods);
    if (!config.mergers.empty()) files.push_back(config.mergers);
    if (plan) {
      for (const ReferenceValues& r : plan->references()) files.push_back(r.path);
    }
    return files;
  }
  void RememberFingerprints() {
    fingerprints.clear();
    for (const std::string& f : WatchedFiles()) fingerprints[f] = Fingerprint(f);
  }
  bool FilesChanged() const {
    for (const auto& [f, print] : fingerprints) {
      if (Fingerprint(f) != print) return true;
    }
    return false;
  }

  Result<PlanPtr> BuildPlan() const {
    PlanSources setup;
    setup.rule_files = config.rules;
    setup.municipalities_path = config.municipalities;
    setup.neighbourhoods_path = config.neighbourhoods;
    setup.mergers_path = config.mergers;
    setup.allowed_lateness_ms = config.allowed_lateness_ms;
    setup.retention_ms = config.retention_ms;
    return LoadPlan(setup);
  }

  ReloadOutcome Reload() {
    ReloadOutcome out;
    auto next = BuildPlan();
    if (!next.ok()) {
      out.message = next.status().message();
      spdlog::error("rule reload rejected; the previous rule set keeps running:\n{}", out.message);
      probe->RuleReload(false);
      RememberFingerprints();  // do not retry the same broken files every interval
      return out;
    }
    const std::string old_version = plan->rule_set().version();
    Status s = engine->ReplacePlan(*next);
    if (!s.ok()) {
      out.message = s.ToString();
      spdlog::error("rule reload failed: {}", out.message);
      probe->RuleReload(false);
      return out;
    }
    plan = *next;
    RememberFingerprints();
    out.ok = true;
    out.changed = plan->rule_set().version() != old_version;
    out.message = fmt::format("rule set {} ({} packs, {} rules)", plan->rule_set().version(),
                              plan->rule_set().packs().size(), plan->rules().size());
    spdlog::info("rules reloaded: {}", out.message);
    probe->RuleReload(true);
    std::lock_guard<std::mutex> lock(status_mutex);
    status.rule_set_version = plan->rule_set().version();
    return out;
  }

  void RunTasks() {
    std::deque<std::function<void()>> run;
    {
      std::lock_guard<std::mutex> lock(task_mutex);
      run.swap(tasks);
    }
    for (auto& t : run) t();
  }
};

EngineRuntime::EngineRuntime(EngineConfig config)
    : impl_(std::make_unique<Impl>(config_)), config_(std::move(config)) {}

EngineRuntime::~EngineRuntime() = default;

RuntimeStatus EngineRuntime::status() const {
  std::lock_guard<std::mutex> lock(impl_->status_mutex);
  return impl_->status;
}

int EngineRuntime::http_port() const {
  return impl_->http ? static_cast<int>(impl_->http->port()) : -1;
}

Status EngineRuntime::StartHttp() {
  Impl& m = *impl_;
  monitoring::HttpServerOptions options;
  options.bind_address = config_.http.bind;
  options.port = static_cast<uint16_t>(config_.http.port);
  options.log = [](std::string_view line) { spdlog::warn("http: {}", line); };
  m.http = std::make_unique<monitoring::HttpServer>(options, m.metrics.get());
  m.http->SetReadinessCheck([this] {
    std::vector<std::string> reasons;
    RuntimeStatus st = status();
    if (!st.rules_loaded) reasons.emplace_back("rule packs not loaded");
    if (!st.state_restored) reasons.emplace_back("state not restored");
    if (st.consumer_lag > config_.http.ready_max_lag) {
      reasons.push_back(
          fmt::format("consumer lag {} is above {}", st.consumer_lag, config_.http.ready_max_lag));
    }
    impl_->probe->Ready(reasons.empty());
    return reasons;
  });
  if (config_.http.api) {
    api::RouteOptions routes;
    routes.api.disclosure_min_count = config_.http.disclosure_min_count;
    routes.local_only = config_.http.api_localhost_only;
    ZICHT_RETURN_IF_ERROR(api::InstallApiRoutes(
        *m.http, routes,
        [this](const std::function<void(Engine&)>& task, std::chrono::milliseconds timeout) {
          return RunOnEngineThread(task, timeout);
        }));
  }
  // Admin: reload, behind a bearer token. Without a configured token the
  // endpoint refuses every request rather than being open.
  monitoring::BearerAuthOptions auth_options;
  auth_options.token_file = config_.http.admin_token_file;
  if (auth_options.token_file.empty()) auth_options.token_env = config_.http.admin_token_env;
  auto auth = monitoring::BearerAuth::Load(auth_options);
  monitoring::HttpHandler reload = [this](const monitoring::HttpRequest&) {
    ReloadOutcome outcome = ReloadNow(std::chrono::seconds(30));
    std::string body;
    JsonWriter w(&body);
    w.BeginObject().Key("ok").Bool(outcome.ok).Key("changed").Bool(outcome.changed);
    w.Key("message").String(outcome.message).EndObject();
    return monitoring::HttpResponse::Json(outcome.ok ? 200 : 422, body);
  };
  if (auth.ok()) {
    ZICHT_RETURN_IF_ERROR(m.http->Route("POST", "/api/v1/rules/reload", auth->Protect(reload)));
  } else {
    spdlog::info("admin endpoints disabled: {}", auth.status().message());
    ZICHT_RETURN_IF_ERROR(
        m.http->Route("POST", "/api/v1/rules/reload", [](const monitoring::HttpRequest&) {
          return monitoring::HttpResponse::Error(
              403, "admin endpoints are disabled: no admin token is configured");
        }));
  }
  ZICHT_RETURN_IF_ERROR(m.http->Start());
  spdlog::info("http on {}:{} (metrics /metrics, health /healthz /readyz{})", config_.http.bind,
               m.http->port(), config_.http.api ? ", API /api/v1, dashboard /" : "");
  return Status::Ok();
}

Status EngineRuntime::Start() {
  Impl& m = *impl_;
  if (auto level = spdlog::level::from_str(config_.log_level);
      level != spdlog::level::off || config_.log_level == "off") {
    spdlog::set_level(level);
  }
  auto plan = m.BuildPlan();
  if (!plan.ok()) return plan.status();
  m.plan = *plan;
  m.RememberFingerprints();
  {
    std::lock_guard<std::mutex> lock(m.status_mutex);
    m.status.rules_loaded = true;
    m.status.rule_set_version = m.plan->rule_set().version();
  }
  std::error_code ec;
  std::filesystem::create_directories(config_.state_dir, ec);
  auto store = OpenRocksDbStateStore(config_.state_dir);
  if (!store.ok()) return store.status();
  m.store = std::move(store).value();
  m.engine_store = std::make_unique<ChangelogStateStore>(m.store.get());

  if (config_.kafka) {
    auto kafka = KafkaRuntime::Create(config_, m.store.get());
    if (!kafka.ok()) return kafka.status();
    m.kafka = std::move(kafka).value();
  }
  auto open_sink = [&](const SinkConfig& sc, bool alerts) -> Result<connectors::RecordSinkPtr> {
    std::vector<connectors::RecordSinkPtr> sinks;
    if (sc.kind == SinkConfig::Kind::kFile) {
      auto s =
          alerts ? connectors::OpenJsonlSink(sc.path) : connectors::OpenDeadLetterFileSink(sc.path);
      if (!s.ok()) return s.status();
      sinks.push_back(std::move(s).value());
    } else if (sc.kind == SinkConfig::Kind::kKafka) {
      if (!m.kafka)
        return Status::InvalidArgument("Kafka sinks need a Kafka source (bootstrap servers)");
      auto s = m.kafka->OpenSink(sc);
      if (!s.ok()) return s.status();
      sinks.push_back(std::move(s).value());
    }
    if (sc.print) {
      if (alerts) {
        sinks.push_back(connectors::MakeAlertPrinterSink(stdout));
      } else {
        auto s = connectors::OpenDeadLetterFileSink("-");
        if (!s.ok()) return s.status();
        sinks.push_back(std::move(s).value());
      }
    }
    if (sinks.empty()) return connectors::RecordSinkPtr();
    if (sinks.size() == 1) return std::move(sinks[0]);
    return connectors::MakeFanOutSink(std::move(sinks));
  };
  auto alerts = open_sink(config_.alerts, true);
  if (!alerts.ok()) return alerts.status();
  m.alerts = std::move(alerts).value();
  auto dead = open_sink(config_.dead_letter, false);
  if (!dead.ok()) return dead.status();
  m.dead_letters = std::move(dead).value();

  monitoring::MetricsRegistryOptions metrics_options;
  metrics_options.version = VersionString();
  m.metrics = std::make_unique<monitoring::MetricsRegistry>(metrics_options);
  PrometheusEngineProbeOptions probe_options;
  probe_options.partitions = m.kafka ? m.kafka->partitions() : 1;
  m.probe = std::make_unique<PrometheusEngineProbe>(m.metrics.get(), *m.plan, probe_options);
  EngineOptions options;
  options.allowed_lateness_ms = config_.allowed_lateness_ms;
  options.national_lag_days = config_.national_lag_days;
  options.dedup_horizon_ms = config_.dedup_horizon_ms;
  options.commit_every_records = config_.commit_every_records;
  if (m.kafka) {
    // Partitions come with the consumer group; national figures are shared
    // with the other instances; the outbox is not waited for on commit (the
    // producers acknowledge asynchronously, records stay until they do).
    options.partitions = m.kafka->partitions();
    options.own_all_partitions = false;
    options.export_national = true;
    options.outbox_flush_timeout = std::chrono::milliseconds(0);
  }
  m.engine = std::make_unique<Engine>(m.plan, m.engine_store.get(), m.alerts.get(),
                                      m.dead_letters.get(), options, m.probe.get());
  ZICHT_RETURN_IF_ERROR(m.engine->Open());
  if (m.kafka) {
    ZICHT_RETURN_IF_ERROR(m.kafka->Start(m.engine.get(), m.probe.get(), m.engine_store.get()));
    m.driver = MakeKafkaDriver(m.kafka.get(), config_.kafka->stop_at_end);
  } else {
    ZICHT_RETURN_IF_ERROR(OpenFileInput());
  }
  {
    std::lock_guard<std::mutex> lock(m.status_mutex);
    m.status.state_restored = true;
  }
  if (config_.http.enabled) ZICHT_RETURN_IF_ERROR(StartHttp());
  spdlog::info("zicht running: {} rule packs, {} rules, state in {}",
               m.plan->rule_set().packs().size(), m.plan->rules().size(), config_.state_dir);
  return Status::Ok();
}

Status EngineRuntime::OpenFileInput() {
  Impl& m = *impl_;
  auto opened = OpenResumedFileSource(*m.engine, config_.file->path, config_.file->follow);
  if (!opened.ok()) return opened.status();
  if (opened->resumed_line > 0) {
    spdlog::info("resuming {} at line {}", config_.file->path, opened->resumed_line);
  }
  m.driver =
      MakeFileDriver(std::move(opened->source), std::move(opened->name), config_.exit_at_end);
  return Status::Ok();
}

int EngineRuntime::Run() {
  Impl& m = *impl_;
  Engine& engine = *m.engine;
  std::vector<connectors::SourceRecord> batch;
  auto last_commit = Clock::now();
  auto last_stats = Clock::now() - std::chrono::hours(1);
  int64_t since_commit = 0;
  bool input_done = false;
  // Where the loop's wall time goes, logged at the end (debug level).
  double t_poll = 0, t_process = 0, t_commit = 0, t_maintain = 0;
  auto since = [](Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  auto commit = [&]() -> bool {
    const auto t0 = Clock::now();
    Status s = engine.Commit();
    t_commit += since(t0);
    if (!s.ok()) {
      spdlog::error("commit failed: {}", s.ToString());
      return false;
    }
    since_commit = 0;
    last_commit = Clock::now();
    return true;
  };
  SourceDriver& driver = *m.driver;
  int rc = 0;
  while (!stop_requested_.load()) {
    m.RunTasks();
    const auto now = Clock::now();
    // SIGHUP always reloads; the watch reloads when a file changed.
    const bool forced = reload_requested_.exchange(false);
    bool watch_due = config_.watch_rules &&
                     now - m.last_watch >= std::chrono::milliseconds(config_.watch_interval_ms);
    if (watch_due) m.last_watch = now;
    if (forced || (watch_due && m.FilesChanged())) m.Reload();
    if (!input_done) {
      auto t0 = Clock::now();
      Status s = driver.Poll(&batch, std::chrono::milliseconds(100));
      t_poll += since(t0);
      if (!s.ok()) {
        spdlog::error("source {}: {}", driver.name(), s.ToString());
        rc = 1;
        break;
      }
      t0 = Clock::now();
      for (const connectors::SourceRecord& r : batch) {
        Status ps = engine.Process(r, driver.name(), driver.route_by_municipality());
        if (!ps.ok()) {
          spdlog::error("processing {}: {}", driver.Describe(r), ps.ToString());
          return 1;
        }
        ++since_commit;
        if (since_commit >= config_.commit_every_records && !commit()) return 1;
      }
      t_process += since(t0);
      t0 = Clock::now();
      Status ms = driver.Maintain();
      t_maintain += since(t0);
      if (!ms.ok()) {
        spdlog::error("source {}: {}", driver.name(), ms.ToString());
        return 1;
      }
      if (auto lag = driver.lag()) {
        std::lock_guard<std::mutex> lock(m.status_mutex);
        m.status.consumer_lag = *lag;
      }
      if (driver.AtEnd()) {
        // Events held back for national figures are released by moving
        // lagging partitions on, as for idle partitions.
        if (!engine.Drain().ok() || !commit()) return 1;
        input_done = true;
        {
          std::lock_guard<std::mutex> lock(m.status_mutex);
          m.status.input_done = true;
        }
        const EngineStats& st = engine.stats();
        spdlog::info(
            "input processed: {} records, {} accepted, {} dead-lettered, {} alerts ({} held back "
            "for national figures)",
            st.records, st.accepted, st.dead_letters, st.alerts, st.held_back);
        if (driver.exit_at_end()) break;
        continue;
      }
    } else {
      std::unique_lock<std::mutex> lock(m.task_mutex);
      m.task_cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return !m.tasks.empty(); });
    }
    if (Clock::now() - last_stats >= std::chrono::seconds(5)) {
      last_stats = Clock::now();
      StateStoreStats st = m.store->Stats();
      m.probe->StateStats(static_cast<int64_t>(st.total_sst_bytes + st.memtable_bytes),
                          static_cast<int64_t>(st.pending_compaction_bytes));
    }
    if ((since_commit > 0 || engine.outbox_pending() > 0) &&
        Clock::now() - last_commit >= std::chrono::milliseconds(config_.commit_interval_ms)) {
      if (!commit()) return 1;
    }
  }
  if (!commit()) return 1;
  // Kafka: leaving the group hands the partitions over (revoke -> commit).
  Status closed = driver.Close();
  if (!closed.ok()) spdlog::warn("source {} close: {}", driver.name(), closed.ToString());
  // Alerts and dead letters still in flight: wait for their acknowledgement.
  for (int i = 0; i < 50 && engine.outbox_pending() > 0; ++i) {
    if (!commit()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (m.http) m.http->Stop();
  spdlog::debug(
      "loop wall time: poll {:.2f} s, process {:.2f} s, commit {:.2f} s, maintain {:.2f} s", t_poll,
      t_process, t_commit, t_maintain);
  if (rc == 0) spdlog::info("zicht stopped cleanly");
  return rc;
}

Status EngineRuntime::RunOnEngineThread(const std::function<void(Engine&)>& task,
                                        std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> future = done->get_future();
  {
    std::lock_guard<std::mutex> lock(impl_->task_mutex);
    impl_->tasks.emplace_back([this, task, done] {
      task(*impl_->engine);
      done->set_value();
    });
  }
  impl_->task_cv.notify_one();
  if (future.wait_for(timeout) != std::future_status::ready) {
    return Status::TryAgain("the engine is busy; try again");
  }
  return Status::Ok();
}

ReloadOutcome EngineRuntime::ReloadNow(std::chrono::milliseconds timeout) {
  auto outcome = std::make_shared<ReloadOutcome>();
  Status s = RunOnEngineThread([this, outcome](Engine&) { *outcome = impl_->Reload(); }, timeout);
  if (!s.ok()) {
    ReloadOutcome busy;
    busy.message = s.message();
    return busy;
  }
  return *outcome;
}

}  // namespace zicht::runtime
