#include "zicht/engine/setup.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <filesystem>

#include "zicht/connectors/file.h"
#include "zicht/rules/loader.h"

namespace zicht::engine {

Result<PlanPtr> BuildPlanFromFiles(const EngineSetupOptions& options) {
  rules::LoadOptions load;
  load.retention_ms = options.retention_ms;
  rules::RuleSetLoadResult loaded = rules::LoadRuleSet(options.rule_files, load);
  if (!loaded.rule_set) {
    std::string message;
    for (const rules::Diagnostic& d : loaded.errors) {
      if (!message.empty()) message += '\n';
      message += d.ToString();
    }
    if (message.empty()) message = "rule packs could not be loaded";
    return Status::InvalidArgument(message);
  }
  auto municipalities = MunicipalityTable::Load(options.municipalities_path);
  if (!municipalities.ok()) return municipalities.status();
  PlanOptions plan_options;
  plan_options.allowed_lateness_ms = options.allowed_lateness_ms;
  return Plan::Build(loaded.rule_set, *municipalities, plan_options);
}

Result<TemporaryDirectory> TemporaryDirectory::Make(const std::string& prefix) {
  std::error_code ec;
  std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string templ = (base / (prefix + "XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return Status::IoError(fmt::format("cannot create a temporary directory in {}", base.string()));
  }
  TemporaryDirectory dir;
  dir.path_ = templ;
  return dir;
}

TemporaryDirectory& TemporaryDirectory::operator=(TemporaryDirectory&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TemporaryDirectory::~TemporaryDirectory() {
  if (!path_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

Result<ResumedFileSource> OpenResumedFileSource(Engine& engine, const std::string& path,
                                                bool follow) {
  std::string source_id = "stdin";
  if (path != "-") {
    auto id = connectors::IdentifyFile(path);
    if (!id.ok()) return id.status();
    source_id = fmt::format("file:{}:{}", id->device, id->inode);
  }
  engine.SetSourceId(0, source_id);
  const SourcePosition start = engine.Position(0);
  connectors::FileSourceOptions options;
  options.path = path;
  options.follow = follow;
  ResumedFileSource out;
  if (source_id != "stdin" && start.next_offset > 0) {
    options.start_offset = start.next_offset;
    options.start_line = start.line;
    out.resumed_line = start.line;
  }
  auto source = connectors::OpenFileSource(options);
  if (!source.ok()) return source.status();
  out.source = std::move(source).value();
  out.name = path == "-" ? std::string("stdin") : std::filesystem::path(path).filename().string();
  return out;
}

void PrintSummary(const Engine& engine, double seconds, bool dead_letters_not_written) {
  const EngineStats& st = engine.stats();
  double rate = seconds > 0 ? static_cast<double>(st.records) / seconds : 0;
  fmt::print(stderr, "zicht: {} records in {:.2f} s ({:.0f}/s): {} accepted, {} dead-lettered, {} alerts, {} rule evaluations\n",
             st.records, seconds, rate, st.accepted, st.dead_letters, st.alerts, st.evaluations);
  if (st.dead_letters > 0) {
    std::string reasons;
    for (int r = 0; r < kDeadLetterReasonCount; ++r) {
      if (st.dead_by_reason[r] == 0) continue;
      if (!reasons.empty()) reasons += ", ";
      reasons += fmt::format("{} {}", DeadLetterReasonName(static_cast<DeadLetterReason>(r)),
                             st.dead_by_reason[r]);
    }
    fmt::print(stderr, "zicht: dead letters: {}{}\n", reasons,
               dead_letters_not_written ? " (not written: no --dead-letter file given)" : "");
  }
  for (size_t r = 0; r < st.alerts_by_rule.size(); ++r) {
    if (st.alerts_by_rule[r] == 0) continue;
    const RuleDef& rule = engine.plan().rules()[r];
    fmt::print(stderr, "zicht: alerts {}/{}: {}\n", rule.pack, rule.spec->id, st.alerts_by_rule[r]);
  }
}

}  // namespace zicht::engine
