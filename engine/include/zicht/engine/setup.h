// Shared start-up for the commands: loading rule packs and reference data into
// a Plan, temporary state directories, and the end-of-run summary.
#pragma once

#include <string>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/connectors/event_source.h"
#include "zicht/engine/engine.h"
#include "zicht/engine/plan.h"
#include "zicht/rules/loader.h"

namespace zicht::engine {

struct EngineSetupOptions {
  std::vector<std::string> rule_files;
  std::string municipalities_path;
  TimeMs allowed_lateness_ms = kMsPerDay;
  TimeMs retention_ms = rules::LoadOptions{}.retention_ms;
};

// Loads and validates the packs and the reference data. On failure the status
// message holds every diagnostic, one `file:line:column: message` per line.
Result<PlanPtr> BuildPlanFromFiles(const EngineSetupOptions& options);

// A directory removed (recursively) when the object goes away.
class TemporaryDirectory {
 public:
  TemporaryDirectory() = default;
  static Result<TemporaryDirectory> Make(const std::string& prefix);
  ~TemporaryDirectory();
  TemporaryDirectory(TemporaryDirectory&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
  }
  TemporaryDirectory& operator=(TemporaryDirectory&& other) noexcept;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A JSONL file source registered with the engine as source 0 and positioned
// after the last record a previous run on the same file applied (the file is
// known by device and inode; standard input, "-", always starts at the top).
struct ResumedFileSource {
  connectors::EventSourcePtr source;
  std::string name;          // file name without directories, or "stdin"
  int64_t resumed_line = 0;  // the line it continues at; 0: from the start
};
Result<ResumedFileSource> OpenResumedFileSource(Engine& engine, const std::string& path,
                                                bool follow);

// Records, accepted events, dead letters by reason, alerts by rule, rate.
void PrintSummary(const Engine& engine, double seconds, bool dead_letters_not_written);

}  // namespace zicht::engine
