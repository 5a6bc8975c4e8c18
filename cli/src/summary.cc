#include "summary.h"

#include <fmt/format.h>

namespace zicht::cli {

using engine::DeadLetterReason;
using engine::DeadLetterReasonName;
using engine::EngineStats;
using engine::kDeadLetterReasonCount;
using engine::RuleDef;

void PrintSummary(const engine::Engine& engine, double seconds, bool dead_letters_not_written) {
  const EngineStats& st = engine.stats();
  double rate = seconds > 0 ? static_cast<double>(st.records) / seconds : 0;
  fmt::print(stderr,
             "zicht: {} records in {:.2f} s ({:.0f}/s): {} accepted, {} dead-lettered, {} alerts, "
             "{} rule evaluations\n",
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
  if (st.forwarded > 0) {
    // SPEC 8.3: old codes emulated on another partition than their history.
    fmt::print(stderr,
               "zicht: {} events of merged codes forwarded to their new code's partition, {} "
               "counted there (the rest arrived after its last closed day)\n",
               st.forwarded, st.forwards_applied);
  }
  for (size_t r = 0; r < st.alerts_by_rule.size(); ++r) {
    if (st.alerts_by_rule[r] == 0) continue;
    const RuleDef& rule = engine.plan().rules()[r];
    fmt::print(stderr, "zicht: alerts {}/{}: {}\n", rule.pack, rule.spec->id, st.alerts_by_rule[r]);
  }
}

}  // namespace zicht::cli
