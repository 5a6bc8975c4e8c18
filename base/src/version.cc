#include "zicht/base/version.h"

namespace zicht {

const char* VersionString() {
  return ZICHT_VERSION;
}

}  // namespace zicht
