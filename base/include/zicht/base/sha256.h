// SHA-256 (OpenSSL) as lowercase hex, for alert ids and rule versions.
#pragma once

#include <string>
#include <string_view>

namespace zicht {

std::string Sha256Hex(std::string_view data);

}  // namespace zicht
