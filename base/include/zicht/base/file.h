// Whole-file reads and atomic whole-file writes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "zicht/base/status.h"

namespace zicht {

// Reads a file; IoError if it cannot be read, InvalidArgument if larger than max_bytes.
Result<std::string> ReadFileToString(const std::string& path, size_t max_bytes = 256u << 20);
// Writes to path.tmp and renames it over path, so readers never see half a file.
Status WriteFileAtomic(const std::string& path, std::string_view contents);

// A directory removed (recursively) when the object goes away.
class TemporaryDirectory {
 public:
  TemporaryDirectory() = default;
  // mkdtemp under the system temporary directory; IoError when that fails.
  static Result<TemporaryDirectory> Make(const std::string& prefix);
  ~TemporaryDirectory();
  TemporaryDirectory(TemporaryDirectory&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
  }
  TemporaryDirectory& operator=(TemporaryDirectory&& other) noexcept;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace zicht
