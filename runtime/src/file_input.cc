#include "zicht/runtime/file_input.h"

#include <fmt/format.h>

#include <filesystem>

#include "zicht/connectors/file.h"

namespace zicht::runtime {

Result<ResumedFileSource> OpenResumedFileSource(engine::Engine& engine, const std::string& path,
                                                bool follow) {
  std::string source_id = "stdin";
  if (path != "-") {
    auto id = connectors::IdentifyFile(path);
    if (!id.ok()) return id.status();
    source_id = fmt::format("file:{}:{}", id->device, id->inode);
  }
  engine.SetSourceId(0, source_id);
  const engine::SourcePosition start = engine.Position(0);
  connectors::FileSourceOptions options;
  options.path = path;
  options.follow = follow;
  ResumedFileSource out;
  if (source_id != "stdin" && start.next_offset > 0) {
    options.start_offset = start.next_offset;
    options.start_line = start.line;
    out.resumed_line = start.line;
  }
  auto source = connectors::OpenFileSource(options);
  if (!source.ok()) return source.status();
  out.source = std::move(source).value();
  out.name = path == "-" ? std::string("stdin") : std::filesystem::path(path).filename().string();
  return out;
}

}  // namespace zicht::runtime
