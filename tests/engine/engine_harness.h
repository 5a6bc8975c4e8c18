// The harness of the end-to-end engine tests: a feed from the generator, a
// Runner that drives an Engine over a real RocksDB directory as `zicht replay`
// does (with kill -9 emulation), and comparisons of alert sets.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <initializer_list>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string_view>

#include "zicht/base/file.h"
#include "zicht/base/hash.h"
#include "zicht/engine/engine.h"
#include "zicht/rules/loader.h"
#include "zicht/runtime/plan_loader.h"
#include "zicht/runtime/rocksdb_state_store.h"
#include "zicht/tools/generator.h"

namespace zicht::engine::harness {
using runtime::OpenRocksDbStateStore;
using runtime::PlanSources;
using tools::AnomalyKind;
using tools::GenerateFeed;
using tools::GeneratorOptions;
using tools::PlannedAnomaly;
// Alerts carry a fixed emitted_at, so outputs compare byte for byte.
inline const FakeClock kFixedClock(1800000000000);

inline const std::string kMunicipalities = ZICHT_SOURCE_DIR "/config/reference/municipalities.csv";
inline const std::string kSpecPack = ZICHT_SOURCE_DIR "/tests/rules/data/spec_example.yaml";

struct Alert {
  std::string id, rule, municipality, event_time;
  std::string json;
  bool operator<(const Alert& o) const { return id < o.id; }
};

inline std::vector<Alert> ParseAlerts(const std::vector<connectors::OutRecord>& records) {
  std::vector<Alert> out;
  simdjson::dom::parser parser;
  for (const auto& r : records) {
    simdjson::padded_string json(r.value);
    simdjson::dom::element doc = parser.parse(json).value();
    Alert a;
    a.id = std::string(doc["alert_id"].get_string().value());
    a.rule = std::string(doc["rule"].get_string().value());
    a.municipality = std::string(doc["municipality"].get_string().value());
    a.event_time = std::string(doc["event_time"].get_string().value());
    a.json = r.value;
    out.push_back(std::move(a));
  }
  return out;
}

inline const std::string kNeighbourhoods = ZICHT_SOURCE_DIR "/config/reference/neighbourhoods.csv";

// `neighbourhoods`: every event names one (the shipped synthetic buurten).
inline std::vector<std::string> GenerateLines(int days, uint64_t seed, bool clean,
                                              bool neighbourhoods = false, double scale = 1) {
  auto munis = reference::MunicipalityTable::Load(kMunicipalities);
  EXPECT_TRUE(munis.ok());
  GeneratorOptions options;
  options.days = days;
  options.seed = seed;
  options.clean = clean;
  options.scale = scale;
  reference::NeighbourhoodTablePtr buurten;
  if (neighbourhoods) {
    auto loaded = reference::NeighbourhoodTable::Load(kNeighbourhoods, **munis);
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    buurten = *loaded;
    options.neighbourhoods = buurten.get();
  }
  std::stringstream out;
  auto stats = GenerateFeed(options, (*munis)->rows(), out, nullptr);
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(out, line)) lines.push_back(line);
  return lines;
}

// `mergers`: a mergers CSV (SPEC 8.3), empty for none.
inline PlanPtr LoadPlan(const std::vector<std::string>& packs, bool neighbourhoods = false,
                        const std::string& mergers = {}) {
  PlanSources setup;
  setup.rule_files = packs;
  setup.municipalities_path = kMunicipalities;
  if (neighbourhoods) setup.neighbourhoods_path = kNeighbourhoods;
  setup.mergers_path = mergers;
  auto plan = LoadPlan(setup);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return *plan;
}

// Runs lines [begin, end) through an engine on `dir`, the way `zicht replay`
// does (offsets are line numbers; route by municipality).
struct RunResult {
  std::vector<Alert> alerts;
  std::vector<std::string> dead_reasons;
  EngineStats stats;
};

class Runner {
 public:
  Runner(PlanPtr plan, std::string dir, int partitions = 1)
      : plan_(std::move(plan)), dir_(std::move(dir)) {
    options_.partitions = partitions;
    options_.commit_every_records = 5000;
    options_.clock = &kFixedClock;
  }

  // Processes records from the engine's resume position up to `stop` (or
  // the end); with `crash`, returns without the final commit, as kill -9 would.
  void Run(const std::vector<std::string>& lines, size_t stop, bool crash,
           const std::vector<size_t>* order = nullptr) {
    auto store = OpenRocksDbStateStore(dir_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Engine engine(plan_, store->get(), &alerts_, &dead_, options_);
    ASSERT_TRUE(engine.Open().ok());
    engine.SetSourceId(0, "test-feed");
    size_t start = static_cast<size_t>(engine.Position(0).next_offset);
    int64_t since = 0;
    for (size_t i = start; i < std::min(stop, lines.size()); ++i) {
      size_t line_index = order != nullptr ? (*order)[i] : i;
      connectors::SourceRecord r;
      r.payload = lines[line_index];
      r.offset = static_cast<int64_t>(i);
      r.next_offset = static_cast<int64_t>(i) + 1;
      r.line = static_cast<int64_t>(i) + 1;
      ASSERT_TRUE(engine.Process(r, "feed", true).ok());
      if (++since >= options_.commit_every_records) {
        ASSERT_TRUE(engine.Commit().ok());
        since = 0;
      }
    }
    if (crash) return;
    if (stop >= lines.size()) {
      ASSERT_TRUE(engine.Drain().ok());
    }
    ASSERT_TRUE(engine.Commit().ok());
    stats_ = engine.stats();
  }

  RunResult Result() {
    RunResult r;
    r.alerts = ParseAlerts(alerts_.records);
    for (const auto& d : dead_.records)
      r.dead_reasons.emplace_back(d.header(connectors::kReasonHeader));
    r.stats = stats_;
    return r;
  }

  EngineOptions options_;

 private:
  PlanPtr plan_;
  std::string dir_;
  connectors::MemorySink alerts_, dead_;
  EngineStats stats_;
};

// One instance of a Kafka deployment: its own store and sinks, owning
// `partitions` of six, exporting its national records for the others.
struct KafkaInstance {
  StateStorePtr store;
  connectors::MemorySink alerts, dead;
  std::unique_ptr<Engine> engine;
};

inline std::unique_ptr<KafkaInstance> MakeKafkaInstance(const PlanPtr& plan, const std::string& dir,
                                                        const std::vector<int>& partitions) {
  auto inst = std::make_unique<KafkaInstance>();
  auto opened = OpenRocksDbStateStore(dir);
  EXPECT_TRUE(opened.ok());
  inst->store = std::move(opened).value();
  EngineOptions o;
  o.partitions = 6;
  o.own_all_partitions = false;
  o.export_national = true;
  o.clock = &kFixedClock;
  inst->engine = std::make_unique<Engine>(plan, inst->store.get(), &inst->alerts, &inst->dead, o);
  EXPECT_TRUE(inst->engine->Open().ok());
  EXPECT_TRUE(inst->engine->Assign(partitions).ok());
  return inst;
}

// Hands the national records (snapshots, forward batches) of each instance
// to the other until neither has more to say: a record received may release
// held events, which publish the next ones.
inline void ExchangeNational(KafkaInstance& a, KafkaInstance& b) {
  for (bool sent = true; sent;) {
    sent = false;
    for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      for (auto& [key, value] : from->engine->TakeNationalSnapshots()) {
        ASSERT_TRUE(to->engine->ApplyNationalSnapshot(value).ok());
        sent = true;
      }
    }
  }
}

// Alerts keyed by id with their full JSON: equal runs give equal explanations.
inline std::map<std::string, std::string> ById(const std::vector<Alert>& alerts) {
  std::map<std::string, std::string> m;
  for (const Alert& a : alerts) m.emplace(a.id, a.json);
  return m;
}

// The lines as records of a six-partition Kafka topic keyed by the
// municipality code as written (murmur2), with offsets per partition, in
// `order` (null: file order). Payloads point into `lines`.
inline std::vector<connectors::SourceRecord> KafkaRecords(const std::vector<std::string>& lines,
                                                          const std::vector<size_t>* order) {
  std::vector<connectors::SourceRecord> out;
  std::vector<int64_t> offset(6, 0);
  simdjson::dom::parser parser;
  for (size_t n = 0; n < lines.size(); ++n) {
    const std::string& line = lines[order != nullptr ? (*order)[n] : n];
    simdjson::padded_string json(line);
    connectors::SourceRecord r;
    r.payload = line;
    r.partition = KafkaPartitionForKey(parser.parse(json)["municipality"].get_string().value(), 6);
    r.offset = offset[static_cast<size_t>(r.partition)]++;
    r.next_offset = r.offset + 1;
    out.push_back(r);
  }
  return out;
}

// Feeds every record to `one` (owning all partitions) and to whichever of
// `a` (even partitions) and `b` (odd) owns it; a and b exchange their
// national records every 500 records and at the end.
inline void FeedInstances(KafkaInstance& one, KafkaInstance& a, KafkaInstance& b,
                          const std::vector<connectors::SourceRecord>& records) {
  auto exchange = [&] {
    ExchangeNational(a, b);
    one.engine->TakeNationalSnapshots();
  };
  for (size_t n = 0; n < records.size(); ++n) {
    const connectors::SourceRecord& r = records[n];
    ASSERT_TRUE(one.engine->Process(r, "events", false).ok());
    KafkaInstance& owner = r.partition % 2 == 0 ? a : b;
    ASSERT_TRUE(owner.engine->Process(r, "events", false).ok());
    if (n % 500 == 0) exchange();
  }
  exchange();
}

// The same for the alerts with an event time before `day` (YYYY-MM-DD): runs
// that end differently (Drain is per instance) agree up to then.
inline std::map<std::string, std::string> ByIdBefore(const std::vector<Alert>& alerts,
                                                     std::string_view day) {
  std::map<std::string, std::string> m;
  for (const Alert& a : alerts) {
    if (a.event_time < day) m.emplace(a.id, a.json);
  }
  return m;
}

// Every alert the instances emitted.
inline std::vector<Alert> AlertsOf(std::initializer_list<const KafkaInstance*> instances) {
  std::vector<Alert> out;
  for (const KafkaInstance* inst : instances) {
    for (Alert& a : ParseAlerts(inst->alerts.records)) out.push_back(std::move(a));
  }
  return out;
}

// "" when equal, else a short description of the first differences (the full
// maps are far too long for a test log).
inline std::string Diff(const std::map<std::string, std::string>& got,
                        const std::map<std::string, std::string>& want) {
  std::string out;
  int shown = 0;
  for (const auto& [id, json] : want) {
    auto it = got.find(id);
    if (it == got.end()) {
      if (shown++ < 3) out += "missing " + json.substr(0, 300) + "\n";
    } else if (it->second != json) {
      if (shown++ < 3)
        out += "differs:\n  got  " + it->second.substr(0, 600) + "\n  want " + json.substr(0, 600) +
               "\n";
    }
  }
  for (const auto& [id, json] : got) {
    if (!want.count(id) && shown++ < 6) out += "unexpected " + json.substr(0, 300) + "\n";
  }
  if (!out.empty())
    out = std::to_string(got.size()) + " alerts vs " + std::to_string(want.size()) + " expected\n" +
          out;
  return out;
}

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    lines_ = new std::vector<std::string>(GenerateLines(240, 11, /*clean=*/false));
  }
  static void TearDownTestSuite() { delete lines_; }
  std::string Dir(const char* name) {
    auto d = TemporaryDirectory::Make(std::string("zicht-engine-test-") + name + "-");
    EXPECT_TRUE(d.ok());
    dirs_.push_back(std::move(*d));
    return dirs_.back().path();
  }
  static std::vector<std::string>* lines_;  // 240 days, seed 11, with bad lines
  std::vector<TemporaryDirectory> dirs_;
};
inline std::vector<std::string>* EngineTest::lines_ = nullptr;

// The line indices in an order Kafka could deliver them: each partition
// (the key is the municipality code as written, murmur2) in order, partitions
// interleaved in random bursts of up to `max_burst` records, as fetches
// deliver them. A merged code keyed by itself may land in another partition
// than its history: the engine forwards it (SPEC 8.3).
inline std::vector<size_t> InterleavePartitions(const std::vector<std::string>& lines,
                                                int partitions, size_t max_burst, uint64_t seed) {
  std::vector<std::vector<size_t>> by_partition(static_cast<size_t>(partitions));
  simdjson::dom::parser parser;
  for (size_t i = 0; i < lines.size(); ++i) {
    simdjson::padded_string json(lines[i]);
    std::string code(parser.parse(json)["municipality"].get_string().value());
    by_partition[static_cast<size_t>(KafkaPartitionForKey(code, partitions))].push_back(i);
  }
  std::vector<size_t> interleaved;
  std::vector<size_t> cursor(by_partition.size(), 0);
  std::mt19937_64 rng(seed);
  while (interleaved.size() < lines.size()) {
    size_t p = rng() % by_partition.size();
    size_t take = 1 + rng() % max_burst;
    for (size_t k = 0; k < take && cursor[p] < by_partition[p].size(); ++k) {
      interleaved.push_back(by_partition[p][cursor[p]++]);
    }
  }
  return interleaved;
}

// `t` exposes Dir(name) (a fresh directory per name).
// Runs `lines` on six partitions in order, interleaved as Kafka could deliver
// them, and interleaved with ten kill -9 crashes: all give the same alerts
// byte for byte. (Another partition count is another engine: each partition
// has its own clock T, docs/consistency.md, so T-dependent parts differ.)
template <typename Test>
void ExpectLayoutIndependent(Test& t, const PlanPtr& plan, const std::vector<std::string>& lines,
                             RunResult* reference) {
  Runner six(plan, t.Dir("six"), 6);
  six.Run(lines, lines.size(), false);
  *reference = six.Result();
  const auto want = ById(reference->alerts);

  const std::vector<size_t> interleaved = InterleavePartitions(lines, 6, 3000, 17);
  Runner shuffled(plan, t.Dir("shuffled"), 6);
  shuffled.Run(lines, lines.size(), false, &interleaved);
  EXPECT_EQ(Diff(ById(shuffled.Result().alerts), want), "") << "6 partitions interleaved";

  Runner crashy(plan, t.Dir("crash"), 6);
  std::mt19937_64 rng(5);
  std::vector<size_t> stops;
  for (int i = 0; i < 10; ++i) stops.push_back(rng() % lines.size());
  std::sort(stops.begin(), stops.end());
  for (size_t stop : stops) crashy.Run(lines, stop, /*crash=*/true, &interleaved);
  crashy.Run(lines, lines.size(), false, &interleaved);
  EXPECT_EQ(Diff(ById(crashy.Result().alerts), want), "") << "6 partitions, 10 crashes";
}

}  // namespace zicht::engine::harness
