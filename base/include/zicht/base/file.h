// Whole-file reads and atomic whole-file writes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "zicht/base/status.h"

namespace zicht {

// Reads a file; IoError if it cannot be read, InvalidArgument if larger than max_bytes.
Result<std::string> ReadFileToString(const std::string& path, size_t max_bytes = 256u << 20);
// Writes to path.tmp and renames it over path, so readers never see half a file.
Status WriteFileAtomic(const std::string& path, std::string_view contents);

}  // namespace zicht
