// Fuzz target (d): engine.yaml through ParseEngineConfig. Invariants: every
// error line is file:line:column: message; an accepted configuration has
// exactly one source, at least one rule pack and a destination per sink.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "fuzz_common.h"
#include "zicht/runtime/config.h"

extern "C" int ZICHT_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto config = zicht::runtime::ParseEngineConfig(text, "fuzz.yaml");
  if (!config.ok()) {
    std::istringstream lines(config.status().message());
    std::string line;
    while (std::getline(lines, line)) {
      ZICHT_FUZZ_CHECK(line.rfind("fuzz.yaml:", 0) == 0, "every error line names the file");
    }
    return 0;
  }
  ZICHT_FUZZ_CHECK(config->kafka.has_value() != config->file.has_value(), "exactly one source");
  ZICHT_FUZZ_CHECK(!config->rules.empty(), "rule packs");
  for (const auto* sink : {&config->alerts, &config->dead_letter}) {
    ZICHT_FUZZ_CHECK(sink->kind != zicht::runtime::SinkConfig::Kind::kNone || sink->print,
                     "sink has a destination");
  }
  ZICHT_FUZZ_CHECK(config->http.port >= 0 && config->http.port <= 65535, "port range");
  return 0;
}
