#include "zicht/engine/runtime.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <future>
#include <map>
#include <thread>

#include "zicht/connectors/file.h"
#include "zicht/engine/probe.h"
#include "zicht/engine/setup.h"
#include "zicht/rules/loader.h"

namespace zicht::engine {
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
  connectors::RecordSinkPtr alerts;
  connectors::RecordSinkPtr dead_letters;
  std::unique_ptr<EngineProbe> probe;
  std::unique_ptr<Engine> engine;
  connectors::EventSourcePtr source;
  std::string source_name;
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
    EngineSetupOptions setup;
    setup.rule_files = config.rules;
    setup.municipalities_path = config.municipalities;
    setup.allowed_lateness_ms = config.allowed_lateness_ms;
    setup.retention_ms = config.retention_ms;
    return BuildPlanFromFiles(setup);
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

int EngineRuntime::http_port() const { return -1; }

Status EngineRuntime::Start() {
  Impl& m = *impl_;
  if (auto level = spdlog::level::from_str(config_.log_level); level != spdlog::level::off ||
                                                              config_.log_level == "off") {
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

  auto open_sink = [&](const SinkConfig& sc, bool alerts) -> Result<connectors::RecordSinkPtr> {
    std::vector<connectors::RecordSinkPtr> sinks;
    if (sc.kind == SinkConfig::Kind::kFile) {
      auto s = alerts ? connectors::OpenJsonlSink(sc.path) : connectors::OpenDeadLetterFileSink(sc.path);
      if (!s.ok()) return s.status();
      sinks.push_back(std::move(s).value());
    } else if (sc.kind == SinkConfig::Kind::kKafka) {
      return Status::InvalidArgument("Kafka sinks need the Kafka source wiring");
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

  m.probe = std::make_unique<EngineProbe>();
  EngineOptions options;
  options.allowed_lateness_ms = config_.allowed_lateness_ms;
  options.dedup_horizon_ms = config_.dedup_horizon_ms;
  options.commit_every_records = config_.commit_every_records;
  if (config_.kafka) {
    return Status::InvalidArgument("source.kafka: not available in this build yet");
  }
  m.engine = std::make_unique<Engine>(m.plan, m.store.get(), m.alerts.get(), m.dead_letters.get(),
                                      options, m.probe.get());
  ZICHT_RETURN_IF_ERROR(m.engine->Open());

  // File source: continue where a previous run on the same file stopped.
  const FileSourceConfig& fc = *config_.file;
  std::string source_id = "stdin";
  if (fc.path != "-") {
    auto id = connectors::IdentifyFile(fc.path);
    if (!id.ok()) return id.status();
    source_id = fmt::format("file:{}:{}", id->device, id->inode);
  }
  m.engine->SetSourceId(0, source_id);
  SourcePosition start = m.engine->Position(0);
  connectors::FileSourceOptions so;
  so.path = fc.path;
  so.follow = fc.follow;
  if (source_id != "stdin" && start.next_offset > 0) {
    so.start_offset = start.next_offset;
    so.start_line = start.line;
    spdlog::info("resuming {} at line {}", fc.path, start.line);
  }
  auto source = connectors::OpenFileSource(so);
  if (!source.ok()) return source.status();
  m.source = std::move(source).value();
  m.source_name = fc.path == "-" ? "stdin" : std::filesystem::path(fc.path).filename().string();
  {
    std::lock_guard<std::mutex> lock(m.status_mutex);
    m.status.state_restored = true;
  }
  spdlog::info("zicht running: {} rule packs, {} rules, state in {}", m.plan->rule_set().packs().size(),
               m.plan->rules().size(), config_.state_dir);
  return Status::Ok();
}

int EngineRuntime::Run() {
  Impl& m = *impl_;
  Engine& engine = *m.engine;
  std::vector<connectors::SourceRecord> batch;
  auto last_commit = Clock::now();
  int64_t since_commit = 0;
  bool input_done = false;
  auto commit = [&]() -> bool {
    Status s = engine.Commit();
    if (!s.ok()) {
      spdlog::error("commit failed: {}", s.ToString());
      return false;
    }
    since_commit = 0;
    last_commit = Clock::now();
    return true;
  };
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
      Status s = m.source->Poll(&batch, std::chrono::milliseconds(100));
      if (s.code() == StatusCode::kAborted) {
        if (!engine.Drain().ok() || !commit()) return 1;
        input_done = true;
        {
          std::lock_guard<std::mutex> lock(m.status_mutex);
          m.status.input_done = true;
        }
        const EngineStats& st = engine.stats();
        spdlog::info("input processed: {} records, {} accepted, {} dead-lettered, {} alerts", st.records,
                     st.accepted, st.dead_letters, st.alerts);
        if (config_.exit_at_end) break;
        continue;
      }
      if (!s.ok()) {
        spdlog::error("source: {}", s.ToString());
        return 1;
      }
      for (const connectors::SourceRecord& r : batch) {
        Status ps = engine.Process(r, m.source_name, /*route_by_municipality=*/true);
        if (!ps.ok()) {
          spdlog::error("processing {}: {}", m.source_name, ps.ToString());
          return 1;
        }
        ++since_commit;
        if (since_commit >= config_.commit_every_records && !commit()) return 1;
      }
    } else {
      std::unique_lock<std::mutex> lock(m.task_mutex);
      m.task_cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return !m.tasks.empty(); });
    }
    if ((since_commit > 0 || engine.outbox_pending() > 0) &&
        Clock::now() - last_commit >= std::chrono::milliseconds(config_.commit_interval_ms)) {
      if (!commit()) return 1;
    }
  }
  if (!commit()) return 1;
  spdlog::info("zicht stopped cleanly");
  return 0;
}

Status EngineRuntime::RunOnEngineThread(const std::function<void(Engine&)>& task,
                                        std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> future = done->get_future();
  {
    std::lock_guard<std::mutex> lock(impl_->task_mutex);
    impl_->tasks.push_back([this, task, done] {
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

}  // namespace zicht::engine
