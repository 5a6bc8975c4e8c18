// Loading rule packs: a file's text into a validated RulePack (PackParser in
// pack_parser.h does the parsing), with every error as file:line:column.
#include "zicht/rules/loader.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "pack_parser.h"
#include "zicht/base/file.h"
#include "zicht/yaml/diagnostics.h"

namespace zicht::rules {

PackLoadResult LoadRulePackText(std::string_view yaml, const std::string& file_name,
                                const LoadOptions& options) {
  PackLoadResult result;
  parse::Ctx ctx(file_name, &options);
  if (yaml.size() > options.max_pack_bytes) {
    ctx.Error(ctx.Mark(1, 1), fmt::format("rule pack is {} bytes, more than the limit of {} "
                                          "(LoadOptions::max_pack_bytes)",
                                          yaml.size(), options.max_pack_bytes));
    result.errors = ctx.Take();
    return result;
  }
  RulePack pack;
  pack.file = file_name;
  YAML::Node doc = yaml::LoadDocument(yaml, "rule pack", ctx);
  if (doc.IsDefined()) {
    try {
      parse::PackParser parser(ctx, &pack);
      parser.Parse(doc);
    } catch (const std::exception& e) {
      // yaml-cpp throws on some malformed nodes while they are read.
      ctx.Error(ctx.Mark(1, 1), fmt::format("cannot load the rule pack: {}", e.what()));
    }
  }
  const bool valid = ctx.empty();
  result.errors = ctx.Take();
  if (valid) {
    FinalizePack(&pack);
    result.pack = std::move(pack);
  }
  return result;
}
PackLoadResult LoadRulePackFile(const std::string& path, const LoadOptions& options) {
  auto text = ReadFileToString(path, options.max_pack_bytes + 1);
  if (!text.ok()) {
    PackLoadResult result;
    std::string message = text.status().message();
    // base says "path: reason"; the mark names the file already.
    if (message.rfind(path + ": ", 0) == 0) message.erase(0, path.size() + 2);
    if (text.status().code() == StatusCode::kInvalidArgument) {
      message = fmt::format(
          "rule pack is more than the limit of {} bytes "
          "(LoadOptions::max_pack_bytes)",
          options.max_pack_bytes);
    } else {
      message = "cannot read the rule pack: " + message;
    }
    result.errors.push_back(Diagnostic{SourceMark{path, 1, 1}, message});
    return result;
  }
  return LoadRulePackText(*text, path, options);
}

}  // namespace zicht::rules
