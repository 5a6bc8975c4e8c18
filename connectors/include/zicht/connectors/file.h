// File connectors: a JSONL source (file or standard input, optionally
// following a growing file) and JSONL sinks for alerts and dead letters.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "zicht/connectors/event_source.h"
#include "zicht/connectors/record_sink.h"

namespace zicht::connectors {

struct FileSourceOptions {
  std::string path;                   // "-" = standard input
  bool follow = false;                // keep reading as the file grows (tail -f)
  size_t chunk_bytes = 4u << 20;      // read size (default 4 MiB)
  size_t max_line_bytes = 16u << 20;  // longer lines are cut here (default 16 MiB); the
                                      // engine dead-letters them as too large
  int64_t start_offset = 0;           // resume position (byte offset of a line start)
  int64_t start_line = 1;             // line number at start_offset
};

// Identity of a file, to tell whether a stored offset belongs to it.
struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t size = 0;
};
Result<FileIdentity> IdentifyFile(const std::string& path);

Result<EventSourcePtr> OpenFileSource(const FileSourceOptions& options);

// Appends each record's value as one line. `fsync` on Flush when durable=true.
Result<RecordSinkPtr> OpenJsonlSink(const std::string& path, bool durable = false);
// Dead letters as SPEC section 2 file records:
// {"reason":...,"detail":...,"source":...,"raw_base64":...}
Result<RecordSinkPtr> OpenDeadLetterFileSink(const std::string& path, bool durable = false);
// Human-readable one-line summaries of alert records on a stream (stdout).
RecordSinkPtr MakeAlertPrinterSink(std::FILE* stream);

}  // namespace zicht::connectors
