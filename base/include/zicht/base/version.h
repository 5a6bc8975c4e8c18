// The zicht version (the CMake project version), for --version, metrics and logs.
#pragma once

namespace zicht {

const char* VersionString();

}  // namespace zicht
