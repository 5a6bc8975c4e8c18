// Municipal mergers end to end (SPEC 8.3): two municipalities merge into a
// new code and a third is annexed by Amsterdam in the middle of a 150-day
// feed, with old codes still used after the day and late events for days
// before it arriving after it. Alerts are the same byte for byte however six
// partitions are interleaved and across kill -9; from the day on they name
// the new codes only; the new codes' windows equal a recount of every code of
// the merger; the national figure is unchanged; and a reload that adds the
// merger before its day gives what having it from the start gives.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <map>
#include <set>

#include "engine_harness.h"
#include "zicht/base/time.h"

namespace zicht::engine {
namespace {
using namespace zicht::engine::harness;  // NOLINT(google-build-using-namespace): the test
                                         // vocabulary

const std::string kPack = ZICHT_SOURCE_DIR "/tests/engine/data/neighbourhood_pack.yaml";
constexpr int kDays = 150;
constexpr uint64_t kSeed = 5;
const char* const kEffective = "2026-03-17";  // day 75 of the feed
const char* const kNewCode = "GM1999";
const char* const kAmsterdam = "GM0363";

struct Feed {
  std::string a, b, c;              // a, b -> GM1999; c -> Amsterdam
  std::vector<std::string> plain;   // codes as generated (late lines moved)
  std::vector<std::string> merged;  // the same with new codes used after the day
  std::string mergers_csv;
  TemporaryDirectory dir;
  bool complete = false;
};
Feed* feed = nullptr;

std::string CodeOf(simdjson::dom::parser& parser, const std::string& line) {
  simdjson::padded_string json(line);
  return std::string(parser.parse(json)["municipality"].get_string().value());
}
TimeMs TimeOf(simdjson::dom::parser& parser, const std::string& line) {
  simdjson::padded_string json(line);
  return *ParseRfc3339(parser.parse(json)["time"].get_string().value());
}

void BuildFeed() {
  auto munis = reference::MunicipalityTable::Load(kMunicipalities);
  ASSERT_TRUE(munis.ok());
  GeneratorOptions options;
  options.days = kDays;
  options.seed = kSeed;
  // Members with planted anomalies, so the merged codes have alerts to give.
  std::vector<std::string> picked;
  for (const PlannedAnomaly& p : tools::PlanAnomalies(options, (*munis)->rows())) {
    const std::string& code = (*munis)->at(p.municipality).code;
    if (code == kAmsterdam || p.last_day < 80) continue;
    if (std::find(picked.begin(), picked.end(), code) == picked.end()) picked.push_back(code);
  }
  ASSERT_GE(picked.size(), 3u) << "the feed plants too few anomalies after the day";
  feed = new Feed{picked[0], picked[1], picked[2], {}, {}, {}, {}};
  const std::vector<std::string> lines =
      GenerateLines(kDays, kSeed, /*clean=*/true, /*neighbourhoods=*/true, /*scale=*/0.5);
  const TimeMs day = *ParseRfc3339(std::string(kEffective) + "T00:00:00Z");
  // Late events: the old codes' last half day before the day, delivered six
  // hours into it (within the 1d lateness), after the fold.
  simdjson::dom::parser parser;
  std::vector<std::string> late, ordered;
  size_t insert_at = 0;
  for (const std::string& line : lines) {
    const TimeMs t = TimeOf(parser, line);
    const std::string code = CodeOf(parser, line);
    if ((code == feed->a || code == feed->b || code == feed->c) && t >= day - 12 * kMsPerHour &&
        t < day && late.size() < 60) {
      late.push_back(line);
      continue;
    }
    if (insert_at == 0 && t >= day + 6 * kMsPerHour) insert_at = ordered.size();
    ordered.push_back(line);
  }
  ASSERT_GT(late.size(), 5u);
  ordered.insert(ordered.begin() + static_cast<std::ptrdiff_t>(insert_at), late.begin(),
                 late.end());
  feed->plain = ordered;
  // After the day, most events of the old codes name the new ones; a third
  // (and the late ones) keep the old code, which stays valid.
  for (const std::string& line : ordered) {
    std::string out = line;
    const std::string code = CodeOf(parser, line);
    const TimeMs t = TimeOf(parser, line);
    if (t >= day && Murmur3_128(line).lo % 3 != 0) {
      const std::string from = "\"municipality\":\"" + code + "\"";
      std::string to;
      if (code == feed->a || code == feed->b) to = kNewCode;
      if (code == feed->c) to = kAmsterdam;
      if (!to.empty()) out.replace(out.find(from), from.size(), "\"municipality\":\"" + to + "\"");
    }
    feed->merged.push_back(std::move(out));
  }
  auto dir = TemporaryDirectory::Make("zicht-merger-test-");
  ASSERT_TRUE(dir.ok());
  feed->dir = std::move(*dir);
  feed->mergers_csv = feed->dir.path() + "/mergers.csv";
  std::ofstream csv(feed->mergers_csv);
  csv << "effective,old_code,new_code,new_name\n"
      << kEffective << "," << feed->a << "," << kNewCode << ",Testmerge\n"
      << kEffective << "," << feed->b << "," << kNewCode << ",Testmerge\n"
      << kEffective << "," << feed->c << "," << kAmsterdam << ",Amsterdam\n";
  feed->complete = true;
}

class MergerEngineTest : public EngineTest {
 public:
  using EngineTest::Dir;
  static void SetUpTestSuite() {
    if (feed == nullptr) BuildFeed();
  }
  static void TearDownTestSuite() {
    delete feed;
    feed = nullptr;
  }
  // A feed that could not be built fails every test (not a skip).
  void SetUp() override { ASSERT_TRUE(feed != nullptr && feed->complete); }
  PlanPtr MergedPlan() { return LoadPlan({kPack, kSpecPack}, true, feed->mergers_csv); }
  PlanPtr PlainPlan() { return LoadPlan({kPack, kSpecPack}, true); }
};

// Line i of a file, as `zicht replay` hands it to the engine.
Status ProcessLine(Engine& engine, const std::string& line, size_t i) {
  connectors::SourceRecord r;
  r.payload = line;
  r.offset = static_cast<int64_t>(i);
  r.next_offset = r.offset + 1;
  r.line = r.offset + 1;
  return engine.Process(r, "feed", true);
}

TimeMs EffectiveDay() {
  return *ParseRfc3339(std::string(kEffective) + "T00:00:00Z");
}

TEST_F(MergerEngineTest, AlertsDoNotDependOnLayoutOrCrashes) {
  PlanPtr plan = MergedPlan();
  ASSERT_NE(plan, nullptr);
  RunResult reference;
  ExpectLayoutIndependent(*this, plan, feed->merged, &reference);
  // kill -9 just after the fold and a day later: the restarted partitions
  // publish their history from folded rows (NationalWindow unfolds it).
  const std::vector<size_t> order = InterleavePartitions(feed->merged, 6, 3000, 17);
  simdjson::dom::parser parser;
  std::vector<size_t> stops;
  for (TimeMs at : {EffectiveDay() + kMsPerHour, EffectiveDay() + 3 * kMsPerHour,
                    EffectiveDay() + 26 * kMsPerHour}) {
    for (size_t i = 0; i < order.size(); ++i) {
      if (TimeOf(parser, feed->merged[order[i]]) >= at) {
        stops.push_back(i);
        break;
      }
    }
  }
  ASSERT_EQ(stops.size(), 3u);
  Runner crashy(plan, Dir("crash-at-the-day"), 6);
  for (size_t stop : stops) crashy.Run(feed->merged, stop, /*crash=*/true, &order);
  crashy.Run(feed->merged, feed->merged.size(), false, &order);
  EXPECT_EQ(Diff(ById(crashy.Result().alerts), ById(reference.alerts)), "") << "crashes at the day";

  std::map<std::string, int> by_code;
  for (const Alert& a : reference.alerts) ++by_code[a.municipality];
  EXPECT_GT(by_code[kNewCode], 0) << "not vacuous: the new code has alerts";
  EXPECT_EQ(
      reference.stats.dead_by_reason[static_cast<int>(DeadLetterReason::kUnknownMunicipality)], 0);
}

TEST_F(MergerEngineTest, FromTheDayAlertsNameTheNewCodesOnly) {
  Runner run(MergedPlan(), Dir("names"));
  run.Run(feed->merged, feed->merged.size(), false);
  const RunResult result = run.Result();
  int before = 0, after_new = 0;
  for (const Alert& a : result.alerts) {
    const TimeMs t = *ParseRfc3339(a.event_time);
    const bool old =
        a.municipality == feed->a || a.municipality == feed->b || a.municipality == feed->c;
    if (t >= EffectiveDay()) {
      EXPECT_FALSE(old) << a.json;
      after_new += a.municipality == kNewCode ? 1 : 0;
    } else {
      EXPECT_NE(a.municipality, kNewCode) << "the new code exists from its day: " << a.json;
      before += old ? 1 : 0;
    }
  }
  EXPECT_GT(before, 0);
  EXPECT_GT(after_new, 0);
}

// Recounts every municipal-cash alert's count and rate from the raw events:
// cash reports in the 30 days ending with the alert's day, of the new code
// and all its old codes from the day on (late ones too), of the code alone
// before; the rate per the merged population.
TEST_F(MergerEngineTest, MergedWindowsEqualARecountOfEveryCode) {
  PlanPtr plan = MergedPlan();
  Runner run(plan, Dir("recount"));
  run.Run(feed->merged, feed->merged.size(), false);
  const RunResult result = run.Result();
  struct Cash {
    int64_t day;
    std::string code;
    size_t line;
  };
  std::vector<Cash> cash;
  std::map<TimeMs, std::pair<size_t, size_t>> lines_at;  // T -> lines after which it held
  simdjson::dom::parser parser;
  TimeMs clock = kMinTime;
  for (size_t i = 0; i < feed->merged.size(); ++i) {
    simdjson::padded_string json(feed->merged[i]);
    simdjson::dom::element doc = parser.parse(json).value();
    const TimeMs t = *ParseRfc3339(doc["time"].get_string().value());
    if (clock != kMinTime && t < clock - kMsPerDay) continue;  // too_late
    clock = std::max(clock, t);
    auto [at, fresh] = lines_at.emplace(clock, std::pair{i, i});
    at->second.second = i;
    std::string_view type = doc["type"].get_string().value(), channel;
    if (type != "suspicious_transaction") continue;
    if (doc["channel"].get(channel) != simdjson::SUCCESS || channel != "cash") continue;
    cash.push_back(
        Cash{FloorDiv(t, kMsPerDay), std::string(doc["municipality"].get_string().value()), i});
  }
  const MunicipalityTable& munis = plan->municipalities();
  const int64_t effective = FloorDiv(EffectiveDay(), kMsPerDay);
  const std::map<std::string, std::set<std::string>> family = {
      {kNewCode, {kNewCode, feed->a, feed->b}}, {kAmsterdam, {kAmsterdam, feed->c}}};
  double per = 0;
  for (const IndicatorDef& ind : plan->indicators()) {
    if (ind.key.find("cash_municipal") != std::string::npos || ind.spec->id == "cash_municipal")
      per = ind.per;
  }
  ASSERT_GT(per, 0);
  int checked_merged = 0, checked = 0;
  for (const Alert& a : result.alerts) {
    if (a.rule != "municipal-cash") continue;
    simdjson::padded_string json(a.json);
    simdjson::dom::element doc = parser.parse(json).value();
    const TimeMs t = *ParseRfc3339(a.event_time);
    const int64_t day = FloorDiv(t, kMsPerDay);
    std::set<std::string> codes = {a.municipality};
    int64_t population = munis.at(static_cast<size_t>(munis.IndexOf(a.municipality))).population;
    if (day >= effective && family.count(a.municipality)) {
      codes = family.at(a.municipality);
      population = 0;
      for (const std::string& c : codes) {
        const int m = munis.IndexOf(c);
        // The new code's row is the sum of its old ones (it has none of its own).
        if (c != kNewCode) population += munis.at(static_cast<size_t>(m)).population;
      }
      ++checked_merged;
    }
    const int64_t count = doc["conditions"].at(0)["count"].get_int64().value();
    const double rate = doc["conditions"].at(0)["rate"].get_double().value();
    ASSERT_TRUE(lines_at.count(t)) << a.json;
    const auto [first, last] = lines_at.at(t);
    bool matched = false;
    for (size_t upto = first; upto <= last && !matched; ++upto) {
      int64_t n = 0;
      for (const Cash& c : cash) {
        if (c.line <= upto && c.day <= day && c.day > day - 30 && codes.count(c.code)) ++n;
      }
      const double expected = static_cast<double>(n) / static_cast<double>(population) * per;
      matched = n == count && std::fabs(rate - expected) <= 1e-9 * expected;
    }
    EXPECT_TRUE(matched) << a.json;
    ++checked;
  }
  EXPECT_GT(checked_merged, 0) << "no alert on a merged code to check";
  EXPECT_GT(checked, checked_merged);
}

// The national rate is unchanged by a merger: alerts of national_ratio
// rules on municipalities outside it are the same with and without it.
TEST_F(MergerEngineTest, NationalFiguresAreUnchangedByTheMerger) {
  Runner merged(MergedPlan(), Dir("national-merged"));
  merged.Run(feed->merged, feed->merged.size(), false);
  Runner plain(PlainPlan(), Dir("national-plain"));
  plain.Run(feed->plain, feed->plain.size(), false);
  auto outside = [&](const RunResult& r) {
    std::map<std::string, std::string> out;
    for (const Alert& a : r.alerts) {
      if (a.rule != "municipal-cash") continue;
      if (a.municipality == feed->a || a.municipality == feed->b || a.municipality == feed->c ||
          a.municipality == kNewCode || a.municipality == kAmsterdam)
        continue;
      out.emplace(a.id, a.json);
    }
    return out;
  };
  const auto want = outside(plain.Result());
  ASSERT_GT(want.size(), 20u);
  EXPECT_EQ(Diff(outside(merged.Result()), want), "");
}

// A reload that adds the merger before its day: the same alerts as a run
// that had it from the start. With six partitions a merger that moves a code
// to another partition is refused and the engine goes on with its plan.
TEST_F(MergerEngineTest, AReloadAddingTheMergerBeforeItsDayChangesNothing) {
  Runner whole(MergedPlan(), Dir("reload-whole"));
  whole.Run(feed->merged, feed->merged.size(), false);
  const auto want = ById(whole.Result().alerts);

  auto store = OpenRocksDbStateStore(Dir("reload"));
  ASSERT_TRUE(store.ok());
  connectors::MemorySink alerts, dead;
  EngineOptions options;
  options.commit_every_records = 5000;
  options.clock = &kFixedClock;
  Engine engine(PlainPlan(), store->get(), &alerts, &dead, options);
  ASSERT_TRUE(engine.Open().ok());
  engine.SetSourceId(0, "test-feed");
  const TimeMs reload_at = EffectiveDay() - 10 * kMsPerDay;
  simdjson::dom::parser parser;
  bool reloaded = false;
  for (size_t i = 0; i < feed->merged.size(); ++i) {
    if (!reloaded && TimeOf(parser, feed->merged[i]) >= reload_at) {
      ASSERT_TRUE(engine.ReplacePlan(MergedPlan()).ok());
      reloaded = true;
    }
    ASSERT_TRUE(ProcessLine(engine, feed->merged[i], i).ok());
  }
  ASSERT_TRUE(engine.Drain().ok());
  ASSERT_TRUE(engine.Commit().ok());
  EXPECT_EQ(Diff(ById(ParseAlerts(alerts.records)), want), "");

  // Six partitions: a's and b's state lives where their own codes hash.
  auto six_store = OpenRocksDbStateStore(Dir("reload-six"));
  ASSERT_TRUE(six_store.ok());
  options.partitions = 6;
  Engine six(PlainPlan(), six_store->get(), &alerts, &dead, options);
  ASSERT_TRUE(six.Open().ok());
  six.SetSourceId(0, "test-feed");
  for (size_t i = 0; i < 2000; ++i) {
    ASSERT_TRUE(ProcessLine(six, feed->plain[i], i).ok());
  }
  PlanPtr merged = MergedPlan();
  bool moves = false;
  for (const std::string& code : {feed->a, feed->b, feed->c}) {
    moves = moves || KafkaPartitionForKey(code, 6) !=
                         KafkaPartitionForKey(code == feed->c ? kAmsterdam : kNewCode, 6);
  }
  const Status s = six.ReplacePlan(merged);
  if (moves) {
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("moves"), std::string::npos) << s.ToString();
    EXPECT_EQ(six.plan_ptr()->mergers().size(), 0u) << "the engine keeps its plan";
  } else {
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

// A reload that adds a merger whose day is behind: it is folded at once, and
// from then on the old codes' events count under the new code.
TEST_F(MergerEngineTest, AReloadAddingAPastMergerFoldsAtOnce) {
  auto store = OpenRocksDbStateStore(Dir("late-reload"));
  ASSERT_TRUE(store.ok());
  connectors::MemorySink alerts, dead;
  EngineOptions options;
  options.clock = &kFixedClock;
  Engine engine(PlainPlan(), store->get(), &alerts, &dead, options);
  ASSERT_TRUE(engine.Open().ok());
  engine.SetSourceId(0, "test-feed");
  const TimeMs reload_at = EffectiveDay() + 5 * kMsPerDay;
  simdjson::dom::parser parser;
  size_t alerts_before = 0;
  bool reloaded = false;
  for (size_t i = 0; i < feed->plain.size(); ++i) {
    if (!reloaded && TimeOf(parser, feed->plain[i]) >= reload_at) {
      ASSERT_TRUE(engine.ReplacePlan(MergedPlan()).ok());
      reloaded = true;
      alerts_before = alerts.records.size();
    }
    ASSERT_TRUE(ProcessLine(engine, feed->plain[i], i).ok());
  }
  ASSERT_TRUE(engine.Commit().ok());
  const std::vector<Alert> all = ParseAlerts(alerts.records);
  int on_new = 0;
  for (size_t i = alerts_before; i < all.size(); ++i) {
    EXPECT_NE(all[i].municipality, feed->a) << all[i].json;
    EXPECT_NE(all[i].municipality, feed->b) << all[i].json;
    on_new += all[i].municipality == kNewCode ? 1 : 0;
  }
  EXPECT_GT(on_new, 0);
}

// On Kafka the partition is the producer's: old codes keyed by themselves
// land elsewhere than their history, and the engine forwards them (SPEC
// 8.3). One instance owning all six partitions, and two instances owning
// three each and exchanging national records, count them exactly as the
// file replay does on six emulated partitions.
TEST_F(MergerEngineTest, OnKafkaOldCodesKeyedByThemselvesAreForwardedExactly) {
  PlanPtr plan = MergedPlan();
  Runner six(plan, Dir("replay-six"), 6);
  six.Run(feed->merged, feed->merged.size(), false);
  const RunResult reference = six.Result();
  ASSERT_GT(reference.stats.forwarded, 100) << "not vacuous: old codes are keyed elsewhere";
  // All but those of the arrival partitions' last final bucket, which would
  // count once time moved on past the end of the input.
  EXPECT_LE(reference.stats.forwards_applied, reference.stats.forwarded);
  EXPECT_GE(reference.stats.forwards_applied * 100, reference.stats.forwarded * 99);

  auto one = MakeKafkaInstance(plan, Dir("one"), {0, 1, 2, 3, 4, 5});
  auto a = MakeKafkaInstance(plan, Dir("a"), {0, 2, 4});
  auto b = MakeKafkaInstance(plan, Dir("b"), {1, 3, 5});
  const std::vector<size_t> order = InterleavePartitions(feed->merged, 6, 2000, 29);
  ASSERT_NO_FATAL_FAILURE(FeedInstances(*one, *a, *b, KafkaRecords(feed->merged, &order)));
  ASSERT_TRUE(one->engine->Drain().ok());
  for (KafkaInstance* inst : {one.get(), a.get(), b.get()})
    ASSERT_TRUE(inst->engine->Commit().ok());
  EXPECT_EQ(one->engine->stats().forwarded, reference.stats.forwarded);
  EXPECT_EQ(one->dead.records.size(), reference.dead_reasons.size());
  EXPECT_EQ(Diff(ById(ParseAlerts(one->alerts.records)), ById(reference.alerts)), "")
      << "one instance on Kafka vs replay";
  // Two instances: all but the last days (the end of input is per instance).
  EXPECT_EQ(Diff(ByIdBefore(AlertsOf({a.get(), b.get()}), "2026-05-20"),
                 ByIdBefore(reference.alerts, "2026-05-20")),
            "")
      << "two instances vs replay";
  EXPECT_GT(a->engine->stats().forwards_applied + b->engine->stats().forwards_applied, 0);
}

// An event keyed to neither its code's partition nor its history's is
// dead-lettered, never counted elsewhere; the detail says how to key it.
TEST_F(MergerEngineTest, OnKafkaAnEventKeyedToNeitherPartitionIsDeadLettered) {
  PlanPtr plan = MergedPlan();
  const std::string& old_code = feed->a;
  int keyed = 0;
  while (keyed == KafkaPartitionForKey(old_code, 6) || keyed == KafkaPartitionForKey(kNewCode, 6))
    ++keyed;
  auto store = OpenRocksDbStateStore(Dir("kafka-key"));
  ASSERT_TRUE(store.ok());
  connectors::MemorySink alerts, dead;
  EngineOptions options;
  options.partitions = 6;
  options.own_all_partitions = false;
  options.clock = &kFixedClock;
  Engine engine(plan, store->get(), &alerts, &dead, options);
  ASSERT_TRUE(engine.Open().ok());
  ASSERT_TRUE(engine.Assign({0, 1, 2, 3, 4, 5}).ok());
  const std::string line =
      R"({"type":"suspicious_transaction","id":"k-1","time":"2026-04-01T10:00:00Z",)"
      R"("municipality":")" +
      old_code + R"(","amount_eur":10,"channel":"cash","sector":"bank"})";
  connectors::SourceRecord r;
  r.payload = line;
  r.partition = keyed;
  r.offset = 0;
  r.next_offset = 1;
  ASSERT_TRUE(engine.Process(r, "events", false).ok());
  ASSERT_TRUE(engine.Commit().ok());
  ASSERT_EQ(dead.records.size(), 1u);
  EXPECT_EQ(dead.records[0].header(connectors::kReasonHeader), "wrong_partition");
  EXPECT_NE(dead.records[0]
                .header(connectors::kDetailHeader)
                .find(std::string("(merged into ") + kNewCode +
                      ": key its events by the code they name)"),
            std::string::npos)
      << dead.records[0].header(connectors::kDetailHeader);
  EXPECT_EQ(engine.stats().accepted, 0);
}

}  // namespace
}  // namespace zicht::engine
