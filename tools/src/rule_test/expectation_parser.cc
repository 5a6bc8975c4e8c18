// TestFileParser: expected alerts with their condition checks, no-alert ranges, dead letters.
#include "test_file_parser.h"
#include "zicht/engine/event.h"

namespace zicht::tools::rule_test {

ConditionCheck TestFileParser::ParseConditionCheck(const YAML::Node& node, int rule) {
  ConditionCheck c;
  MapView m(*diag_, node,
            {"id", "indicator", "measure", "held", "observed_ge", "observed_gt", "observed_le",
             "observed_lt", "count", "count_ge", "count_le"},
            "a condition check");
  if (const auto* e = m.Find("id")) {
    if (auto t = Text(*diag_, *e)) c.id = *t;
  }
  if (const auto* e = m.Find("indicator")) {
    if (auto t = Text(*diag_, *e)) c.indicator = *t;
  }
  if (c.id.empty() && c.indicator.empty())
    diag_->Error(node, "a condition check needs 'indicator' or 'id'");
  if (const auto* e = m.Find("measure")) {
    if (auto t = Text(*diag_, *e)) {
      c.measure = *t;
      std::vector<std::string> names;
      for (int i = 0; i <= static_cast<int>(rules::Measure::kMunicipalityRatio); ++i) {
        names.emplace_back(rules::MeasureName(static_cast<rules::Measure>(i)));
      }
      if (std::find(names.begin(), names.end(), *t) == names.end()) {
        diag_->Error(e->value, yaml::UnknownName("measure", *t, names));
      }
    }
  }
  if (rule >= 0) {
    const rules::RuleSpec& spec = *plan_->rules()[static_cast<size_t>(rule)].spec;
    bool found = false;
    std::vector<std::string> indicators, ids;
    for (const rules::ConditionSpec& cs : spec.conditions) {
      indicators.push_back(cs.indicator);
      if (!cs.id.empty()) ids.push_back(cs.id);
      found = found || ((c.indicator.empty() || cs.indicator == c.indicator) &&
                        (c.id.empty() || cs.id == c.id) &&
                        (c.measure.empty() || rules::MeasureName(cs.measure) == c.measure));
    }
    if (!found && (!c.indicator.empty() || !c.id.empty())) {
      std::string what =
          !c.id.empty() ? fmt::format("id '{}'", c.id) : fmt::format("indicator '{}'", c.indicator);
      if (!c.measure.empty()) what += fmt::format(" and measure {}", c.measure);
      diag_->Error(node, fmt::format("rule {} has no condition with {} (its conditions read {}{})",
                                     spec.id, what, JoinNames(indicators),
                                     ids.empty() ? "" : "; ids " + JoinNames(ids)));
    }
  }
  if (const auto* e = m.Find("held")) c.held = Bool(*diag_, *e);
  if (const auto* e = m.Find("observed_ge")) c.observed_ge = Number(*diag_, *e);
  if (const auto* e = m.Find("observed_gt")) c.observed_gt = Number(*diag_, *e);
  if (const auto* e = m.Find("observed_le")) c.observed_le = Number(*diag_, *e);
  if (const auto* e = m.Find("observed_lt")) c.observed_lt = Number(*diag_, *e);
  if (const auto* e = m.Find("count")) c.count = Integer(*diag_, *e, 0);
  if (const auto* e = m.Find("count_ge")) c.count_ge = Integer(*diag_, *e, 0);
  if (const auto* e = m.Find("count_le")) c.count_le = Integer(*diag_, *e, 0);
  return c;
}

AlertExpectation TestFileParser::ParseAlertExpectation(const YAML::Node& node) {
  AlertExpectation x;
  x.line = diag_->Mark(node).line;
  MapView m(*diag_, node,
            {"rule", "pack", "municipality", "at", "from", "to", "count", "severity", "score_ge",
             "score_le", "conditions", "evidence"},
            "an expected alert");
  const auto* rule = m.Find("rule");
  if (rule == nullptr) diag_->Error(node, "an expected alert needs 'rule'");
  const bool rule_ok = CheckRule(rule, m.Find("pack"), &x.rule, &x.pack);
  if (const auto* e = m.Find("municipality")) {
    if (e->value.IsScalar()) {
      x.municipality = MunicipalityCode(e->value);
    } else {
      diag_->Error(e->value, "'municipality' needs a code (GM0363) or a name");
    }
  } else {
    diag_->Error(node, "an expected alert needs 'municipality'");
  }
  ParseRange(m, &x.from, &x.to);
  if (const auto* e = m.Find("count")) x.count = Integer(*diag_, *e, 0);
  if (const auto* e = m.Find("severity")) {
    if (auto t = Text(*diag_, *e)) {
      x.severity = *t;
      std::vector<std::string> names;
      for (int i = 0; i <= static_cast<int>(rules::Severity::kCritical); ++i) {
        names.emplace_back(rules::SeverityName(static_cast<rules::Severity>(i)));
      }
      if (std::find(names.begin(), names.end(), *t) == names.end()) {
        diag_->Error(e->value, yaml::UnknownName("severity", *t, names));
      }
    }
  }
  if (const auto* e = m.Find("score_ge")) x.score_ge = Number(*diag_, *e);
  if (const auto* e = m.Find("score_le")) x.score_le = Number(*diag_, *e);
  if (const auto* e = m.Find("conditions")) {
    const int r = rule_ok && !x.rule.empty() ? RuleIndex(x.rule, x.pack) : -1;
    for (const YAML::Node& item : Items(*e)) x.conditions.push_back(ParseConditionCheck(item, r));
  }
  if (const auto* e = m.Find("evidence")) {
    for (const YAML::Node& v : ScalarList(*diag_, *e)) x.evidence.push_back(v.Scalar());
  }
  return x;
}

NoAlertExpectation TestFileParser::ParseNoAlert(const YAML::Node& node) {
  NoAlertExpectation x;
  x.line = diag_->Mark(node).line;
  MapView m(*diag_, node, {"rule", "pack", "municipality", "at", "from", "to"},
            "an expectation of no alerts");
  CheckRule(m.Find("rule"), m.Find("pack"), &x.rule, &x.pack);
  if (const auto* e = m.Find("municipality")) {
    if (e->value.IsScalar()) {
      x.municipality = MunicipalityCode(e->value);
    } else {
      diag_->Error(e->value, "'municipality' needs a code (GM0363) or a name");
    }
  }
  if (!m.Find("rule") && !m.Find("municipality") && !m.Find("pack")) {
    diag_->Error(node, "an expectation of no alerts needs 'rule', 'pack' and/or 'municipality'");
  }
  ParseRange(m, &x.from, &x.to);
  return x;
}

DeadLetterExpectation TestFileParser::ParseDeadLetter(const YAML::Node& node) {
  DeadLetterExpectation x;
  x.line = diag_->Mark(node).line;
  MapView m(*diag_, node, {"reason", "id", "count"}, "an expected dead letter");
  if (const auto* e = m.Find("reason")) {
    if (auto t = Text(*diag_, *e)) {
      x.reason = *t;
      std::vector<std::string> names;
      names.reserve(engine::kDeadLetterReasonCount);
      for (int i = 0; i < engine::kDeadLetterReasonCount; ++i) {
        names.emplace_back(engine::DeadLetterReasonName(static_cast<engine::DeadLetterReason>(i)));
      }
      if (std::find(names.begin(), names.end(), *t) == names.end()) {
        diag_->Error(e->value, yaml::UnknownName("dead-letter reason", *t, names));
      }
    }
  } else {
    diag_->Error(node, "an expected dead letter needs 'reason'");
  }
  if (const auto* e = m.Find("id")) {
    if (auto t = Text(*diag_, *e)) x.id = *t;
  }
  if (const auto* e = m.Find("count")) x.count = Integer(*diag_, *e, 0);
  return x;
}

}  // namespace zicht::tools::rule_test
