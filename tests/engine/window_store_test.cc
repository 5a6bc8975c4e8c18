#include "zicht/engine/window_store.h"

#include <gtest/gtest.h>

#include <random>

#include "zicht/rules/loader.h"

namespace zicht::engine {
namespace {

// A pack with a 3-day count (trend read) and a 2-hour sum, built from YAML;
// the share on the count's series makes it keep all events (n_all) too.
constexpr char kPack[] = R"(apiVersion: zicht/v1
kind: RulePack
metadata: { name: windows }
indicators:
  - id: cash
    event: suspicious_transaction
    aggregate: count
    where: { channel: [cash] }
    window: 3d
  - id: amount
    event: suspicious_transaction
    aggregate: sum
    field: amount_eur
    window: 2h
  - id: cash_share
    event: suspicious_transaction
    aggregate: share
    where: { channel: [cash] }
    window: 3d
rules:
  - id: trend
    conditions:
      - { indicator: cash, measure: trend_ratio, op: ">=", value: 2 }
)";

class WindowStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = rules::LoadRulePackText(kPack, "windows.yaml");
    ASSERT_TRUE(loaded.pack) << (loaded.errors.empty() ? "" : loaded.errors[0].ToString());
    std::vector<rules::RulePack> packs;
    packs.push_back(std::move(*loaded.pack));
    auto rs = rules::BuildRuleSet(std::move(packs));
    ASSERT_TRUE(rs.rule_set);
    std::vector<Municipality> rows = {{"GM0001", "A", "P", 1000, {}, 2024},
                                      {"GM0002", "B", "P", 2000, {}, 2024}};
    auto plan = Plan::Build(rs.rule_set, *MunicipalityTable::FromRows(rows));
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    plan_ = *plan;
    cash_series_ = plan_->indicators()[0].series;
    amount_series_ = plan_->indicators()[1].series;
  }

  PlanPtr plan_;
  int cash_series_ = -1, amount_series_ = -1;
};

TimeMs Day(int d, int hour = 12) {
  return d * kMsPerDay + hour * kMsPerHour;
}

TEST_F(WindowStoreTest, RollingWindowsMatchBruteForce) {
  // Random events over 60 days; after each, every window equals the sum of
  // the buckets it covers, computed independently.
  WindowStore ws(*plan_, {0, 1});
  std::mt19937_64 rng(7);
  struct Ev {
    TimeMs t;
    int local;
    bool cash;
    double amount;
  };
  std::vector<Ev> accepted;
  TimeMs clock = Day(20000);
  for (int i = 0; i < 3000; ++i) {
    TimeMs t = clock + static_cast<TimeMs>(rng() % (6 * kMsPerHour)) - 2 * kMsPerHour;
    if (t < clock - kMsPerDay) continue;
    if (t > clock) {
      ws.Advance(t);
      clock = t;
    }
    Ev e{t, static_cast<int>(rng() % 2), rng() % 3 == 0, static_cast<double>(rng() % 100000) / 100};
    accepted.push_back(e);
    ws.Add(cash_series_, e.local, FloorDiv(t, kMsPerDay), e.cash, 0);
    ws.Add(amount_series_, e.local, FloorDiv(t, kMsPerHour), true, ToFixed(e.amount));
    if (i % 97 != 0) continue;
    const int64_t day = FloorDiv(clock, kMsPerDay), hour = FloorDiv(clock, kMsPerHour);
    for (int local = 0; local < 2; ++local) {
      for (int k = 0; k < 5; ++k) {
        int64_t want = 0, want_all = 0;
        for (const Ev& a : accepted) {
          int64_t b = FloorDiv(a.t, kMsPerDay);
          if (a.local == local && b <= day - 3 * k && b > day - 3 * (k + 1)) {
            want += a.cash;
            ++want_all;
          }
        }
        EXPECT_EQ(ws.Window(0, local, k).n_match, want) << "k=" << k;
        EXPECT_EQ(ws.Window(0, local, k).n_all, want_all) << "k=" << k;
      }
      FixedSum want_sum = 0;
      for (const Ev& a : accepted) {
        int64_t b = FloorDiv(a.t, kMsPerHour);
        if (a.local == local && b <= hour && b > hour - 2) want_sum += ToFixed(a.amount);
      }
      EXPECT_TRUE(ws.Window(1, local, 0).sum == want_sum);
      // The final window ends at the last closed day (before the watermark's day).
      int64_t final_day = FloorDiv(clock - kMsPerDay, kMsPerDay) - 1;
      EXPECT_EQ(ws.final_bucket(false), final_day);
      int64_t want_final = 0;
      for (const Ev& a : accepted) {
        int64_t b = FloorDiv(a.t, kMsPerDay);
        if (a.local == local && b <= final_day && b > final_day - 3) want_final += a.cash;
      }
      EXPECT_EQ(ws.Final(0, local).n_match, want_final);
    }
    // Restoring from buckets gives the same windows.
    WindowStore copy(*plan_, {0, 1});
    copy.RestoreClock(ws.current_bucket(false), ws.current_bucket(true), ws.final_bucket(false),
                      ws.final_bucket(true));
    for (int s : {cash_series_, amount_series_}) {
      for (int64_t b = ws.oldest_bucket(s); b <= ws.current_bucket(ws.series_hours(s)); ++b) {
        for (int local = 0; local < 2; ++local)
          copy.RestoreBucket(s, local, b, ws.Bucket(s, local, b));
      }
    }
    copy.RecomputeWindows();
    for (int local = 0; local < 2; ++local) {
      for (int k = 0; k < 5; ++k) EXPECT_EQ(copy.Window(0, local, k), ws.Window(0, local, k));
      EXPECT_EQ(copy.Final(0, local), ws.Final(0, local));
      EXPECT_EQ(copy.Window(1, local, 0), ws.Window(1, local, 0));
    }
  }
}

TEST_F(WindowStoreTest, JumpsFarAheadEmptyTheWindows) {
  WindowStore ws(*plan_, {0, 1});
  ws.Advance(Day(100));
  ws.Add(cash_series_, 0, 100, true, 0);
  EXPECT_EQ(ws.Window(0, 0, 0).n_match, 1);
  ws.Advance(Day(102));
  EXPECT_EQ(ws.Window(0, 0, 0).n_match, 1);  // days 100..102
  ws.Advance(Day(103));
  EXPECT_EQ(ws.Window(0, 0, 0).n_match, 0);
  EXPECT_EQ(ws.Window(0, 0, 1).n_match, 1);  // days 98..100
  ws.Advance(Day(5000));
  for (int k = 0; k < 5; ++k) EXPECT_EQ(ws.Window(0, 0, k).n_match, 0);
  EXPECT_EQ(ws.Bucket(cash_series_, 0, 100).n_all, 0u);  // evicted
}

TEST_F(WindowStoreTest, DirtyRowsAreReportedOnce) {
  WindowStore ws(*plan_, {0, 1});
  ws.Advance(Day(10));
  ws.Add(cash_series_, 1, 10, true, 0);
  ws.Add(cash_series_, 1, 10, false, 0);
  ws.Add(cash_series_, 0, 9, true, 0);
  std::vector<DirtyRow> dirty;
  ws.TakeDirty(&dirty);
  ASSERT_EQ(dirty.size(), 2u);  // rows (series, day 10) and (series, day 9)
  EXPECT_EQ(dirty[0].bucket, 10);
  EXPECT_EQ(dirty[1].bucket, 9);
  ws.TakeDirty(&dirty);
  EXPECT_TRUE(dirty.empty());
}

}  // namespace
}  // namespace zicht::engine
