// The JSONL file input of `zicht run` and `zicht replay`, resumed where the
// last run on the same file stopped (the position is committed with the state).
#pragma once

#include <cstdint>
#include <string>

#include "zicht/base/status.h"
#include "zicht/connectors/event_source.h"
#include "zicht/engine/engine.h"

namespace zicht::runtime {

// A JSONL file source registered with the engine as source 0 and positioned
// after the last record a previous run on the same file applied (the file is
// known by device and inode; standard input, "-", always starts at the top).
struct ResumedFileSource {
  connectors::EventSourcePtr source;
  std::string name;          // file name without directories, or "stdin"
  int64_t resumed_line = 0;  // the line it continues at; 0: from the start
};
Result<ResumedFileSource> OpenResumedFileSource(engine::Engine& engine, const std::string& path,
                                                bool follow);

}  // namespace zicht::runtime
