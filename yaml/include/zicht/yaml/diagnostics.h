// Diagnostics: the errors found in one YAML file, each located at
// file:line:column, reported all at once in file order and capped so that a
// pathological file cannot flood the reader. Shared by every YAML reader
// (rule packs, engine config, rule tests) so they word, cap and sort alike.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/base/diagnostic.h"

namespace zicht::yaml {

// Past this many errors the rest adds nothing for the reader.
inline constexpr size_t kMaxDiagnostics = 200;

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  // yaml-cpp marks are 0-based and -1 when unknown; ours are 1-based.
  SourceMark Mark(const YAML::Node& node) const;
  SourceMark Mark(int line, int column) const { return SourceMark{file_, line, column}; }

  // Control bytes and invalid UTF-8 in `message` (quoted input) are escaped:
  // one readable line per error whatever the file holds.
  void Error(const SourceMark& mark, const std::string& message);
  void Error(const YAML::Node& node, const std::string& message) { Error(Mark(node), message); }
  // An error that is already located elsewhere (another file a pack names).
  void Add(Diagnostic diagnostic);
  // A message that carries its own "file:line:column: " prefix (a Status from
  // another reader).
  void AddLocated(std::string text) { Add(Diagnostic{SourceMark{}, std::move(text)}); }

  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }

  // The errors in file order (stable for equal positions), ending with a
  // "too many errors" line when the cap was reached. Empties the list.
  std::vector<Diagnostic> Take();
  // Take(), one "file:line:column: message" per line.
  std::string TakeText();

 private:
  std::string file_;
  std::vector<Diagnostic> errors_;
  bool truncated_ = false;
};

// Parses `text` as exactly one YAML document. On an empty text, a second
// document or invalid YAML it reports the error (`what` names the document:
// "rule pack", "configuration") and returns an undefined node. Never throws
// and never loops: documents are counted with the event parser (yaml-cpp 0.7's
// LoadAll collects endless documents from some malformed inputs).
YAML::Node LoadDocument(std::string_view text, std::string_view what, Diagnostics& diagnostics);

}  // namespace zicht::yaml
