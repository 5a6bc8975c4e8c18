// Combine (all / any / at_least / score) and the `for` / `cooldown` timer.
#include "zicht/rules/evaluate.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace zicht::rules {
namespace {

RuleSpec RuleWith(MatchKind match, size_t conditions) {
  RuleSpec r;
  r.id = "r";
  r.match = match;
  for (size_t i = 0; i < conditions; ++i) {
    ConditionSpec c;
    c.id = std::string(1, static_cast<char>('a' + i));
    c.indicator = "x";
    r.conditions.push_back(c);
  }
  return r;
}

RuleSpec ScoreRule(std::vector<double> weights, double alert_at) {
  RuleSpec r = RuleWith(MatchKind::kScore, weights.size());
  for (size_t i = 0; i < weights.size(); ++i) r.weights[r.conditions[i].id] = weights[i];
  r.condition_weights = weights;
  r.alert_at = alert_at;
  return r;
}

struct CombineCase {
  const char* name;
  RuleSpec rule;
  std::vector<bool> held;
  bool expect_held;
  double expect_score;
};

TEST(CombineTest, Table) {
  RuleSpec at_least_2 = RuleWith(MatchKind::kAtLeast, 3);
  at_least_2.at_least = 2;
  RuleSpec score_no_cache = ScoreRule({0.6, 0.4}, 0.6);
  score_no_cache.condition_weights.clear();  // hand-built: weights looked up by id
  const std::vector<CombineCase> cases = {
      {"all: every condition", RuleWith(MatchKind::kAll, 2), {true, true}, true, 1.0},
      {"all: one missing", RuleWith(MatchKind::kAll, 2), {true, false}, false, 0.5},
      {"all: none", RuleWith(MatchKind::kAll, 2), {false, false}, false, 0.0},
      {"any: none", RuleWith(MatchKind::kAny, 2), {false, false}, false, 0.0},
      {"any: one", RuleWith(MatchKind::kAny, 2), {false, true}, true, 0.5},
      {"at_least 2 of 3: two", at_least_2, {true, false, true}, true, 2.0 / 3},
      {"at_least 2 of 3: one", at_least_2, {true, false, false}, false, 1.0 / 3},
      {"at_least 2 of 3: three", at_least_2, {true, true, true}, true, 1.0},
      {"score: heavy one reaches alert_at", ScoreRule({0.6, 0.4}, 0.6), {true, false}, true, 0.6},
      {"score: light one does not", ScoreRule({0.6, 0.4}, 0.6), {false, true}, false, 0.4},
      {"score: both", ScoreRule({0.6, 0.4}, 0.6), {true, true}, true, 1.0},
      {"score: none", ScoreRule({0.6, 0.4}, 0.6), {false, false}, false, 0.0},
      {"score: unnormalised weights", ScoreRule({3, 1}, 0.75), {true, false}, true, 0.75},
      {"score: zero weight adds nothing", ScoreRule({1, 0}, 1.0), {true, false}, true, 1.0},
      // 0.3 / 0.4 is 0.7499999999999999 in doubles; the tie still fires.
      {"score: rounding tie", ScoreRule({0.1, 0.3}, 0.75), {false, true}, true, 0.75},
      {"score: just below", ScoreRule({0.1, 0.3}, 0.76), {false, true}, false, 0.75},
      {"score: weights by id", score_no_cache, {true, false}, true, 0.6},
      {"missing outcomes count as not held",
       RuleWith(MatchKind::kAll, 3),
       {true, true},
       false,
       2.0 / 3},
      {"no conditions never holds", RuleWith(MatchKind::kAny, 0), {}, false, 0.0},
  };
  for (const CombineCase& c : cases) {
    bool buf[8] = {};
    for (size_t i = 0; i < c.held.size(); ++i) buf[i] = c.held[i];
    Combination got = Combine(c.rule, std::span<const bool>(buf, c.held.size()));
    EXPECT_EQ(got.held, c.expect_held) << c.name;
    EXPECT_NEAR(got.score, c.expect_score, 1e-12) << c.name;
  }
}

struct Step {
  bool held;
  TimeMs now;
  bool fires;
};

void RunSteps(const RuleSpec& rule, const std::vector<Step>& steps, const char* name) {
  RuleTimer timer;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    EXPECT_EQ(StepTimer(rule, s.held, s.now, &timer), s.fires)
        << name << ": step " << i << " at " << s.now / kMsPerHour << "h";
  }
}

constexpr TimeMs kDay = kMsPerDay;
constexpr TimeMs kHour = kMsPerHour;

TEST(StepTimerTest, ForAndCooldown) {
  RuleSpec rule = RuleWith(MatchKind::kAll, 1);
  rule.for_ms = 2 * kDay;
  rule.cooldown_ms = 3 * kDay;
  RunSteps(rule,
           {
               {true, 0, false},             // streak starts: T0 = 0
               {true, 1 * kDay, false},      // held 1d < for
               {true, 2 * kDay - 1, false},  // one ms short
               {true, 2 * kDay, true},       // held 2d: fires
               {true, 3 * kDay, false},      // cooldown (1d of 3d)
               {false, 4 * kDay, false},     // streak broken
               {true, 5 * kDay, false},      // new streak: T0 = 5d
               {true, 6 * kDay, false},      // held 1d
               {true, 7 * kDay, true},       // held 2d, 5d since the last alert
               {true, 9 * kDay, false},      // cooldown: 2d since the last alert
               {true, 10 * kDay, true},      // still holding; cooldown over
           },
           "for 2d cooldown 3d");
}

TEST(StepTimerTest, ANotHeldEvaluationResetsTheStreak) {
  RuleSpec rule = RuleWith(MatchKind::kAll, 1);
  rule.for_ms = 14 * kDay;
  RunSteps(rule,
           {
               {true, 0, false},
               {true, 13 * kDay, false},
               {false, 13 * kDay + kHour, false},  // one evaluation not held
               {true, 14 * kDay, false},           // T0 = 14d now
               {true, 27 * kDay, false},
               {true, 28 * kDay, true},
           },
           "for 14d");
}

TEST(StepTimerTest, ForZeroFiresOnTheFirstHeldEvaluation) {
  RuleSpec rule = RuleWith(MatchKind::kAll, 1);  // for 0, default cooldown 1d
  EXPECT_EQ(rule.cooldown_ms, kDay);
  RunSteps(rule,
           {
               {false, 0, false},
               {true, kHour, true},
               {true, 2 * kHour, false},   // default cooldown 1d
               {false, 3 * kHour, false},  // not held: cooldown still counts from the alert
               {true, 4 * kHour, false},
               {true, kDay + kHour - 1, false},
               {true, kDay + kHour, true},
           },
           "for 0 cooldown 1d");
}

TEST(StepTimerTest, CooldownZeroFiresAtEveryHeldEvaluation) {
  RuleSpec rule = RuleWith(MatchKind::kAll, 1);
  rule.cooldown_ms = 0;
  RunSteps(rule, {{true, 0, true}, {true, 0, true}, {false, 1, false}, {true, 2, true}},
           "cooldown 0");
}

TEST(StepTimerTest, RecordsStreakStartAndLastAlert) {
  RuleSpec rule = RuleWith(MatchKind::kAll, 1);
  rule.for_ms = kDay;
  RuleTimer t;
  EXPECT_FALSE(StepTimer(rule, true, 5 * kDay, &t));
  EXPECT_EQ(t.held_since, 5 * kDay);
  EXPECT_EQ(t.last_alert, kMinTime);
  EXPECT_TRUE(StepTimer(rule, true, 6 * kDay, &t));
  EXPECT_EQ(t.held_since, 5 * kDay);
  EXPECT_EQ(t.last_alert, 6 * kDay);
  EXPECT_FALSE(StepTimer(rule, false, 6 * kDay + 1, &t));
  EXPECT_EQ(t.held_since, kMinTime);
  EXPECT_EQ(t.last_alert, 6 * kDay);
  // A timer restored from state behaves the same as one kept in memory.
  RuleTimer restored{kMinTime, 6 * kDay};
  EXPECT_EQ(restored, t);
}

TEST(StepTimerTest, EventTimesBefore1970) {
  RuleSpec rule = RuleWith(MatchKind::kAll, 1);
  rule.for_ms = kDay;
  rule.cooldown_ms = 2 * kDay;
  RunSteps(rule, {{true, -3 * kDay, false}, {true, -2 * kDay, true}, {true, -kDay, false}},
           "negative times");
}

}  // namespace
}  // namespace zicht::rules
