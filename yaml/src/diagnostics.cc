#include "zicht/yaml/diagnostics.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <sstream>
#include <tuple>

#include "zicht/base/text.h"

namespace zicht::yaml {
namespace {

// Records where documents start; every other event is ignored.
class DocumentStartRecorder : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  std::vector<YAML::Mark> starts;
};

// Where the documents in `text` start, at most `most` of them: every call to
// the parser counts, so a malformed input cannot keep it going.
std::vector<YAML::Mark> DocumentStarts(const std::string& text, size_t most) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStartRecorder recorder;
  for (size_t calls = 0; calls < most && parser.HandleNextDocument(recorder); ++calls) {
  }
  return recorder.starts;
}

}  // namespace

SourceMark Diagnostics::Mark(const YAML::Node& node) const {
  YAML::Mark m = node.Mark();
  return SourceMark{file_, std::max(m.line, 0) + 1, std::max(m.column, 0) + 1};
}

void Diagnostics::Error(const SourceMark& mark, const std::string& message) {
  if (errors_.size() >= kMaxDiagnostics) {
    truncated_ = true;
    return;
  }
  errors_.push_back(Diagnostic{mark, PrintableText(message, std::string::npos)});
}

void Diagnostics::Add(Diagnostic diagnostic) {
  if (errors_.size() >= kMaxDiagnostics) {
    truncated_ = true;
    return;
  }
  errors_.push_back(std::move(diagnostic));
}

std::vector<Diagnostic> Diagnostics::Take() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    // Errors located in other files (a pack's reference table) keep their place.
    if (a.mark.file != b.mark.file) return false;
    return std::tie(a.mark.line, a.mark.column) < std::tie(b.mark.line, b.mark.column);
  });
  if (truncated_ && !errors_.empty()) {
    errors_.push_back(
        Diagnostic{SourceMark{file_, errors_.back().mark.line, 1},
                   fmt::format("too many errors; stopped after {}", kMaxDiagnostics)});
  }
  truncated_ = false;
  std::vector<Diagnostic> out;
  out.swap(errors_);
  return out;
}

std::string Diagnostics::TakeText() {
  std::string out;
  for (const Diagnostic& d : Take()) {
    if (!out.empty()) out += '\n';
    out += d.ToString();
  }
  return out;
}

YAML::Node LoadDocument(std::string_view text, std::string_view what, Diagnostics& diagnostics) {
  try {
    const std::string copy(text);
    const std::vector<YAML::Mark> starts = DocumentStarts(copy, 2);
    YAML::Node doc = starts.size() == 1 ? YAML::Load(copy) : YAML::Node();
    if (starts.empty() || (starts.size() == 1 && doc.IsNull())) {
      diagnostics.Error(diagnostics.Mark(1, 1), fmt::format("the {} is empty", what));
    } else if (starts.size() > 1) {
      diagnostics.Error(
          diagnostics.Mark(starts[1].line + 1, starts[1].column + 1),
          fmt::format("a {} is one YAML document; found a second one (remove the '---')", what));
    } else {
      return doc;
    }
  } catch (const YAML::Exception& e) {
    std::string message = e.msg;
    if (message.find("block scalar") != std::string::npos) {
      message += " (an unquoted '>' or '|' starts a YAML block text; quote it, e.g. op: \">=\")";
    }
    diagnostics.Error(
        diagnostics.Mark(std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1),
        "invalid YAML: " + message);
  } catch (const std::exception& e) {
    diagnostics.Error(diagnostics.Mark(1, 1),
                      fmt::format("cannot load the {}: {}", what, e.what()));
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

}  // namespace zicht::yaml
