#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <set>

#include "kafka_common.h"
#include "zicht/base/file.h"
#include "zicht/connectors/kafka_conf.h"

namespace zicht::connectors {
namespace {

constexpr std::string_view kFilePrefix = "${file:";

bool IsFileReference(std::string_view value) {
  return value.size() > kFilePrefix.size() + 1 &&
         value.substr(0, kFilePrefix.size()) == kFilePrefix && value.back() == '}';
}

std::string_view Trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// librdkafka's messages may quote the rejected value; never show a secret.
std::string Redact(std::string message, const std::string& secret) {
  if (secret.empty()) return message;
  for (size_t pos = message.find(secret); pos != std::string::npos;
       pos = message.find(secret, pos)) {
    message.replace(pos, secret.size(), "***");
    pos += 3;
  }
  return message;
}

bool LooksSecret(std::string_view name) {
  return name.find("password") != std::string_view::npos ||
         name.find("secret") != std::string_view::npos ||
         name.find("jaas") != std::string_view::npos || name.find(".key") != std::string_view::npos;
}

}  // namespace

Status KafkaOptions::Validate() const {
  if (bootstrap_servers.empty()) {
    return Status::InvalidArgument("kafka: bootstrap_servers is empty (host:port[,host:port])");
  }
  for (const auto& [name, value] : properties) {
    if (name.empty()) return Status::InvalidArgument("kafka: a property has an empty name");
    if (IsFileReference(value)) {
      Result<std::string> resolved = ResolveKafkaPropertyValue(value);
      if (!resolved.ok()) {
        return Status::InvalidArgument(
            fmt::format("kafka property '{}': {}", name, resolved.status().message()));
      }
    }
  }
  return Status::Ok();
}

Result<std::string> ResolveKafkaPropertyValue(std::string_view value) {
  if (!IsFileReference(value)) return std::string(value);
  const std::string path(value.substr(kFilePrefix.size(), value.size() - kFilePrefix.size() - 1));
  Result<std::string> content = ReadFileToString(path, 1u << 20);
  if (!content.ok()) {
    return Status::IoError(
        fmt::format("cannot read secret file {}: {}", path, content.status().message()));
  }
  return std::string(Trim(*content));
}

Result<std::unique_ptr<RdKafka::Conf>> BuildKafkaConf(const KafkaOptions& options,
                                                      const KafkaConfSpec& spec) {
  ZICHT_RETURN_IF_ERROR(options.Validate());
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::set<std::string> managed_names;
  for (const auto& [name, value] : spec.managed) managed_names.insert(name);

  auto set = [&](const std::string& name, const std::string& value, bool secret) -> Status {
    std::string err;
    if (conf->set(name, value, err) != RdKafka::Conf::CONF_OK) {
      return Status::InvalidArgument(
          fmt::format("kafka property '{}': {}", name, secret ? Redact(err, value) : err));
    }
    return Status::Ok();
  };

  ZICHT_RETURN_IF_ERROR(set("bootstrap.servers", options.bootstrap_servers, false));
  if (!options.client_id.empty()) ZICHT_RETURN_IF_ERROR(set("client.id", options.client_id, false));
  for (const auto& [name, value] : spec.defaults) ZICHT_RETURN_IF_ERROR(set(name, value, false));
  for (const auto& [name, value] : options.properties) {
    if (managed_names.count(name) != 0) {
      return Status::InvalidArgument(fmt::format("kafka property '{}' is managed by zicht{}{}",
                                                 name, spec.managed_hint.empty() ? "" : ": ",
                                                 spec.managed_hint));
    }
    Result<std::string> resolved = ResolveKafkaPropertyValue(value);
    if (!resolved.ok()) {
      return Status::InvalidArgument(
          fmt::format("kafka property '{}': {}", name, resolved.status().message()));
    }
    ZICHT_RETURN_IF_ERROR(set(name, *resolved, IsFileReference(value) || LooksSecret(name)));
  }
  for (const auto& [name, value] : spec.managed) ZICHT_RETURN_IF_ERROR(set(name, value, false));
  std::string err;
  if ((spec.event_cb != nullptr &&
       conf->set("event_cb", spec.event_cb, err) != RdKafka::Conf::CONF_OK) ||
      (spec.dr_cb != nullptr && conf->set("dr_cb", spec.dr_cb, err) != RdKafka::Conf::CONF_OK) ||
      (spec.rebalance_cb != nullptr &&
       conf->set("rebalance_cb", spec.rebalance_cb, err) != RdKafka::Conf::CONF_OK)) {
    return Status::Internal("kafka callback: " + err);
  }
  return conf;
}

namespace kafka_internal {

void EventBridge::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_LOG: {
      const int severity = static_cast<int>(event.severity());
      KafkaLogLevel level =
          severity <= RdKafka::Event::EVENT_SEVERITY_ERROR     ? KafkaLogLevel::kError
          : severity <= RdKafka::Event::EVENT_SEVERITY_WARNING ? KafkaLogLevel::kWarning
          : severity <= RdKafka::Event::EVENT_SEVERITY_INFO    ? KafkaLogLevel::kInfo
                                                               : KafkaLogLevel::kDebug;
      Log(level, fmt::format("{}: {}", event.fac(), event.str()));
      break;
    }
    case RdKafka::Event::EVENT_ERROR: {
      if (event.fatal()) fatal_.store(true, std::memory_order_relaxed);
      std::string what = fmt::format("{}{}: {}", event.fatal() ? "fatal " : "",
                                     RdKafka::err2str(event.err()), event.str());
      NoteError(what);
      Log(event.fatal() ? KafkaLogLevel::kError : KafkaLogLevel::kWarning, what);
      break;
    }
    default:
      break;  // statistics and throttling are not used
  }
}

void EventBridge::Log(KafkaLogLevel level, std::string_view message) const {
  if (log_) {
    log_(level, "rdkafka", message);
  } else if (level >= KafkaLogLevel::kWarning) {
    std::fprintf(stderr, "rdkafka %s: %.*s\n", level == KafkaLogLevel::kError ? "error" : "warning",
                 static_cast<int>(message.size()), message.data());
  }
}

void EventBridge::NoteError(const std::string& what) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  last_error_ = what;
}

std::string EventBridge::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

PartitionList::PartitionList(const std::string& topic, const std::vector<int32_t>& partitions,
                             int64_t offset) {
  for (int32_t p : partitions) Add(topic, p, offset);
}

Status KafkaErrorStatus(RdKafka::ErrorCode code, const std::string& context) {
  std::string message = fmt::format("{}: {}", context, RdKafka::err2str(code));
  switch (code) {
    case RdKafka::ERR__QUEUE_FULL:
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__TRANSPORT:
    case RdKafka::ERR__ALL_BROKERS_DOWN:
    case RdKafka::ERR_REQUEST_TIMED_OUT:
    case RdKafka::ERR_NOT_LEADER_FOR_PARTITION:
    case RdKafka::ERR_LEADER_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_ENOUGH_REPLICAS:
    case RdKafka::ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RdKafka::ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RdKafka::ERR_COORDINATOR_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_COORDINATOR:
      return Status::TryAgain(std::move(message));
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
    case RdKafka::ERR__UNKNOWN_PARTITION:
      return Status::NotFound(std::move(message));
    case RdKafka::ERR__INVALID_ARG:
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_INVALID_CONFIG:
    case RdKafka::ERR_INVALID_PARTITIONS:
    case RdKafka::ERR_INVALID_REPLICATION_FACTOR:
    case RdKafka::ERR_TOPIC_EXCEPTION:
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
      return Status::InvalidArgument(std::move(message));
    default:
      return Status::IoError(std::move(message));
  }
}

Result<std::vector<int32_t>> TopicPartitionIds(RdKafka::Handle* handle, const std::string& topic,
                                               std::chrono::milliseconds timeout) {
  RdKafka::Metadata* raw = nullptr;
  RdKafka::ErrorCode rc = handle->metadata(true, nullptr, &raw, TimeoutMs(timeout));
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (rc != RdKafka::ERR_NO_ERROR) return KafkaErrorStatus(rc, "metadata for " + topic);
  for (const RdKafka::TopicMetadata* t : *metadata->topics()) {
    if (t->topic() != topic) continue;
    if (t->err() != RdKafka::ERR_NO_ERROR) return KafkaErrorStatus(t->err(), "topic " + topic);
    std::vector<int32_t> ids;
    for (const RdKafka::PartitionMetadata* p : *t->partitions()) ids.push_back(p->id());
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  return Status::NotFound("topic " + topic + " does not exist");
}

int TimeoutMs(std::chrono::milliseconds timeout) {
  return static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, INT_MAX));
}

}  // namespace kafka_internal
}  // namespace zicht::connectors
