// Helpers shared by the rules tests: fixture paths and loading packs from text.
#pragma once

#include <string>
#include <vector>

#include "zicht/base/file.h"
#include "zicht/rules/loader.h"

namespace zicht::rules::testing {

inline std::string DataPath(const std::string& name) {
  return std::string(ZICHT_SOURCE_DIR) + "/tests/rules/data/" + name;
}

inline std::string ReadData(const std::string& name) {
  auto text = ReadFileToString(DataPath(name));
  return text.ok() ? *text : std::string();
}

// Options under which the reference pack's `config/reference/...` resolves
// to the fixture in tests/rules/data.
inline LoadOptions DataOptions() {
  LoadOptions o;
  o.reference_base_dir = DataPath("");
  return o;
}

// Every diagnostic as "file:line:column: message".
inline std::vector<std::string> ErrorsOf(const PackLoadResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.errors) out.push_back(d.ToString());
  return out;
}

inline std::vector<std::string> ErrorsOf(const RuleSetLoadResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.errors) out.push_back(d.ToString());
  return out;
}

}  // namespace zicht::rules::testing
