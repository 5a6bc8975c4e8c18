#include "zicht/runtime/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "zicht/base/file.h"

namespace zicht::runtime {
namespace {

// SPEC section 7, verbatim: these keys must keep working.
constexpr char kSpecConfig[] = R"(source:
  kafka:                          # or  file: { path: events.jsonl, follow: false }
    bootstrap_servers: 127.0.0.1:9092
    topic: zicht.events
    group_id: zicht
    properties: { security.protocol: PLAINTEXT }   # passed to librdkafka as is
sinks:
  alerts: { kafka: { topic: zicht.alerts } }          # or  { file: alerts.jsonl }
  dead_letter: { kafka: { topic: zicht.dead-letter } } # or  { file: dead-letter.jsonl }
state: { dir: /var/lib/zicht }
rules: [config/rules/ondermijning.yaml]
reference: { municipalities: config/reference/municipalities.csv }
http: { port: 9464 }
allowed_lateness: 1d
)";

TEST(ConfigTest, ParsesTheSpecExample) {
  auto c = ParseEngineConfig(kSpecConfig, "engine.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE(c->kafka.has_value());
  EXPECT_FALSE(c->file.has_value());
  EXPECT_EQ(c->kafka->bootstrap_servers, "127.0.0.1:9092");
  EXPECT_EQ(c->kafka->topics, std::vector<std::string>{"zicht.events"});
  EXPECT_EQ(c->kafka->group_id, "zicht");
  EXPECT_EQ(c->kafka->properties.at("security.protocol"), "PLAINTEXT");
  EXPECT_EQ(c->kafka->changelog_topic, "zicht.changelog");
  EXPECT_EQ(c->alerts.kind, SinkConfig::Kind::kKafka);
  EXPECT_EQ(c->alerts.topic, "zicht.alerts");
  EXPECT_EQ(c->dead_letter.topic, "zicht.dead-letter");
  EXPECT_EQ(c->state_dir, "/var/lib/zicht");
  EXPECT_EQ(c->rules, std::vector<std::string>{"config/rules/ondermijning.yaml"});
  EXPECT_EQ(c->municipalities, "config/reference/municipalities.csv");
  EXPECT_EQ(c->http.port, 9464);
  EXPECT_EQ(c->allowed_lateness_ms, kMsPerDay);
}

TEST(ConfigTest, FileSourceAndDefaults) {
  auto c = ParseEngineConfig(R"(source: { file: { path: events.jsonl, follow: true } }
sinks:
  alerts: { file: alerts.jsonl, print: true }
  dead_letter: { file: dlq.jsonl }
rules: [a.yaml, b.yaml]
state: { commit_interval: 250ms }
)",
                             "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->file->path, "events.jsonl");
  EXPECT_TRUE(c->file->follow);
  EXPECT_EQ(c->alerts.kind, SinkConfig::Kind::kFile);
  EXPECT_TRUE(c->alerts.print);
  EXPECT_EQ(c->commit_interval_ms, 250);
  EXPECT_EQ(c->http.port, 9464);
  EXPECT_EQ(c->dedup_horizon_ms, 7 * kMsPerDay);
}

TEST(ConfigTest, ReplacesEnvironmentVariables) {
  ::setenv("ZICHT_TEST_BROKERS", "10.0.0.1:9093", 1);
  ::unsetenv("ZICHT_TEST_MISSING");
  auto c = ParseEngineConfig(R"(source:
  kafka:
    bootstrap_servers: ${ZICHT_TEST_BROKERS}
    properties: { sasl.password: "${file:/run/secrets/kafka}" }
rules: [r.yaml]
)",
                             "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->kafka->bootstrap_servers, "10.0.0.1:9093");
  // ${file:...} is left for the Kafka connector, which reads the secret file.
  EXPECT_EQ(c->kafka->properties.at("sasl.password"), "${file:/run/secrets/kafka}");
  auto bad = ParseEngineConfig("source:\n  file:\n    path: ${ZICHT_TEST_MISSING}\nrules: [r]\n",
                               "c.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(
                "c.yaml:3:11: environment variable ZICHT_TEST_MISSING is not set"),
            std::string::npos)
      << bad.status().message();
}

TEST(ConfigTest, ReportsEveryErrorWithPosition) {
  auto c = ParseEngineConfig(R"(source:
  file: { path: e.jsonl }
sinks:
  alerts: { file: a.jsonl }
  dead_letter: { file: d.jsonl }
rules: [r.yaml]
htp: { port: 1 }
state:
  retention: forever
  commit_every_records: -5
http: { port: 70000 }
)",
                             "bad.yaml");
  ASSERT_FALSE(c.ok());
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("bad.yaml:7:1: unknown key 'htp' (did you mean 'http'?)"), std::string::npos)
      << m;
  EXPECT_NE(m.find("bad.yaml:9:14: 'state.retention' must be a duration like 14d, 12h, 30m or 10s, "
                   "got 'forever'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("bad.yaml:10:25: 'state.commit_every_records' must be a whole number in "
                   "1..100000000, got '-5'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("bad.yaml:11:15: 'http.port' must be a whole number in 0..65535, got '70000'"),
            std::string::npos)
      << m;
  auto yaml_error = ParseEngineConfig("source: [unclosed\n", "y.yaml");
  ASSERT_FALSE(yaml_error.ok());
  // "y.yaml:<line>:<column>: ..." (std::regex trips GCC 12's maybe-uninitialized under ASan)
  const std::string& ym = yaml_error.status().message();
  size_t line_end = ym.find(':', 7);
  size_t col_end = line_end == std::string::npos ? line_end : ym.find(':', line_end + 1);
  ASSERT_EQ(ym.rfind("y.yaml:", 0), 0u) << ym;
  ASSERT_NE(col_end, std::string::npos) << ym;
  EXPECT_GT(line_end, 7u) << ym;
  EXPECT_EQ(ym.find_first_not_of("0123456789", 7), line_end) << ym;
  EXPECT_GT(col_end, line_end + 1) << ym;
  EXPECT_EQ(ym.find_first_not_of("0123456789", line_end + 1), col_end) << ym;
  auto missing = ParseEngineConfig("rules: [r]\n", "m.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("source: missing"), std::string::npos);
}

TEST(ConfigTest, EveryPropertyIsDocumented) {
  auto doc = ReadFileToString(ZICHT_SOURCE_DIR "/docs/configuration.md");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  for (const ConfigProperty& p : ConfigProperties()) {
    EXPECT_NE(doc->find("`" + p.key + "`"), std::string::npos)
        << p.key << " is not in docs/configuration.md";
  }
  EXPECT_NE(doc->find(ConfigPropertiesMarkdown()), std::string::npos)
      << "docs/configuration.md is out of date; regenerate the table with `zicht config describe`";
}

TEST(ConfigTest, ShippedConfigsParse) {
  ::setenv("ZICHT_KAFKA_BOOTSTRAP", "127.0.0.1:9092", 0);
  for (const char* path :
       {ZICHT_SOURCE_DIR "/config/engine.yaml", ZICHT_SOURCE_DIR "/config/demo.yaml"}) {
    auto c = LoadEngineConfig(path);
    EXPECT_TRUE(c.ok()) << path << ": " << c.status().message();
  }
}

}  // namespace
}  // namespace zicht::runtime
