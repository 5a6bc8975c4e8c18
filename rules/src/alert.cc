// Alert ids and the alert JSON record of SPEC section 5.
#include "zicht/rules/alert.h"

#include <fmt/format.h>

#include <cmath>

#include "zicht/base/json_writer.h"
#include "zicht/base/sha256.h"

namespace zicht::rules {
namespace {

void OptionalDouble(JsonWriter& w, const std::optional<double>& v) {
  if (v) {
    w.Double(*v);  // non-finite becomes null
  } else {
    w.Null();
  }
}

}  // namespace

std::string AlertId(std::string_view rule, std::string_view rule_version,
                    std::string_view municipality, TimeMs event_time) {
  return Sha256Hex(
      fmt::format("{}|{}|{}|{}", rule, rule_version, municipality, FormatDate(event_time)));
}

std::string AlertToJson(const Alert& alert) {
  std::string out;
  out.reserve(512 + 160 * alert.conditions.size() + 24 * alert.evidence.size());
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("alert_id").String(alert.alert_id);
  w.Key("rule").String(alert.rule);
  w.Key("rule_version").String(alert.rule_version);
  w.Key("pack").String(alert.pack);
  w.Key("severity").String(SeverityName(alert.severity));
  w.Key("municipality").String(alert.municipality);
  w.Key("municipality_name").String(alert.municipality_name);
  if (!alert.neighbourhood.empty()) {
    w.Key("neighbourhood").String(alert.neighbourhood);
    w.Key("neighbourhood_name").String(alert.neighbourhood_name);
  }
  w.Key("event_time").String(FormatRfc3339(alert.event_time));
  w.Key("emitted_at").String(FormatRfc3339(alert.emitted_at, /*always_millis=*/true));
  w.Key("conditions").BeginArray();
  for (const ConditionOutcome& c : alert.conditions) {
    w.BeginObject();
    if (!c.id.empty()) w.Key("id").String(c.id);
    w.Key("indicator").String(c.indicator);
    w.Key("measure").String(MeasureName(c.measure));
    w.Key("op").String(OpName(c.op));
    w.Key("value").Double(c.value);
    w.Key("observed");
    // A trend over an empty history is +∞ (SPEC); JSON has no infinity.
    if (c.observed && std::isinf(*c.observed)) {
      w.String(*c.observed > 0 ? "+Inf" : "-Inf");
    } else {
      OptionalDouble(w, c.observed);
    }
    w.Key("count").Int(c.count);
    w.Key("expected");
    OptionalDouble(w, c.expected);
    w.Key("rate");
    OptionalDouble(w, c.rate);
    w.Key("national_rate");
    OptionalDouble(w, c.national_rate);
    w.Key("window");
    if (c.window.empty()) {
      w.Null();
    } else {
      w.String(c.window);
    }
    w.Key("baseline").String(c.baseline);
    w.Key("held").Bool(c.held);
    w.EndObject();
  }
  w.EndArray();
  w.Key("score").Double(alert.score);
  w.Key("evidence").BeginArray();
  for (const std::string& id : alert.evidence) w.String(id);
  w.EndArray();
  w.Key("labels").BeginObject();
  for (const auto& [k, v] : alert.labels) w.Key(k).String(v);
  w.EndObject();
  w.EndObject();
  return out;
}

}  // namespace zicht::rules
