// KafkaOptions -> librdkafka configuration: property errors name the
// property, managed settings cannot be overridden, secrets come from files
// and never appear in messages. No broker needed.
#include "zicht/connectors/kafka_options.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "zicht/connectors/kafka_conf.h"

namespace zicht::connectors {
namespace {

std::string WriteTemp(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << content;
  return path;
}

KafkaOptions Basic() {
  KafkaOptions o;
  o.bootstrap_servers = "127.0.0.1:1";
  return o;
}

std::string Get(RdKafka::Conf& conf, const std::string& name) {
  std::string value;
  EXPECT_EQ(conf.get(name, value), RdKafka::Conf::CONF_OK) << name;
  return value;
}

TEST(KafkaOptionsTest, DefaultsThenPropertiesThenManagedSettings) {
  KafkaOptions o = Basic();
  o.client_id = "zicht-7";
  o.properties = {{"linger.ms", "42"}, {"socket.keepalive.enable", "true"}};
  KafkaConfSpec spec;
  spec.defaults = {{"linger.ms", "5"}, {"compression.type", "lz4"}};
  spec.managed = {{"enable.idempotence", "true"}};
  auto conf = BuildKafkaConf(o, spec);
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  EXPECT_EQ(Get(**conf, "bootstrap.servers"), "127.0.0.1:1");
  EXPECT_EQ(Get(**conf, "client.id"), "zicht-7");
  EXPECT_EQ(Get(**conf, "linger.ms"), "42");  // the property wins over zicht's default
  EXPECT_EQ(Get(**conf, "compression.type"), "lz4");
  EXPECT_EQ(Get(**conf, "socket.keepalive.enable"), "true");
  EXPECT_EQ(Get(**conf, "enable.idempotence"), "true");
}

TEST(KafkaOptionsTest, UnknownPropertyAndBadValueNameTheProperty) {
  KafkaOptions o = Basic();
  o.properties = {{"no.such.property", "1"}};
  auto conf = BuildKafkaConf(o, {});
  ASSERT_FALSE(conf.ok());
  EXPECT_EQ(conf.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(conf.status().message().find("'no.such.property'"), std::string::npos)
      << conf.status().message();

  o.properties = {{"linger.ms", "soon"}};
  conf = BuildKafkaConf(o, {});
  ASSERT_FALSE(conf.ok());
  EXPECT_NE(conf.status().message().find("'linger.ms'"), std::string::npos)
      << conf.status().message();
}

TEST(KafkaOptionsTest, ManagedSettingsCannotBeOverridden) {
  KafkaOptions o = Basic();
  o.properties = {{"enable.auto.commit", "true"}};
  KafkaConfSpec spec;
  spec.managed = {{"enable.auto.commit", "false"}};
  spec.managed_hint = "use commit_offsets_to_kafka";
  auto conf = BuildKafkaConf(o, spec);
  ASSERT_FALSE(conf.ok());
  EXPECT_EQ(conf.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(conf.status().message().find("enable.auto.commit"), std::string::npos);
  EXPECT_NE(conf.status().message().find("commit_offsets_to_kafka"), std::string::npos);
}

TEST(KafkaOptionsTest, EmptyBootstrapIsRejected) {
  KafkaOptions o;
  EXPECT_EQ(o.Validate().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildKafkaConf(o, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(KafkaOptionsTest, SecretsComeFromFilesTrimmed) {
  const std::string path = WriteTemp("kafka-password", "  s3cr3t-from-file\n");
  KafkaOptions o = Basic();
  o.properties = {{"sasl.username", "zicht"}, {"sasl.password", "${file:" + path + "}"}};
  auto conf = BuildKafkaConf(o, {});
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  EXPECT_EQ(Get(**conf, "sasl.password"), "s3cr3t-from-file");
  EXPECT_EQ(Get(**conf, "sasl.username"), "zicht");

  auto plain = ResolveKafkaPropertyValue("no-file-here");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "no-file-here");
  // Only the whole value is a reference.
  auto embedded = ResolveKafkaPropertyValue("x${file:" + path + "}");
  ASSERT_TRUE(embedded.ok());
  EXPECT_EQ(*embedded, "x${file:" + path + "}");
}

TEST(KafkaOptionsTest, MissingSecretFileNamesPropertyAndPath) {
  KafkaOptions o = Basic();
  o.properties = {{"sasl.password", "${file:/nonexistent/zicht-secret}"}};
  Status v = o.Validate();
  EXPECT_EQ(v.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(v.message().find("sasl.password"), std::string::npos) << v.message();
  EXPECT_NE(v.message().find("/nonexistent/zicht-secret"), std::string::npos) << v.message();
  EXPECT_EQ(BuildKafkaConf(o, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(KafkaOptionsTest, RejectedSecretValueIsNotEchoed) {
  // An invalid value for an enum property, read from a file: librdkafka's
  // message would quote it.
  const std::string path = WriteTemp("kafka-bad-secret", "HUNTER2-NOT-A-PROTOCOL");
  KafkaOptions o = Basic();
  o.properties = {{"security.protocol", "${file:" + path + "}"}};
  auto conf = BuildKafkaConf(o, {});
  ASSERT_FALSE(conf.ok());
  EXPECT_NE(conf.status().message().find("security.protocol"), std::string::npos);
  EXPECT_EQ(conf.status().message().find("HUNTER2"), std::string::npos) << conf.status().message();
}

}  // namespace
}  // namespace zicht::connectors
