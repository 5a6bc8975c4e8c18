// zicht replay: the command as a whole, on a generated feed.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "zicht/base/file.h"
#include "zicht/cli/commands.h"
#include "zicht/reference/municipalities.h"
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

}  // namespace
}  // namespace zicht::cli
