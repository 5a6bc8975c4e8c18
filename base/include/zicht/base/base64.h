// Standard base64 (RFC 4648, with padding) for raw bytes in dead-letter records.
#pragma once

#include <string>
#include <string_view>

namespace zicht {

void Base64Encode(std::string_view data, std::string* out);
// Appends the decoded bytes; returns false on invalid input.
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace zicht
