#include "zicht/runtime/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <set>
#include <tuple>

#include "zicht/base/file.h"
#include "zicht/base/text.h"
#include "zicht/yaml/diagnostics.h"
#include "zicht/yaml/map_view.h"

namespace zicht::runtime {
namespace {

// The diagnostics of the file, and the dotted key whose value is being set
// (setters name it in their messages).
class Errors {
 public:
  explicit Errors(std::string file) : diagnostics_(std::move(file)) {}
  void Add(const YAML::Node& node, const std::string& message) {
    diagnostics_.Error(node, message);
  }
  void Add(int line, int column, const std::string& message) {
    diagnostics_.Error(diagnostics_.Mark(line, column), message);
  }
  bool empty() const { return diagnostics_.empty(); }
  std::string Joined() { return diagnostics_.TakeText(); }
  yaml::Diagnostics& diagnostics() { return diagnostics_; }
  std::string key;

 private:
  yaml::Diagnostics diagnostics_;
};

// ${VAR} from the environment; other text (including ${file:...}, which the
// Kafka connector resolves) is kept as is.
bool ExpandEnv(const std::string& in, std::string* out, std::string* missing) {
  out->clear();
  for (size_t i = 0; i < in.size();) {
    if (in.compare(i, 2, "${") == 0) {
      size_t end = in.find('}', i + 2);
      std::string name = end == std::string::npos ? "" : in.substr(i + 2, end - i - 2);
      bool is_var = !name.empty() &&
                    (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_') &&
                    std::all_of(name.begin(), name.end(), [](char c) {
                      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                    });
      if (is_var) {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) {
          *missing = name;
          return false;
        }
        out->append(value);
        i = end + 1;
        continue;
      }
    }
    out->push_back(in[i++]);
  }
  return true;
}

using Setter =
    std::function<void(const YAML::Node&, const std::string& text, EngineConfig*, Errors*)>;

struct Property {
  ConfigProperty doc;
  Setter set;
};

bool ParseBool(const std::string& s, bool* out) {
  auto b = yaml::ParseBool(s);
  if (b) *out = *b;
  return b.has_value();
}

template <typename Int>
bool ParseInt(const std::string& s, Int* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

KafkaSourceConfig& Kafka(EngineConfig* c) {
  if (!c->kafka) c->kafka.emplace();
  return *c->kafka;
}
FileSourceConfig& File(EngineConfig* c) {
  if (!c->file) c->file.emplace();
  return *c->file;
}

Setter String(const std::function<std::string&(EngineConfig*)>& field) {
  return [field](const YAML::Node&, const std::string& text, EngineConfig* c, Errors*) {
    field(c) = text;
  };
}
Setter Bool(const std::function<bool&(EngineConfig*)>& field) {
  return [field](const YAML::Node& n, const std::string& text, EngineConfig* c, Errors* e) {
    if (!ParseBool(text, &field(c)))
      e->Add(n, fmt::format("'{}' must be true or false, got '{}'", e->key, text));
  };
}
template <typename Int>
Setter Integer(std::function<Int&(EngineConfig*)> field, Int min, Int max) {
  return
      [field, min, max](const YAML::Node& n, const std::string& text, EngineConfig* c, Errors* e) {
        Int v;
        if (!ParseInt(text, &v) || v < min || v > max) {
          e->Add(n, fmt::format("'{}' must be a whole number in {}..{}, got '{}'", e->key, min, max,
                                text));
          return;
        }
        field(c) = v;
      };
}
Setter DurationField(const std::function<TimeMs&(EngineConfig*)>& field, bool allow_zero = false) {
  return [field, allow_zero](const YAML::Node& n, const std::string& text, EngineConfig* c,
                             Errors* e) {
    auto d = ParseDuration(text);
    if (!d || (!allow_zero && d->ms() == 0)) {
      e->Add(n, fmt::format("'{}' must be a duration like 14d, 12h, 30m or 10s, got '{}'", e->key,
                            text));
      return;
    }
    field(c) = d->ms();
  };
}
Setter StringMap(const std::function<std::map<std::string, std::string>&(EngineConfig*)>& field) {
  return [field](const YAML::Node& n, const std::string&, EngineConfig* c, Errors* e) {
    if (!n.IsMap()) {
      e->Add(n, fmt::format("'{}' must be a mapping, not {}", e->key, yaml::KindOf(n)));
      return;
    }
    for (const auto& kv : n) {
      const YAML::Node key = kv.first;
      const YAML::Node item = kv.second;
      if (!item.IsScalar()) {
        e->Add(item, fmt::format("'{}.{}' must be a single value, not {}", e->key, key.Scalar(),
                                 yaml::KindOf(item)));
        continue;
      }
      std::string value, missing;
      if (!ExpandEnv(item.Scalar(), &value, &missing)) {
        e->Add(item, fmt::format("environment variable {} is not set", missing));
        continue;
      }
      field(c)[key.Scalar()] = value;
    }
  };
}
Setter StringList(const std::function<std::vector<std::string>&(EngineConfig*)>& field) {
  return [field](const YAML::Node& n, const std::string&, EngineConfig* c, Errors* e) {
    std::vector<std::string>& list = field(c);
    list.clear();
    auto add = [&](const YAML::Node& item) {
      std::string value, missing;
      if (!item.IsScalar()) {
        e->Add(item, fmt::format("an item of '{}' must be a single value, not {}", e->key,
                                 yaml::KindOf(item)));
      } else if (!ExpandEnv(item.Scalar(), &value, &missing)) {
        e->Add(item, fmt::format("environment variable {} is not set", missing));
      } else {
        list.push_back(value);
      }
    };
    if (n.IsSequence()) {
      for (const YAML::Node& item : n) add(item);
    } else {
      add(n);
    }
  };
}
Setter Sink(SinkConfig EngineConfig::*sink, SinkConfig::Kind kind) {
  return [sink, kind](const YAML::Node& n, const std::string& text, EngineConfig* c, Errors* e) {
    SinkConfig& s = c->*sink;
    if (s.kind != SinkConfig::Kind::kNone && s.kind != kind) {
      e->Add(n, "a sink is either kafka or file, not both");
      return;
    }
    s.kind = kind;
    if (kind == SinkConfig::Kind::kFile) s.path = text;
  };
}

const std::vector<Property>& Registry() {
  static const std::vector<Property> kProperties = [] {
    std::vector<Property> p;
    auto add = [&](std::string key, std::string type, std::string def, std::string desc, Setter set,
                   bool restart = true) {
      p.push_back(Property{
          ConfigProperty{std::move(key), std::move(type), std::move(def), std::move(desc), restart},
          std::move(set)});
    };
    add("source.kafka.bootstrap_servers", "string", "(required)",
        "Kafka brokers, host:port[,host:port]",
        String([](EngineConfig* c) -> std::string& { return Kafka(c).bootstrap_servers; }));
    add("source.kafka.topic", "string", "zicht.events",
        "Input topic (events keyed by municipality code)",
        [](const YAML::Node&, const std::string& t, EngineConfig* c, Errors*) {
          Kafka(c).topics = {t};
        });
    add("source.kafka.topics", "list", "[zicht.events]",
        "Several input topics with the same partition count",
        StringList([](EngineConfig* c) -> std::vector<std::string>& { return Kafka(c).topics; }));
    add("source.kafka.group_id", "string", "zicht",
        "Consumer group; also names the changelog and national topics",
        String([](EngineConfig* c) -> std::string& { return Kafka(c).group_id; }));
    add("source.kafka.properties", "map", "{}",
        "librdkafka properties passed as is (security.protocol, sasl.*, ssl.*); values may be "
        "${file:/path}",
        StringMap([](EngineConfig* c) -> std::map<std::string, std::string>& {
          return Kafka(c).properties;
        }));
    add("source.kafka.stop_at_end", "bool", "false",
        "Exit 0 once every partition reaches the end offsets seen at start (benchmarks)",
        Bool([](EngineConfig* c) -> bool& { return Kafka(c).stop_at_end; }));
    add("source.kafka.changelog", "bool", "true",
        "Mirror state to a compacted changelog topic so partitions can move to an empty disk",
        Bool([](EngineConfig* c) -> bool& { return Kafka(c).changelog; }));
    add("source.kafka.changelog_topic", "string", "<group_id>.changelog", "Changelog topic",
        String([](EngineConfig* c) -> std::string& { return Kafka(c).changelog_topic; }));
    add("source.kafka.national_topic", "string", "<group_id>.national",
        "Compacted topic through which instances share their partitions' national figures",
        String([](EngineConfig* c) -> std::string& { return Kafka(c).national_topic; }));
    add("source.kafka.idle_timeout", "duration", "5s",
        "A partition without new events this long is moved on in event time so others are not held "
        "back",
        DurationField([](EngineConfig* c) -> TimeMs& { return Kafka(c).idle_timeout_ms; }));
    add("source.file.path", "string", "(required)", "JSONL input file, - for standard input",
        String([](EngineConfig* c) -> std::string& { return File(c).path; }));
    add("source.file.follow", "bool", "false", "Keep reading as the file grows",
        Bool([](EngineConfig* c) -> bool& { return File(c).follow; }));
    for (const auto& sink : {std::pair{"alerts", &EngineConfig::alerts},
                             std::pair{"dead_letter", &EngineConfig::dead_letter}}) {
      // Plain variables: lambdas cannot capture structured bindings before C++20
      // compilers implement P1091 (clang 16), and the fuzz build uses clang 14.
      const char* name = sink.first;
      SinkConfig EngineConfig::*member = sink.second;
      std::string base = std::string("sinks.") + name;
      std::string def_topic = std::string(name) == "alerts" ? "zicht.alerts" : "zicht.dead-letter";
      add(base + ".file", "string", "-", std::string("Write ") + name + " as JSONL to this file",
          Sink(member, SinkConfig::Kind::kFile));
      add(base + ".kafka.topic", "string", def_topic,
          std::string("Produce ") + name + " to this topic",
          [member](const YAML::Node& n, const std::string& t, EngineConfig* c, Errors* e) {
            Sink(member, SinkConfig::Kind::kKafka)(n, t, c, e);
            (c->*member).topic = t;
          });
      add(base + ".kafka.properties", "map", "{}", "Extra librdkafka producer properties",
          StringMap([member](EngineConfig* c) -> std::map<std::string, std::string>& {
            return (c->*member).properties;
          }));
      add(base + ".print", "bool", "false",
          std::string("Also print a line per ") + name + " record on standard output",
          Bool([member](EngineConfig* c) -> bool& { return (c->*member).print; }));
    }
    add("state.dir", "string", "/var/lib/zicht", "RocksDB state directory",
        String([](EngineConfig* c) -> std::string& { return c->state_dir; }));
    add("state.retention", "duration", "1830d",
        "Longest history kept; packs needing more (window, or 5 windows for trend_ratio) do not "
        "validate",
        DurationField([](EngineConfig* c) -> TimeMs& { return c->retention_ms; }));
    add(
        "state.commit_interval", "duration", "100ms",
        "Wall time between commits of state, offsets and outbox (bounds event-to-alert latency)",
        [](const YAML::Node& n, const std::string& t, EngineConfig* c, Errors* e) {
          // Milliseconds are the useful unit here; accept "250ms" besides 1s.
          if (t.size() > 2 && t.substr(t.size() - 2) == "ms") {
            int64_t ms;
            if (ParseInt(t.substr(0, t.size() - 2), &ms) && ms > 0 && ms <= 600000) {
              c->commit_interval_ms = ms;
              return;
            }
          }
          DurationField([](EngineConfig* cc) -> TimeMs& { return cc->commit_interval_ms; })(n, t, c,
                                                                                            e);
        },
        false);
    add("state.commit_every_records", "int", "100000", "Commit at least every this many records",
        Integer<int64_t>([](EngineConfig* c) -> int64_t& { return c->commit_every_records; }, 1,
                         100000000),
        false);
    add("rules", "list", "(required)", "Rule pack files",
        StringList([](EngineConfig* c) -> std::vector<std::string>& { return c->rules; }), false);
    add("reference.municipalities", "string", "config/reference/municipalities.csv",
        "Municipality reference data (CBS)",
        String([](EngineConfig* c) -> std::string& { return c->municipalities; }), false);
    add("reference.neighbourhoods", "string", "(none)",
        "Neighbourhood (CBS buurt) reference data: code,name,municipality,population (SPEC 8.3)",
        String([](EngineConfig* c) -> std::string& { return c->neighbourhoods; }), false);
    add("reference.mergers", "string", "(none)",
        "Municipal mergers: effective,old_code,new_code,new_name; old codes fold into the new "
        "one at the effective UTC day (SPEC 8.3)",
        String([](EngineConfig* c) -> std::string& { return c->mergers; }), false);
    add("http.enabled", "bool", "true", "Serve metrics, health, the JSON API and the dashboard",
        Bool([](EngineConfig* c) -> bool& { return c->http.enabled; }));
    add("http.bind", "string", "0.0.0.0", "Listen address",
        String([](EngineConfig* c) -> std::string& { return c->http.bind; }));
    add("http.port", "int", "9464", "Listen port (0: pick a free one)",
        Integer<int>([](EngineConfig* c) -> int& { return c->http.port; }, 0, 65535));
    add("http.api", "bool", "true", "Serve the read-only JSON API and the analyst dashboard",
        Bool([](EngineConfig* c) -> bool& { return c->http.api; }));
    add("http.api_localhost_only", "bool", "false",
        "Answer API and dashboard requests from loopback only",
        Bool([](EngineConfig* c) -> bool& { return c->http.api_localhost_only; }));
    add("http.admin_token_file", "string", "", "File holding the bearer token for admin endpoints",
        String([](EngineConfig* c) -> std::string& { return c->http.admin_token_file; }));
    add("http.admin_token_env", "string", "ZICHT_ADMIN_TOKEN",
        "Environment variable holding the admin token",
        String([](EngineConfig* c) -> std::string& { return c->http.admin_token_env; }));
    add("http.disclosure_min_count", "int", "5",
        "Counts below this are never shown exactly (CBS practice)",
        Integer<int>([](EngineConfig* c) -> int& { return c->http.disclosure_min_count; }, 0,
                     1000));
    add("http.ready_max_lag", "int", "10000",
        "/readyz fails while the consumer lag exceeds this many events",
        Integer<int64_t>([](EngineConfig* c) -> int64_t& { return c->http.ready_max_lag; }, 0,
                         INT64_MAX / 2));
    add("allowed_lateness", "duration", "1d",
        "How far behind the newest event time an event may be",
        DurationField([](EngineConfig* c) -> TimeMs& { return c->allowed_lateness_ms; }, true));
    add("dedup_horizon", "duration", "7d",
        "Event time within which a repeated type and id is a duplicate",
        DurationField([](EngineConfig* c) -> TimeMs& { return c->dedup_horizon_ms; }));
    add("national_lag", "int", "0",
        "Days national figures lag a partition's last closed day; >0 lets Kafka partitions run "
        "apart in event time (docs/consistency.md)",
        Integer<int>([](EngineConfig* c) -> int& { return c->national_lag_days; }, 0, 7));
    add("reload.watch", "bool", "true",
        "Reload rule packs and reference files when they change (also on SIGHUP)",
        Bool([](EngineConfig* c) -> bool& { return c->watch_rules; }), false);
    add("reload.interval", "duration", "2s", "How often changed files are looked for",
        DurationField([](EngineConfig* c) -> TimeMs& { return c->watch_interval_ms; }), false);
    add("exit_at_end", "bool", "false",
        "File source: exit once the input is processed instead of serving on",
        Bool([](EngineConfig* c) -> bool& { return c->exit_at_end; }));
    add("log_level", "string", "info", "trace, debug, info, warn, error",
        String([](EngineConfig* c) -> std::string& { return c->log_level; }), false);
    return p;
  }();
  return kProperties;
}

void Walk(const YAML::Node& node, const std::string& prefix, EngineConfig* config, Errors* errors,
          std::map<std::string, int>* seen) {
  const auto& registry = Registry();
  for (const auto& kv : node) {
    // Copies: yaml-cpp's iterator proxies do not outlive the expression.
    const YAML::Node key_node = kv.first;
    const YAML::Node value = kv.second;
    const std::string& key = key_node.Scalar();
    const std::string path = prefix.empty() ? key : std::string(prefix).append(".").append(key);
    if (auto [first, inserted] = seen->emplace(path, key_node.Mark().line + 1); !inserted) {
      errors->Add(key_node,
                  fmt::format("duplicate key '{}' (first at line {})", key, first->second));
      continue;
    }
    const Property* leaf = nullptr;
    bool section = false;
    for (const Property& p : registry) {
      if (p.doc.key == path) leaf = &p;
      if (p.doc.key.size() > path.size() &&
          p.doc.key.compare(0, path.size() + 1, path + ".") == 0) {
        section = true;
      }
    }
    if (leaf != nullptr &&
        (leaf->doc.type == "map" || leaf->doc.type == "list" || value.IsScalar())) {
      std::string text, missing;
      if (value.IsScalar() && !ExpandEnv(value.Scalar(), &text, &missing)) {
        errors->Add(value, fmt::format("environment variable {} is not set", missing));
        continue;
      }
      if (value.IsNull()) {
        errors->Add(value, fmt::format("'{}' needs a value", path));
        continue;
      }
      errors->key = path;
      leaf->set(value, text, config, errors);
    } else if (section && value.IsMap()) {
      Walk(value, path, config, errors, seen);
    } else if (leaf != nullptr || section) {
      const bool map = leaf == nullptr || leaf->doc.type == "map";
      errors->Add(value, fmt::format("'{}' must be {}, not {}", path,
                                     map                        ? "a mapping"
                                     : leaf->doc.type == "list" ? "a list"
                                                                : "a single value",
                                     yaml::KindOf(value)));
    } else {
      // The keys possible at this level: the next segment of every property under `prefix`.
      std::vector<std::string> candidates;
      for (const Property& p : registry) {
        std::string candidate = p.doc.key;
        if (!prefix.empty() && candidate.compare(0, prefix.size() + 1, prefix + ".") != 0) continue;
        candidate = candidate.substr(prefix.empty() ? 0 : prefix.size() + 1);
        candidates.push_back(candidate.substr(0, candidate.find('.')));
      }
      const std::string best = NearestName(key, candidates, 3);
      errors->Add(key_node, best.empty()
                                ? fmt::format("unknown key '{}'", path)
                                : fmt::format("unknown key '{}' (did you mean '{}'?)", path, best));
    }
  }
}

}  // namespace

const std::vector<ConfigProperty>& ConfigProperties() {
  static const std::vector<ConfigProperty> kDocs = [] {
    std::vector<ConfigProperty> out;
    for (const Property& p : Registry()) out.push_back(p.doc);
    return out;
  }();
  return kDocs;
}

Result<EngineConfig> ParseEngineConfig(const std::string& yaml, const std::string& name) {
  Errors errors(name);
  YAML::Node root = yaml::LoadDocument(yaml, "configuration", errors.diagnostics());
  if (!root.IsDefined()) return Status::InvalidArgument(errors.Joined());
  EngineConfig config;
  config.path = name;
  if (!root.IsMap()) {
    errors.Add(1, 1, "the configuration must be a YAML mapping");
    return Status::InvalidArgument(errors.Joined());
  }
  std::map<std::string, int> seen;
  try {
    Walk(root, "", &config, &errors, &seen);
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  // Cross-field checks.
  if (config.kafka && config.file) errors.Add(1, 1, "source: give either kafka or file, not both");
  if (!config.kafka && !config.file)
    errors.Add(1, 1, "source: missing (source.kafka or source.file)");
  if (config.kafka) {
    if (config.kafka->bootstrap_servers.empty())
      errors.Add(1, 1, "source.kafka.bootstrap_servers: missing");
    if (config.kafka->topics.empty()) errors.Add(1, 1, "source.kafka.topic: missing");
    if (config.kafka->changelog_topic.empty())
      config.kafka->changelog_topic = config.kafka->group_id + ".changelog";
    if (config.kafka->national_topic.empty())
      config.kafka->national_topic = config.kafka->group_id + ".national";
  }
  if (config.file && config.file->path.empty()) errors.Add(1, 1, "source.file.path: missing");
  if (config.rules.empty()) errors.Add(1, 1, "rules: at least one rule pack is needed");
  // SPEC section 7: with Kafka, alerts and dead letters go to their default
  // topics unless configured otherwise. Files need to be named.
  for (auto [sink, topic, sink_name] :
       {std::tuple{&config.alerts, "zicht.alerts", "alerts"},
        std::tuple{&config.dead_letter, "zicht.dead-letter", "dead_letter"}}) {
    if (sink->kind == SinkConfig::Kind::kKafka && sink->topic.empty()) sink->topic = topic;
    if (sink->kind != SinkConfig::Kind::kNone) continue;
    if (config.kafka) {
      sink->kind = SinkConfig::Kind::kKafka;
      sink->topic = topic;
    } else if (!sink->print) {
      errors.Add(1, 1,
                 fmt::format("sinks.{}: missing (file, kafka.topic or print: true)", sink_name));
    }
  }
  if (!errors.empty()) return Status::InvalidArgument(errors.Joined());
  return config;
}

Result<EngineConfig> LoadEngineConfig(const std::string& path) {
  auto text = ReadFileToString(path, 1u << 20);
  if (!text.ok()) return text.status();
  return ParseEngineConfig(*text, path);
}

std::string ConfigPropertiesMarkdown() {
  std::string out = "| key | type | default | restart | description |\n|---|---|---|---|---|\n";
  for (const ConfigProperty& p : ConfigProperties()) {
    out += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", p.key, p.type, p.default_text,
                       p.needs_restart ? "yes" : "no (reloaded)", p.description);
  }
  return out;
}

}  // namespace zicht::runtime
