// zicht replay: the command as a whole, on a generated feed.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <sstream>

#include "zicht/base/file.h"
#include "zicht/cli/commands.h"
#include "zicht/reference/municipalities.h"
#include "zicht/reference/neighbourhoods.h"
#include "zicht/tools/generator.h"

namespace zicht::cli {
namespace {

const std::string kMunicipalities = ZICHT_SOURCE_DIR "/config/reference/municipalities.csv";
const std::string kSpecPack = ZICHT_SOURCE_DIR "/tests/rules/data/spec_example.yaml";

// The sum of a counter's samples in a Prometheus text exposition whose
// labels contain `label` (empty: all).
double SumOf(const std::string& text, const std::string& name, const std::string& label) {
  double sum = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) != 0 || line.find(label) == std::string::npos) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

double CountLines(const std::string& path) {
  auto t = ReadFileToString(path);
  EXPECT_TRUE(t.ok());
  return t.ok() ? static_cast<double>(std::count(t->begin(), t->end(), '\n')) : -1;
}

TEST(ReplayCommandTest, WritesTheMetricsOfZichtRunWhenAsked) {
  auto dir = TemporaryDirectory::Make("zicht-replay-test-");
  ASSERT_TRUE(dir.ok());
  auto munis = reference::MunicipalityTable::Load(kMunicipalities);
  ASSERT_TRUE(munis.ok());
  tools::GeneratorOptions generator;
  generator.days = 120;
  generator.seed = 11;
  std::stringstream feed;
  ASSERT_TRUE(tools::GenerateFeed(generator, (*munis)->rows(), feed, nullptr).ok());
  const std::string events = feed.str();
  const std::string input = dir->path() + "/events.jsonl";
  ASSERT_TRUE(WriteFileAtomic(input, events).ok());
  const double records = static_cast<double>(std::count(events.begin(), events.end(), '\n'));

  ReplayCommandOptions options;
  options.rule_files = {kSpecPack};
  options.municipalities_path = kMunicipalities;
  options.input_path = input;
  options.alerts_path = dir->path() + "/alerts.jsonl";
  options.dead_letter_path = dir->path() + "/dead.jsonl";
  options.metrics_file = dir->path() + "/zicht.prom";
  options.quiet = true;
  ASSERT_EQ(ReplayCommand(options), 0);

  auto text = ReadFileToString(options.metrics_file);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const double dead = CountLines(options.dead_letter_path);
  const double alerts = CountLines(options.alerts_path);
  ASSERT_GT(dead, 0);
  ASSERT_GT(alerts, 0);
  EXPECT_EQ(SumOf(*text, "zicht_events_consumed_total", "result=\"accepted\""), records - dead);
  EXPECT_EQ(SumOf(*text, "zicht_events_consumed_total", "result=\"dead_letter\""), dead);
  EXPECT_EQ(SumOf(*text, "zicht_dead_letters_total", ""), dead);
  EXPECT_EQ(SumOf(*text, "zicht_alerts_emitted_total", ""), alerts);
  EXPECT_NE(text->find("zicht_build_info{"), std::string::npos);
}

// SPEC 8.3 through the command line: --neighbourhoods loads the buurt table,
// neighbourhood rules fire with the buurt named, events naming a buurt that is
// not in the table or lies elsewhere are dead-lettered with their reason, and
// without the table a neighbourhood pack is refused with file:line:column.
TEST(ReplayCommandTest, NeighbourhoodRulesAndReasons) {
  auto dir = TemporaryDirectory::Make("zicht-replay-buurt-");
  ASSERT_TRUE(dir.ok());
  const std::string buurten = ZICHT_SOURCE_DIR "/config/reference/neighbourhoods.csv";
  auto munis = reference::MunicipalityTable::Load(kMunicipalities);
  ASSERT_TRUE(munis.ok());
  auto table = reference::NeighbourhoodTable::Load(buurten, **munis);
  ASSERT_TRUE(table.ok());
  tools::GeneratorOptions generator;
  generator.days = 90;
  generator.seed = 11;
  generator.clean = true;
  generator.neighbourhoods = table->get();
  std::stringstream feed;
  ASSERT_TRUE(tools::GenerateFeed(generator, (*munis)->rows(), feed, nullptr).ok());
  std::string events = feed.str();
  const std::string tail = R"(,"amount_eur":10,"channel":"cash","sector":"bank"})";
  events += R"({"type":"suspicious_transaction","id":"x-1","time":"2026-03-31T23:00:00Z",)"
            R"("municipality":"GM0363","neighbourhood":"BU03639999")" +
            tail + "\n";
  events += R"({"type":"suspicious_transaction","id":"x-2","time":"2026-03-31T23:00:00Z",)"
            R"("municipality":"GM0363","neighbourhood":"BU05990000")" +
            tail + "\n";
  const std::string input = dir->path() + "/events.jsonl";
  ASSERT_TRUE(WriteFileAtomic(input, events).ok());

  ReplayCommandOptions options;
  options.rule_files = {ZICHT_SOURCE_DIR "/tests/engine/data/neighbourhood_pack.yaml"};
  options.municipalities_path = kMunicipalities;
  options.neighbourhoods_path = buurten;
  options.input_path = input;
  options.alerts_path = dir->path() + "/alerts.jsonl";
  options.dead_letter_path = dir->path() + "/dead.jsonl";
  options.quiet = true;
  ASSERT_EQ(ReplayCommand(options), 0);
  auto alerts = ReadFileToString(options.alerts_path);
  ASSERT_TRUE(alerts.ok());
  EXPECT_NE(alerts->find(R"("rule":"buurt-cash-hotspot")"), std::string::npos);
  EXPECT_NE(alerts->find(R"("neighbourhood":"BU)"), std::string::npos);
  auto dead = ReadFileToString(options.dead_letter_path);
  ASSERT_TRUE(dead.ok());
  EXPECT_NE(
      dead->find(
          R"({"reason":"unknown_neighbourhood","detail":"neighbourhood 'BU03639999' is not in the reference data")"),
      std::string::npos)
      << *dead;
  EXPECT_NE(
      dead->find(
          R"({"reason":"neighbourhood_mismatch","detail":"neighbourhood BU05990000 lies in GM0599, not in GM0363")"),
      std::string::npos)
      << *dead;

  options.neighbourhoods_path.clear();
  options.alerts_path = dir->path() + "/alerts-2.jsonl";
  EXPECT_EQ(ReplayCommand(options), 1);
}

// A merger in the middle of the feed (SPEC 8.3): GM0484 and GM0489 become
// GM1999 on day 45, the feed names the new code from then on for some of
// their events and keeps the old codes for the rest, and an event names
// Weesp, merged into Amsterdam in 2022. On one and on six partitions nothing
// is dead-lettered, alerts from the day on never name an old code, and the
// new code has alerts of its own. A malformed mergers file stops the replay.
TEST(ReplayCommandTest, AMergerInTheMiddleOfTheFeed) {
  auto dir = TemporaryDirectory::Make("zicht-replay-merger-");
  ASSERT_TRUE(dir.ok());
  auto munis = reference::MunicipalityTable::Load(kMunicipalities);
  ASSERT_TRUE(munis.ok());
  tools::GeneratorOptions generator;
  generator.days = 90;
  generator.seed = 11;
  generator.clean = true;
  generator.scale = 2;
  std::stringstream feed;
  ASSERT_TRUE(tools::GenerateFeed(generator, (*munis)->rows(), feed, nullptr).ok());
  std::string events;
  std::string line;
  int renamed = 0, kept = 0;
  while (std::getline(feed, line)) {
    const bool after = line.find("\"time\":\"2026-02-1") == std::string::npos &&
                       line.find("\"time\":\"2026-01") == std::string::npos &&
                       line.find("\"time\":\"2026-02-0") == std::string::npos;
    for (const char* old : {"GM0484", "GM0489"}) {
      const std::string from = std::string("\"municipality\":\"") + old + "\"";
      const size_t at = line.find(from);
      if (!after || at == std::string::npos) continue;
      if (std::hash<std::string>{}(line) % 2 == 0) {
        line.replace(at, from.size(), "\"municipality\":\"GM1999\"");
        ++renamed;
      } else {
        ++kept;
      }
    }
    events += line + "\n";
  }
  ASSERT_GT(renamed, 20);
  ASSERT_GT(kept, 20);
  events += R"({"type":"suspicious_transaction","id":"weesp-1","time":"2026-03-31T22:00:00Z",)"
            R"("municipality":"GM0457","amount_eur":10,"channel":"cash","sector":"bank"})"
            "\n";
  const std::string input = dir->path() + "/events.jsonl";
  ASSERT_TRUE(WriteFileAtomic(input, events).ok());
  const std::string mergers = dir->path() + "/mergers.csv";
  ASSERT_TRUE(WriteFileAtomic(mergers,
                              "effective,old_code,new_code,new_name\n"
                              "2022-03-24,GM0457,GM0363,Amsterdam\n"
                              "2026-02-15,GM0484,GM1999,Rijnstreek\n"
                              "2026-02-15,GM0489,GM1999,Rijnstreek\n")
                  .ok());

  ReplayCommandOptions options;
  options.rule_files = {kSpecPack, ZICHT_SOURCE_DIR "/tests/engine/data/neighbourhood_pack.yaml"};
  options.municipalities_path = kMunicipalities;
  options.neighbourhoods_path = ZICHT_SOURCE_DIR "/config/reference/neighbourhoods.csv";
  options.mergers_path = mergers;
  options.input_path = input;
  options.quiet = true;
  std::map<int, std::string> new_code_alerts;
  for (int partitions : {1, 6}) {
    options.partitions = partitions;
    options.alerts_path = dir->path() + "/alerts-" + std::to_string(partitions) + ".jsonl";
    options.dead_letter_path = dir->path() + "/dead-" + std::to_string(partitions) + ".jsonl";
    ASSERT_EQ(ReplayCommand(options), 0);
    // The generator delivers some events beyond the lateness (too_late); old
    // and new codes are all known.
    auto dead = ReadFileToString(options.dead_letter_path);
    ASSERT_TRUE(dead.ok());
    EXPECT_GT(CountLines(options.dead_letter_path), 0);
    std::istringstream dead_lines(*dead);
    while (std::getline(dead_lines, line)) {
      EXPECT_EQ(line.rfind(R"({"reason":"too_late")", 0), 0u) << line;
    }
    auto alerts = ReadFileToString(options.alerts_path);
    ASSERT_TRUE(alerts.ok());
    std::istringstream in(*alerts);
    std::string& mine = new_code_alerts[partitions];
    while (std::getline(in, line)) {
      const bool after = line.find("\"event_time\":\"2026-01") == std::string::npos &&
                         line.find("\"event_time\":\"2026-02-0") == std::string::npos &&
                         line.find("\"event_time\":\"2026-02-1") == std::string::npos;
      if (after) {
        EXPECT_EQ(line.find("\"municipality\":\"GM0484\""), std::string::npos) << line;
        EXPECT_EQ(line.find("\"municipality\":\"GM0489\""), std::string::npos) << line;
      }
      if (line.find("\"municipality\":\"GM1999\"") != std::string::npos) {
        EXPECT_NE(line.find("\"municipality_name\":\"Rijnstreek\""), std::string::npos) << line;
        mine += line.substr(0, line.find("\"emitted_at\"")) + "\n";
      }
    }
  }
  EXPECT_FALSE(new_code_alerts[1].empty()) << "the new code has alerts";
  EXPECT_FALSE(new_code_alerts[6].empty()) << "the new code has alerts";

  ASSERT_TRUE(WriteFileAtomic(mergers,
                              "effective,old_code,new_code,new_name\n"
                              "2026-02-15,GM0484,GM1999,Rijnstreek\n"
                              "2026-02-30,GM0489,GM1999,Rijnstreek\n")
                  .ok());
  options.alerts_path = dir->path() + "/alerts-bad.jsonl";
  EXPECT_EQ(ReplayCommand(options), 1);
}

}  // namespace
}  // namespace zicht::cli
