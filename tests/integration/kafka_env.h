// Test access to the scripts/kafka broker: its address, unique topic names, topic creation.
#pragma once

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "zicht/base/status.h"

namespace zicht::integration {

// Bootstrap address ("127.0.0.1:PORT") of the test broker, looked up in this
// order: env ZICHT_KAFKA_BOOTSTRAP; the file bootstrap in env ZICHT_KAFKA_DIR
// (ctest sets it to the build dir's broker); <repo>/.kafka/bootstrap (the
// default dir of `scripts/kafka start`). NotFound when none has an address,
// so a test without a broker fails with a message saying how to start one.
inline Result<std::string> KafkaBootstrap() {
  if (const char* env = std::getenv("ZICHT_KAFKA_BOOTSTRAP"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  std::string path;
  if (const char* dir = std::getenv("ZICHT_KAFKA_DIR"); dir != nullptr && *dir != '\0') {
    path = std::string(dir) + "/bootstrap";
  } else {
#ifdef ZICHT_SOURCE_DIR
    path = std::string(ZICHT_SOURCE_DIR) + "/.kafka/bootstrap";
#else
    return Status::NotFound("ZICHT_KAFKA_BOOTSTRAP and ZICHT_KAFKA_DIR are unset");
#endif
  }
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) {
    return Status::NotFound("no Kafka broker address in " + path +
                            " (start one with scripts/kafka start, or set ZICHT_KAFKA_BOOTSTRAP)");
  }
  return line;
}

// A topic name no other test run has used: tests share one broker and must
// never see each other's messages, also across reruns on the same data.
inline std::string UniqueTopicName(std::string_view prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::string(prefix) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) + "-" +
         std::to_string(rng() % 1000000);
}

struct TopicSpec {
  std::string name;
  int partitions = 1;                         // default 1
  std::map<std::string, std::string> config;  // topic configs, e.g. cleanup.policy=compact
};

// Creates `spec` on the broker with the Admin API and waits (up to
// timeout_ms, default 15 s) until the controller has created it. The broker
// does not auto-create topics, so every test creates its own.
inline Status CreateTopic(const std::string& bootstrap, const TopicSpec& spec,
                          int timeout_ms = 15000) {
  std::array<char, 512> err{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err.data(), err.size()) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(err.data());
  }
  // rd_kafka_new takes ownership of conf on success only.
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, err.data(), err.size()), &rd_kafka_destroy);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Status::Internal(std::string("rd_kafka_new: ") + err.data());
  }

  std::unique_ptr<rd_kafka_NewTopic_t, decltype(&rd_kafka_NewTopic_destroy)> topic(
      rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions, 1, err.data(), err.size()),
      &rd_kafka_NewTopic_destroy);
  if (!topic) return Status::InvalidArgument(err.data());
  for (const auto& [key, value] : spec.config) {
    if (rd_kafka_NewTopic_set_config(topic.get(), key.c_str(), value.c_str()) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::InvalidArgument("bad topic config " + key);
    }
  }

  std::unique_ptr<rd_kafka_AdminOptions_t, decltype(&rd_kafka_AdminOptions_destroy)> options(
      rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS),
      &rd_kafka_AdminOptions_destroy);
  // The operation timeout makes the broker answer only once the topic exists.
  if (rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, err.data(),
                                                  err.size()) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, err.data(),
                                                err.size()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::InvalidArgument(err.data());
  }

  std::unique_ptr<rd_kafka_queue_t, decltype(&rd_kafka_queue_destroy)> queue(
      rd_kafka_queue_new(rk.get()), &rd_kafka_queue_destroy);
  rd_kafka_NewTopic_t* topics[] = {topic.get()};
  rd_kafka_CreateTopics(rk.get(), topics, 1, options.get(), queue.get());

  std::unique_ptr<rd_kafka_event_t, decltype(&rd_kafka_event_destroy)> event(
      rd_kafka_queue_poll(queue.get(), timeout_ms + 5000), &rd_kafka_event_destroy);
  if (!event)
    return Status::TryAgain("CreateTopics " + spec.name + ": no answer from " + bootstrap);
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::IoError("CreateTopics " + spec.name + ": " +
                           rd_kafka_event_error_string(event.get()));
  }
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
  if (count != 1) return Status::Internal("CreateTopics: expected one topic result");
  if (rd_kafka_topic_result_error(results[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* why = rd_kafka_topic_result_error_string(results[0]);
    return Status::IoError("CreateTopics " + spec.name + ": " + (why != nullptr ? why : "failed"));
  }
  return Status::Ok();
}

}  // namespace zicht::integration
