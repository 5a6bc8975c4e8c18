// EngineRuntime: the long-running `zicht run` around an Engine: its source
// (file or Kafka), sinks, commit cadence, hot reload of rule packs and
// reference data, signals, and the work the HTTP server hands to the engine
// thread. One thread drives the engine; other threads only post tasks.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "zicht/base/status.h"
#include "zicht/engine/engine.h"
#include "zicht/runtime/config.h"

namespace zicht::monitoring {
class HttpServer;
}

namespace zicht::runtime {

// Outcome of a reload attempt, for the API and metrics.
struct ReloadOutcome {
  bool ok = false;
  bool changed = false;
  std::string message;  // errors as file:line:column lines, or a summary
};

// Read-only facts other threads may ask for without touching the engine.
struct RuntimeStatus {
  bool rules_loaded = false;
  bool state_restored = false;
  bool input_done = false;    // a finite file source has been processed
  int64_t consumer_lag = -1;  // Kafka: sum over assigned partitions; -1 unknown
  std::string rule_set_version;
};

class EngineRuntime {
 public:
  explicit EngineRuntime(EngineConfig config);
  ~EngineRuntime();

  // Loads rules and reference data, opens the state store, sinks and source,
  // starts the HTTP server. Errors name the file and position.
  Status Start();
  // Runs until a stop is requested or (file source with exit_at_end) the input
  // is done; commits and closes. Returns the process exit code.
  int Run();

  // Async-signal-safe.
  void RequestStop() { stop_requested_.store(true); }
  void RequestReload() { reload_requested_.store(true); }

  // Runs `task` on the engine thread between records and waits up to
  // `timeout` for it. TryAgain when the engine thread did not get to it.
  Status RunOnEngineThread(const std::function<void(engine::Engine&)>& task,
                           std::chrono::milliseconds timeout);
  // Reloads now (on the engine thread) and reports the outcome.
  ReloadOutcome ReloadNow(std::chrono::milliseconds timeout);

  RuntimeStatus status() const;
  const EngineConfig& config() const { return config_; }
  int http_port() const;

 private:
  Status StartHttp();
  // The file source, positioned after the last record a previous run applied.
  Status OpenFileInput();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  EngineConfig config_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> reload_requested_{false};
};

}  // namespace zicht::runtime
