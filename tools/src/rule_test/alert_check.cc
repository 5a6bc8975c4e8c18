#include "alert_check.h"

namespace zicht::tools::rule_test {
namespace {

std::optional<double> NumberOrNull(simdjson::dom::element e) {
  double d;
  if (!e.get_double().get(d)) return d;
  int64_t i;
  if (!e.get_int64().get(i)) return static_cast<double>(i);
  uint64_t u;
  if (!e.get_uint64().get(u)) return static_cast<double>(u);
  std::string_view s;
  if (!e.get_string().get(s)) {
    if (s == "+Inf") return std::numeric_limits<double>::infinity();
    if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  }
  return std::nullopt;
}

std::string StringOf(simdjson::dom::element obj, const char* key) {
  std::string_view s;
  if (obj[key].get_string().get(s)) return {};
  return std::string(s);
}

}  // namespace

Result<GotAlert> ParseAlert(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc))
    return Status::Internal("an alert the engine wrote is not JSON: " + json);
  GotAlert a;
  a.rule = StringOf(doc, "rule");
  a.pack = StringOf(doc, "pack");
  a.severity = StringOf(doc, "severity");
  a.municipality = StringOf(doc, "municipality");
  a.municipality_name = StringOf(doc, "municipality_name");
  a.event_time_text = StringOf(doc, "event_time");
  a.event_time = ParseRfc3339(a.event_time_text).value_or(0);
  a.score = NumberOrNull(doc["score"]).value_or(0);
  simdjson::dom::array conditions;
  if (!doc["conditions"].get_array().get(conditions)) {
    for (simdjson::dom::element c : conditions) {
      GotCondition g;
      g.id = StringOf(c, "id");
      g.indicator = StringOf(c, "indicator");
      g.measure = StringOf(c, "measure");
      g.op = StringOf(c, "op");
      g.window = StringOf(c, "window");
      g.value = NumberOrNull(c["value"]).value_or(0);
      g.observed = NumberOrNull(c["observed"]);
      g.expected = NumberOrNull(c["expected"]);
      g.count = static_cast<int64_t>(NumberOrNull(c["count"]).value_or(0));
      bool held = false;
      if (!c["held"].get_bool().get(held)) g.held = held;
      a.conditions.push_back(std::move(g));
    }
  }
  simdjson::dom::array evidence;
  if (!doc["evidence"].get_array().get(evidence)) {
    for (simdjson::dom::element e : evidence) {
      std::string_view s;
      if (!e.get_string().get(s)) a.evidence.emplace_back(s);
    }
  }
  return a;
}

std::string Num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{:.6g}", v);
}

std::string DescribeAlert(const GotAlert& a) {
  std::string out = fmt::format("{} {} ({}) at {}, score {}, severity {}", a.rule, a.municipality,
                                a.municipality_name, a.event_time_text, Num(a.score), a.severity);
  for (const GotCondition& c : a.conditions) {
    std::string name = c.id.empty() ? "" : c.id + ": ";
    out += fmt::format("\n        {}{} {} {} {}: observed {}, count {}{}{}", name, c.indicator,
                       c.measure, c.op, Num(c.value), c.observed ? Num(*c.observed) : "-", c.count,
                       c.expected ? ", expected " + Num(*c.expected) : "",
                       c.held ? ", held" : ", not held");
  }
  return out;
}

namespace {

std::string DescribeRange(TimeMs from, TimeMs to) {
  if (from == kMinTime && to == kMaxTime) return "";
  auto text = [](TimeMs t, bool end) {
    if (!end && t % kMsPerDay == 0) return FormatDate(t);
    if (end && (t + 1) % kMsPerDay == 0) return FormatDate(t);
    return FormatRfc3339(t);
  };
  if (from != kMinTime && to != kMaxTime && to - from == kMsPerDay - 1 && from % kMsPerDay == 0) {
    return " on " + FormatDate(from);
  }
  if (from == to) return " at " + FormatRfc3339(from);
  if (from == kMinTime) return " until " + text(to, true);
  if (to == kMaxTime) return " from " + text(from, false);
  return fmt::format(" from {} to {}", text(from, false), text(to, true));
}

std::string DescribeCheck(const ConditionCheck& c) {
  std::vector<std::string> parts;
  if (!c.id.empty()) parts.push_back("id " + c.id);
  if (!c.indicator.empty()) parts.push_back(c.indicator);
  if (!c.measure.empty()) parts.push_back(c.measure);
  if (c.held) parts.emplace_back(*c.held ? "held" : "not held");
  if (c.observed_ge) parts.push_back("observed >= " + Num(*c.observed_ge));
  if (c.observed_gt) parts.push_back("observed > " + Num(*c.observed_gt));
  if (c.observed_le) parts.push_back("observed <= " + Num(*c.observed_le));
  if (c.observed_lt) parts.push_back("observed < " + Num(*c.observed_lt));
  if (c.count) parts.push_back(fmt::format("count {}", *c.count));
  if (c.count_ge) parts.push_back(fmt::format("count >= {}", *c.count_ge));
  if (c.count_le) parts.push_back(fmt::format("count <= {}", *c.count_le));
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

}  // namespace

std::string DescribeExpectation(const AlertExpectation& x, const MunicipalityTable& table) {
  int m = table.IndexOf(x.municipality);
  std::string out =
      fmt::format("{} {}{}{}", x.rule, x.municipality,
                  m >= 0 ? fmt::format(" ({})", table.at(static_cast<size_t>(m)).name) : "",
                  DescribeRange(x.from, x.to));
  if (x.count) out += fmt::format(", count {}", *x.count);
  if (!x.severity.empty()) out += ", severity " + x.severity;
  if (x.score_ge) out += ", score >= " + Num(*x.score_ge);
  if (x.score_le) out += ", score <= " + Num(*x.score_le);
  for (const ConditionCheck& c : x.conditions) out += ", [" + DescribeCheck(c) + "]";
  if (!x.evidence.empty()) out += ", evidence includes " + JoinNames(x.evidence);
  out += fmt::format("  (line {})", x.line);
  return out;
}

bool InRange(TimeMs t, TimeMs from, TimeMs to) {
  return t >= from && t <= to;
}

bool FilterMatches(const AlertExpectation& x, const GotAlert& a) {
  return a.rule == x.rule && (x.pack.empty() || a.pack == x.pack) &&
         a.municipality == x.municipality && InRange(a.event_time, x.from, x.to);
}

bool NoAlertMatches(const NoAlertExpectation& x, const GotAlert& a) {
  return (x.rule.empty() || a.rule == x.rule) && (x.pack.empty() || a.pack == x.pack) &&
         (x.municipality.empty() || a.municipality == x.municipality) &&
         InRange(a.event_time, x.from, x.to);
}

namespace {

// Why a condition of the alert does not satisfy the check ("" when one does).
std::string CheckCondition(const ConditionCheck& c, const GotAlert& a) {
  std::string why;
  bool any = false;
  for (const GotCondition& g : a.conditions) {
    if (!c.id.empty() && g.id != c.id) continue;
    if (!c.indicator.empty() && g.indicator != c.indicator) continue;
    if (!c.measure.empty() && g.measure != c.measure) continue;
    any = true;
    std::vector<std::string> failed;
    const std::string observed = g.observed ? Num(*g.observed) : "-";
    auto obs = [&](const std::optional<double>& bound, std::string_view op, bool ok) {
      if (bound && !ok)
        failed.push_back(fmt::format("observed {} is not {} {}", observed, op, Num(*bound)));
    };
    if (c.held && g.held != *c.held) failed.emplace_back(g.held ? "it held" : "it did not hold");
    obs(c.observed_ge, ">=", g.observed && c.observed_ge && *g.observed >= *c.observed_ge);
    obs(c.observed_gt, ">", g.observed && c.observed_gt && *g.observed > *c.observed_gt);
    obs(c.observed_le, "<=", g.observed && c.observed_le && *g.observed <= *c.observed_le);
    obs(c.observed_lt, "<", g.observed && c.observed_lt && *g.observed < *c.observed_lt);
    if (c.count && g.count != *c.count)
      failed.push_back(fmt::format("count {} is not {}", g.count, *c.count));
    if (c.count_ge && g.count < *c.count_ge)
      failed.push_back(fmt::format("count {} is not >= {}", g.count, *c.count_ge));
    if (c.count_le && g.count > *c.count_le)
      failed.push_back(fmt::format("count {} is not <= {}", g.count, *c.count_le));
    if (failed.empty()) return {};
    if (why.empty()) why = fmt::format("{} {}: {}", g.indicator, g.measure, JoinNames(failed));
  }
  if (!any) return fmt::format("no condition matches [{}]", DescribeCheck(c));
  return why;
}

}  // namespace

// Why an alert that passes the filter fails the expectation's checks ("" = it passes).
std::string CheckAlert(const AlertExpectation& x, const GotAlert& a) {
  if (!x.severity.empty() && a.severity != x.severity) {
    return fmt::format("severity {} is not {}", a.severity, x.severity);
  }
  if (x.score_ge && !(a.score >= *x.score_ge))
    return fmt::format("score {} is not >= {}", Num(a.score), Num(*x.score_ge));
  if (x.score_le && !(a.score <= *x.score_le))
    return fmt::format("score {} is not <= {}", Num(a.score), Num(*x.score_le));
  for (const ConditionCheck& c : x.conditions) {
    std::string why = CheckCondition(c, a);
    if (!why.empty()) return why;
  }
  for (const std::string& id : x.evidence) {
    if (std::find(a.evidence.begin(), a.evidence.end(), id) == a.evidence.end()) {
      return fmt::format("evidence does not include {}", id);
    }
  }
  return {};
}

}  // namespace zicht::tools::rule_test
