#include "zicht/engine/commands.h"

namespace zicht::engine {

const char* VersionString() { return ZICHT_VERSION; }

}  // namespace zicht::engine
