#include "case_runner.h"

#include "zicht/base/file.h"
#include "zicht/engine/engine.h"
#include "zicht/runtime/rocksdb_state_store.h"

namespace zicht::tools::rule_test {
namespace {

using engine::Engine;
using engine::EngineOptions;
using runtime::OpenRocksDbStateStore;

constexpr int64_t kCommitEvery = 100000;

// Deterministic, evenly spread background events: for each municipality a
// regular series at its population's rate, offset by a golden-ratio phase so
// that municipalities do not all report at the same instant.
void GenerateBackground(const BackgroundSpec& b, const MunicipalityTable& table, int index,
                        std::vector<EventItem>* out) {
  constexpr double kGolden = 0.6180339887498949;
  for (size_t m = 0; m < table.size(); ++m) {
    if (!b.include[m]) continue;
    const Municipality& row = table.at(m);
    const double per_day = b.per_1000_per_day * static_cast<double>(row.population) / 1000.0;
    if (!(per_day > 0)) continue;
    const double interval = static_cast<double>(kMsPerDay) / per_day;
    double phase = static_cast<double>(m + 1) * kGolden;
    phase -= std::floor(phase);
    for (int64_t k = 0;; ++k) {
      const TimeMs t =
          b.from + static_cast<TimeMs>((static_cast<double>(k) + phase) * interval) / 1000 * 1000;
      if (t >= b.to) break;
      std::string json = "{\"type\":" + JsonString(b.type);
      json += fmt::format(",\"id\":\"bg{}-{}-{}-{}\"", index, b.type, row.code, k + 1);
      json += ",\"time\":\"" + FormatRfc3339(t) + "\",\"municipality\":\"" + row.code + "\"";
      for (const auto& [name, values] : b.fields) {
        // Each municipality starts its cycle elsewhere, so that the national
        // mix is the intended one from the first day on.
        json += "," + JsonString(name) + ":" + values[(static_cast<size_t>(k) + m) % values.size()];
      }
      json.push_back('}');
      out->push_back(EventItem{t, std::move(json), "background", b.line});
    }
  }
}

// An upper bound of the events a background generates (in double: a
// mistyped rate may be astronomically large).
double BackgroundSize(const BackgroundSpec& b, const MunicipalityTable& table) {
  double n = 0;
  for (size_t m = 0; m < table.size(); ++m) {
    if (b.include[m]) {
      n += b.per_1000_per_day * static_cast<double>(table.at(m).population) / 1000.0 *
               static_cast<double>(b.to - b.from) / static_cast<double>(kMsPerDay) +
           1;
    }
  }
  return n;
}

}  // namespace

RuleTestCaseResult CaseRunner::Run(const TestCase& c) {
  RuleTestCaseResult result;
  result.name = c.name;
  result.line = c.line;
  std::vector<EventItem> events;
  double planned = static_cast<double>(c.events.size());
  for (const BackgroundSpec& b : c.background)
    planned += BackgroundSize(b, plan_->municipalities());
  if (!(planned <= static_cast<double>(options_.max_events))) {
    result.failure = fmt::format(
        "    the case would feed about {:.3g} events, more than the limit of {}; lower "
        "per_1000_per_day or shorten the background",
        planned, options_.max_events);
    return result;
  }
  events.reserve(static_cast<size_t>(planned));
  for (size_t i = 0; i < c.background.size(); ++i) {
    GenerateBackground(c.background[i], plan_->municipalities(), static_cast<int>(i + 1), &events);
  }
  events.insert(events.end(), c.events.begin(), c.events.end());
  std::stable_sort(events.begin(), events.end(), [](const EventItem& a, const EventItem& b) {
    return a.sort_time < b.sort_time;
  });
  result.events = static_cast<int64_t>(events.size());

  connectors::MemorySink alerts, dead_letters;
  if (Status s = Feed(c, events, &alerts, &dead_letters); !s.ok()) {
    result.failure = "    engine error: " + s.ToString();
    return result;
  }
  std::vector<GotAlert> got;
  simdjson::dom::parser parser;
  for (const connectors::OutRecord& r : alerts.records) {
    auto a = ParseAlert(parser, r.value);
    if (!a.ok()) {
      result.failure = "    " + a.status().message();
      return result;
    }
    if (a->event_time < c.ignore_alerts_before) continue;  // warm-up
    got.push_back(std::move(*a));
  }
  std::stable_sort(got.begin(), got.end(), [](const GotAlert& a, const GotAlert& b) {
    return a.event_time != b.event_time ? a.event_time < b.event_time : a.rule < b.rule;
  });
  std::vector<GotDeadLetter> dead;
  for (const connectors::OutRecord& r : dead_letters.records) {
    GotDeadLetter d;
    d.reason = std::string(r.header(connectors::kReasonHeader));
    d.detail = std::string(r.header(connectors::kDetailHeader));
    d.source = std::string(r.header(connectors::kSourceHeader));
    simdjson::dom::element doc;
    std::string_view id;
    if (!parser.parse(r.value).get(doc) && !doc["id"].get_string().get(id)) d.id = std::string(id);
    dead.push_back(std::move(d));
  }
  result.alerts = static_cast<int64_t>(got.size());
  result.ignored_alerts = static_cast<int64_t>(alerts.records.size() - got.size());
  result.dead_letters = static_cast<int64_t>(dead.size());
  result.failure = Compare(c, got, dead);
  result.passed = result.failure.empty();
  return result;
}

Status CaseRunner::Feed(const TestCase& c, const std::vector<EventItem>& events,
                        connectors::MemorySink* alerts, connectors::MemorySink* dead_letters) {
  auto dir = TemporaryDirectory::Make("zicht-rules-test-");
  if (!dir.ok()) return dir.status();
  auto store = OpenRocksDbStateStore(dir->path());
  if (!store.ok()) return store.status();
  EngineOptions engine_options;
  engine_options.allowed_lateness_ms = allowed_lateness_;
  const FakeClock clock(options_.emitted_at);
  engine_options.clock = &clock;
  Engine engine(plan_, store->get(), alerts, dead_letters, engine_options);
  ZICHT_RETURN_IF_ERROR(engine.Open());
  size_t tick = 0;
  int64_t offset = 0;
  for (const EventItem& e : events) {
    while (tick < c.eval_at.size() && c.eval_at[tick] < e.sort_time) {
      ZICHT_RETURN_IF_ERROR(engine.AdvanceTo(c.eval_at[tick++]));
    }
    connectors::SourceRecord record;
    record.payload = e.json;
    record.offset = offset;
    record.next_offset = ++offset;
    record.line = e.line;
    ZICHT_RETURN_IF_ERROR(engine.Process(record, e.source, /*route_by_municipality=*/true));
    if (offset % kCommitEvery == 0) ZICHT_RETURN_IF_ERROR(engine.Commit());
  }
  while (tick < c.eval_at.size()) ZICHT_RETURN_IF_ERROR(engine.AdvanceTo(c.eval_at[tick++]));
  ZICHT_RETURN_IF_ERROR(engine.Drain());
  return engine.Commit();
}

std::string CaseRunner::Compare(const TestCase& c, const std::vector<GotAlert>& got,
                                const std::vector<GotDeadLetter>& dead) {
  const MunicipalityTable& table = plan_->municipalities();
  std::string missing, other, unexpected, forbidden, dead_text;
  std::vector<bool> claimed(got.size(), false);
  for (const AlertExpectation& x : c.expect_alerts) {
    int64_t matched = 0;
    std::string near;
    for (size_t i = 0; i < got.size(); ++i) {
      const GotAlert& a = got[i];
      if (!FilterMatches(x, a)) continue;
      claimed[i] = true;
      std::string why = CheckAlert(x, a);
      if (why.empty()) {
        ++matched;
      } else {
        near += fmt::format("\n        got {} at {}, but {}", a.rule, a.event_time_text, why);
      }
    }
    const bool ok = x.count ? matched == *x.count : matched >= 1;
    if (ok) continue;
    missing += "\n    - " + DescribeExpectation(x, table);
    missing += x.count ? fmt::format("\n        matched {} alert{}, expected {}", matched,
                                     matched == 1 ? "" : "s", *x.count)
                       : std::string("\n        no alert matched");
    missing += near;
    // Alerts of the same rule and municipality at other times help to see
    // whether the timing is off.
    std::vector<std::string> times;
    for (const GotAlert& a : got) {
      if (a.rule == x.rule && a.municipality == x.municipality &&
          !InRange(a.event_time, x.from, x.to)) {
        times.push_back(a.event_time_text);
      }
    }
    if (!times.empty()) {
      missing += fmt::format("\n        {} fired for {} at other times: {}", x.rule, x.municipality,
                             JoinNames(times));
    }
  }
  std::vector<bool> reported(got.size(), false);
  for (const NoAlertExpectation& x : c.expect_no_alerts) {
    for (size_t i = 0; i < got.size(); ++i) {
      if (!NoAlertMatches(x, got[i])) continue;
      reported[i] = true;
      forbidden += fmt::format("\n    + {}\n        (expect_no_alerts at line {})",
                               DescribeAlert(got[i]), x.line);
    }
  }
  if (!c.ignore_other_alerts) {
    for (size_t i = 0; i < got.size(); ++i) {
      if (!claimed[i] && !reported[i]) unexpected += "\n    + " + DescribeAlert(got[i]);
    }
  }
  // Dead letters: each must be expected; each expectation must be met.
  std::vector<bool> dead_claimed(dead.size(), false);
  for (const DeadLetterExpectation& x : c.expect_dead_letters) {
    int64_t n = 0;
    for (size_t i = 0; i < dead.size(); ++i) {
      if (dead[i].reason == x.reason && (x.id.empty() || dead[i].id == x.id)) {
        dead_claimed[i] = true;
        ++n;
      }
    }
    const bool ok = x.count ? n == *x.count : n >= 1;
    if (!ok) {
      dead_text += fmt::format("\n    - dead letter {}{}: {} found, expected {}  (line {})",
                               x.reason, x.id.empty() ? "" : " of " + x.id, n,
                               x.count ? std::to_string(*x.count) : "at least 1", x.line);
    }
  }
  // Unexpected ones, grouped: a mistake in a repeated event rejects every copy.
  std::vector<std::pair<size_t, int64_t>> groups;  // first index, how many
  for (size_t i = 0; i < dead.size(); ++i) {
    if (dead_claimed[i]) continue;
    auto same = std::find_if(groups.begin(), groups.end(), [&](const auto& g) {
      return dead[g.first].reason == dead[i].reason && dead[g.first].detail == dead[i].detail &&
             dead[g.first].source == dead[i].source;
    });
    if (same != groups.end()) {
      ++same->second;
    } else {
      groups.emplace_back(i, 1);
    }
  }
  for (const auto& [i, n] : groups) {
    dead_text += fmt::format("\n    + dead letter {} at {}: {}{}", dead[i].reason, dead[i].source,
                             dead[i].detail, n > 1 ? fmt::format(" ({} events)", n) : "");
  }
  if (missing.empty() && unexpected.empty() && forbidden.empty() && dead_text.empty()) return {};
  std::string out;
  if (!missing.empty()) out += "\n    missing alerts (expected, not received):" + missing;
  if (!forbidden.empty()) out += "\n    alerts that expect_no_alerts forbids:" + forbidden;
  if (!unexpected.empty()) out += "\n    unexpected alerts (received, not expected):" + unexpected;
  if (!dead_text.empty())
    out += "\n    dead letters (test events the engine rejected):" + dead_text;
  out += fmt::format("\n    received {} alert{}:", got.size(), got.size() == 1 ? "" : "s");
  if (got.empty()) out += " none";
  for (const GotAlert& a : got) out += "\n      " + DescribeAlert(a);
  return out.substr(1);
}
}  // namespace zicht::tools::rule_test
