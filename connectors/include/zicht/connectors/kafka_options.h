// Settings every Kafka connector shares: brokers, client id, pass-through
// librdkafka properties (secrets may come from files) and where logs go.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "zicht/base/status.h"

namespace zicht::connectors {

// Severity of a librdkafka log line (syslog levels folded to four).
enum class KafkaLogLevel { kDebug, kInfo, kWarning, kError };

// Receives librdkafka's log lines. Called from librdkafka's internal threads
// as well as the caller's: it must be thread-safe (spdlog loggers are).
using KafkaLogFn =
    std::function<void(KafkaLogLevel level, std::string_view client, std::string_view message)>;

// Special start offsets (librdkafka's logical offsets).
inline constexpr int64_t kKafkaOffsetBeginning = -2;  // the oldest retained record
inline constexpr int64_t kKafkaOffsetEnd = -1;        // only records produced from now on
// The group's committed offset if there is one, else auto.offset.reset
// (earliest). zicht commits no offsets to Kafka by default, so this is
// "from the beginning" unless KafkaSourceOptions::commit_offsets_to_kafka.
inline constexpr int64_t kKafkaOffsetStored = -1000;

struct KafkaOptions {
  // "host:port[,host:port...]". Required.
  std::string bootstrap_servers;
  // client.id, shown in broker logs and quotas (default "zicht").
  std::string client_id = "zicht";
  // librdkafka properties passed through as is (TLS, SASL, tuning), applied
  // after zicht's defaults so they win over them. A value of the exact form
  // "${file:/path}" is replaced by the file's content with surrounding
  // whitespace trimmed, so secrets never appear on a command line or in the
  // config file. Properties a connector manages itself (for example
  // enable.auto.commit for the source) are rejected with a message saying
  // which option to use instead.
  std::map<std::string, std::string> properties;
  // Where librdkafka's log lines go (default: warnings and errors to
  // standard error, the rest dropped).
  KafkaLogFn log;

  // InvalidArgument naming the first problem (empty bootstrap, empty
  // property name, unreadable secret file).
  Status Validate() const;
};

// The value of a property: `value` itself, or for "${file:/path}" the
// trimmed content of that file (IoError naming the path when unreadable).
Result<std::string> ResolveKafkaPropertyValue(std::string_view value);

}  // namespace zicht::connectors
