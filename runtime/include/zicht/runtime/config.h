// EngineConfig: the one YAML file `zicht run --config` reads (SPEC section 7).
// Every key is declared once in a property registry (name, type, default,
// description, whether a change needs a restart); validation, defaults and
// docs/configuration.md all come from that registry.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/base/time.h"

namespace zicht::runtime {

struct KafkaSourceConfig {
  std::string bootstrap_servers;
  std::vector<std::string> topics{"zicht.events"};
  std::string group_id = "zicht";
  std::map<std::string, std::string> properties;  // passed to librdkafka as is
  bool stop_at_end = false;       // benchmarks: exit once the end offsets seen at start are reached
  bool changelog = true;          // mirror state to a compacted changelog topic
  std::string changelog_topic;    // default "<group_id>.changelog"
  std::string national_topic;     // default "<group_id>.national"
  TimeMs idle_timeout_ms = 5000;  // a partition without events this long is moved on
};

struct FileSourceConfig {
  std::string path;
  bool follow = false;
};

struct SinkConfig {
  enum class Kind { kNone, kFile, kKafka };
  Kind kind = Kind::kNone;
  std::string path;                               // file
  std::string topic;                              // kafka
  std::map<std::string, std::string> properties;  // kafka producer extras
  bool print = false;                             // also print a line per record on standard output
};

struct HttpConfig {
  bool enabled = true;
  std::string bind = "0.0.0.0";
  int port = 9464;
  bool api = true;  // the read-only JSON API and the dashboard
  bool api_localhost_only = false;
  std::string admin_token_file;  // bearer token for POST /api/v1/rules/reload
  std::string admin_token_env = "ZICHT_ADMIN_TOKEN";
  int disclosure_min_count = 5;   // counts below this are never shown exactly
  int64_t ready_max_lag = 10000;  // /readyz fails while consumer lag is higher
};

struct EngineConfig {
  std::string path;  // the file it was read from
  std::optional<KafkaSourceConfig> kafka;
  std::optional<FileSourceConfig> file;
  SinkConfig alerts;
  SinkConfig dead_letter;
  std::string state_dir = "/var/lib/zicht";
  TimeMs retention_ms = 1830 * kMsPerDay;
  TimeMs commit_interval_ms = 100;
  int64_t commit_every_records = 100000;
  std::vector<std::string> rules;
  std::string municipalities = "config/reference/municipalities.csv";
  std::string neighbourhoods;  // empty: no neighbourhood table
  std::string mergers;         // empty: no municipal mergers
  HttpConfig http;
  TimeMs allowed_lateness_ms = kMsPerDay;
  TimeMs dedup_horizon_ms = 7 * kMsPerDay;
  int national_lag_days = 0;  // engine::EngineOptions::national_lag_days
  bool watch_rules = true;    // reload changed rule packs and reference files
  TimeMs watch_interval_ms = 2000;
  bool exit_at_end = false;  // file source: exit once the input is processed
  std::string log_level = "info";
};

// One configuration property, as documented.
struct ConfigProperty {
  std::string key;           // "source.kafka.bootstrap_servers"
  std::string type;          // "string", "duration", "int", "bool", "list", "map"
  std::string default_text;  // as written in docs
  std::string description;
  bool needs_restart = true;
};
const std::vector<ConfigProperty>& ConfigProperties();

// Reads the file, replaces ${VAR} from the environment, validates every key.
// On failure the status message holds every error as file:line:column: message.
Result<EngineConfig> LoadEngineConfig(const std::string& path);
Result<EngineConfig> ParseEngineConfig(const std::string& yaml, const std::string& name);

// Markdown table of every property (docs/configuration.md is checked against it).
std::string ConfigPropertiesMarkdown();

}  // namespace zicht::runtime
