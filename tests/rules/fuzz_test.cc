// Robustness: thousands of seeded mutations of real packs through the loader.
// Every result is a valid pack or carries diagnostics with a usable position;
// nothing crashes and no exception escapes.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "test_util.h"
#include "zicht/rules/loader.h"

namespace zicht::rules {
namespace {

using testing::DataOptions;
using testing::ReadData;

const char kScorePack[] = R"(apiVersion: zicht/v1
kind: RulePack
metadata: { name: fuzz-score, theme: zorg }
events:
  - type: care_claim
    fields:
      amount_eur: number
      provider_kind: { type: string, values: [wmo, wlz, zvw] }
      urgent: bool
      patient_age: { type: number, optional: true }
indicators:
  - id: claims
    event: care_claim
    aggregate: count
    where: { provider_kind: [wmo], urgent: true, amount_eur: [10, 20.5] }
    window: 48h
  - id: amount
    event: care_claim
    aggregate: mean
    field: amount_eur
    window: 30d
    per: 100000
rules:
  - id: claims-up
    severity: low
    match: { at_least: 1 }
    conditions:
      - { id: a, indicator: claims, measure: poisson_p, op: "<", value: 0.01 }
      - { id: b, indicator: amount, measure: percentile, op: ">=", value: 95 }
    min_events: 3
    for: 12h
    cooldown: 7d
    labels: { team: zorg, priority: 2 }
  - id: claims-score
    score: { weights: { a: 2, b: 1 }, alert_at: 0.5 }
    conditions:
      - id: a
        indicator: claims
        measure: trend_ratio
        op: '>'
        value: 3
      - id: b
        indicator: amount
        measure: national_ratio
        op: !=
        value: 1
)";

// Deterministic across platforms: no std::uniform_*_distribution.
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(gen_() % n); }
  bool OneIn(size_t n) { return Below(n) == 0; }

 private:
  std::mt19937_64 gen_;
};

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// Replacement scalars: keywords of the language, YAML syntax, odd numbers,
// unicode and control characters.
const std::vector<std::string> kTokens = {
    "all",
    "any",
    "count",
    "sum",
    "mean",
    "share",
    "value",
    "rate",
    "national_ratio",
    "national_zscore",
    "poisson_p",
    "percentile",
    "trend_ratio",
    ">=",
    "\">=\"",
    "'<'",
    "!=",
    "==",
    "info",
    "critical",
    "90d",
    "12h",
    "0",
    "0d",
    "-1d",
    "30m",
    "1e309",
    "-0",
    "nan",
    ".inf",
    "-.inf",
    "0x1F",
    "1_000",
    "9223372036854775808",
    "-9223372036854775809",
    "~",
    "null",
    "true",
    "no",
    "[",
    "]",
    "{",
    "}",
    "[]",
    "{}",
    "[a, b]",
    "{at_least: 2}",
    "{at_least: -5}",
    "&anchor",
    "*anchor",
    "&a [*a]",
    "!!str",
    "!!binary AAAA",
    "!custom x",
    "|",
    ">",
    "|-\n  text",
    "'",
    "\"",
    "\"unterminated",
    "%YAML 1.2",
    "@",
    "`",
    "#",
    "- ",
    "? complex",
    ": ",
    "---",
    "...",
    "suspicious_transaction",
    "care_claim",
    "cash_reports",
    "company_purchases",
    "drug_sites",
    "youth_at_risk",
    "claims",
    "a",
    "b",
    "zicht/v1",
    "RulePack",
    "config/reference/youth_at_risk.csv",
    "/dev/null",
    "/nonexistent/x.csv",
    "../../../../etc/passwd",
    "Zürich",
    "☃ snow",
    "🚀",
    "\xff\xfe",
    "\xc3\x28",
    "\x01\x02",
    "tab\there",
    "cr\rhere",
    "nul\0byte",
};

std::string RandomScalar(Rng& rng) {
  switch (rng.Below(6)) {
    case 0:
    case 1:
      return kTokens[rng.Below(kTokens.size())];
    case 2:
      return std::to_string(static_cast<int64_t>(rng.Below(2000000)) - 1000000);
    case 3:
      return std::to_string(static_cast<double>(rng.Below(1000000)) / 997.0);
    case 4: {
      std::string s(1 + rng.Below(rng.OneIn(20) ? 70000 : 64), 'x');
      for (char& c : s) c = static_cast<char>('a' + rng.Below(26));
      return s;
    }
    default: {
      std::string s(1 + rng.Below(16), ' ');
      for (char& c : s) c = static_cast<char>(rng.Below(256));
      return s;
    }
  }
}

std::string Mutate(const std::string& text, Rng& rng) {
  std::vector<std::string> lines = SplitLines(text);
  if (lines.empty()) return text;
  auto line = [&]() -> std::string& { return lines[rng.Below(lines.size())]; };
  switch (rng.Below(10)) {
    case 0:  // delete a line
      lines.erase(lines.begin() + static_cast<long>(rng.Below(lines.size())));
      break;
    case 1: {  // duplicate a line
      size_t i = rng.Below(lines.size());
      lines.insert(lines.begin() + static_cast<long>(i), lines[i]);
      break;
    }
    case 2:  // swap two lines
      std::swap(line(), line());
      break;
    case 3: {  // change indentation
      std::string& l = line();
      if (rng.OneIn(3)) {
        l.insert(0, rng.OneIn(4) ? "\t" : std::string(1 + rng.Below(4), ' '));
      } else {
        l.erase(0, std::min<size_t>(l.find_first_not_of(' '), 1 + rng.Below(4)));
      }
      break;
    }
    case 4:
    case 5: {  // replace a value
      std::string& l = line();
      size_t colon = l.find(": ");
      if (colon == std::string::npos) {
        l += " " + RandomScalar(rng);
      } else {
        size_t end = l.find_first_of(",}#", colon + 2);
        if (end == std::string::npos || rng.OneIn(2)) end = l.size();
        l.replace(colon + 2, end - colon - 2, RandomScalar(rng));
      }
      break;
    }
    case 6: {  // replace a key
      std::string& l = line();
      size_t start = l.find_first_not_of(" -");
      size_t colon = l.find(':');
      if (start != std::string::npos && colon != std::string::npos && colon > start) {
        l.replace(start, colon - start, kTokens[rng.Below(kTokens.size())]);
      }
      break;
    }
    case 7: {  // truncate
      std::string joined = JoinLines(lines);
      return joined.substr(0, rng.Below(joined.size() + 1));
    }
    case 8: {  // random bytes somewhere
      std::string joined = JoinLines(lines);
      size_t n = 1 + rng.Below(8);
      for (size_t i = 0; i < n; ++i) {
        joined.insert(joined.begin() + static_cast<long>(rng.Below(joined.size() + 1)),
                      static_cast<char>(rng.Below(256)));
      }
      return joined;
    }
    default: {  // insert a random line
      std::string l(rng.Below(8), ' ');
      l += kTokens[rng.Below(kTokens.size())] + ": " + RandomScalar(rng);
      lines.insert(lines.begin() + static_cast<long>(rng.Below(lines.size() + 1)), l);
      break;
    }
  }
  return JoinLines(lines);
}

void SaveForReplay(const std::string& text) {
  std::ofstream(std::string(ZICHT_BINARY_DIR) + "/rules_fuzz_failure.yaml", std::ios::binary)
      << text;
}

TEST(LoaderFuzzTest, MutatedPacksNeverCrashAndAlwaysExplain) {
  const std::vector<std::string> seeds = {ReadData("spec_example.yaml"),
                                          ReadData("spec_reference.yaml"), kScorePack};
  const LoadOptions options = DataOptions();
  for (const std::string& s : seeds) {
    ASSERT_FALSE(s.empty());
    ASSERT_TRUE(LoadRulePackText(s, "seed.yaml", options).pack.has_value());
  }
  Rng rng(20260304);
  constexpr int kIterations = 6000;
  int valid = 0, invalid = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string text = seeds[static_cast<size_t>(i) % seeds.size()];
    const size_t rounds = 1 + rng.Below(3);
    for (size_t r = 0; r < rounds; ++r) text = Mutate(text, rng);
    PackLoadResult result;
    try {
      result = LoadRulePackText(text, "fuzz.yaml", options);
    } catch (...) {
      SaveForReplay(text);
      FAIL() << "exception escaped at iteration " << i;
    }
    if (result.pack) {
      ++valid;
      if (!result.errors.empty()) {
        SaveForReplay(text);
        FAIL() << "a pack with errors at iteration " << i;
      }
      // A pack that validates alone also builds alone.
      RuleSetLoadResult set = BuildRuleSet({*result.pack});
      if (!set.rule_set) {
        SaveForReplay(text);
        FAIL() << "valid pack does not build at iteration " << i << ": "
               << set.errors.front().ToString();
      }
      continue;
    }
    ++invalid;
    if (result.errors.empty()) {
      SaveForReplay(text);
      FAIL() << "rejected without a diagnostic at iteration " << i;
    }
    for (const Diagnostic& d : result.errors) {
      if (d.mark.line < 1 || d.mark.column < 1 || d.mark.file != "fuzz.yaml" || d.message.empty()) {
        SaveForReplay(text);
        FAIL() << "unusable diagnostic at iteration " << i << ": " << d.ToString();
      }
    }
  }
  // The mutations reach both outcomes, so both branches above were exercised.
  EXPECT_GT(valid, kIterations / 100);
  EXPECT_GT(invalid, kIterations / 2);
  RecordProperty("valid", valid);
  RecordProperty("invalid", invalid);
}

TEST(LoaderFuzzTest, PathologicalYaml) {
  const std::vector<std::string> inputs = {
      std::string(100000, '['),
      std::string(100000, '{'),
      std::string(5000, '-') + " x",
      "a: &a [*a]\n",
      "apiVersion: &v zicht/v1\nkind: RulePack\nmetadata: {name: *v}\n",
      "rules: &r\n  - *r\n",
      std::string("\xef\xbb\xbf") + "apiVersion: zicht/v1\n",
      std::string("\0\0\0", 3),
      "\t\t\t",
      "%TAG ! tag:x,2000:\n--- !foo\nbar\n",
      "? [a, b]\n: c\n",
      "indicators: [" + std::string(20000, '{') + "]",
  };
  for (const std::string& text : inputs) {
    PackLoadResult r = LoadRulePackText(text, "odd.yaml");
    EXPECT_FALSE(r.pack.has_value());
    ASSERT_FALSE(r.errors.empty());
    for (const Diagnostic& d : r.errors) {
      EXPECT_GE(d.mark.line, 1) << d.ToString();
      EXPECT_GE(d.mark.column, 1) << d.ToString();
    }
  }
}

}  // namespace
}  // namespace zicht::rules
