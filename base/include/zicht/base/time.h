// Event time: milliseconds since the Unix epoch (UTC), RFC 3339 parsing and
// formatting, UTC day/hour bucket arithmetic and "90d"/"12h" durations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zicht {

using TimeMs = int64_t;  // ms since 1970-01-01T00:00:00Z
inline constexpr TimeMs kMsPerSecond = 1000;
inline constexpr TimeMs kMsPerMinute = 60 * kMsPerSecond;
inline constexpr TimeMs kMsPerHour = 60 * kMsPerMinute;
inline constexpr TimeMs kMsPerDay = 24 * kMsPerHour;
inline constexpr TimeMs kMinTime = INT64_MIN / 4;  // "no time yet"; far from overflow

// Floor division that rounds towards -infinity (times before 1970 stay correct).
constexpr int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
struct CivilDate {
  int64_t year;
  unsigned month;
  unsigned day;
};
CivilDate CivilFromDays(int64_t days);

// Strict RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM).
// 't'/'z' and a space separator are accepted as RFC 3339 allows. Fractions
// beyond milliseconds are truncated. Returns nullopt on anything else,
// including impossible dates (2026-02-30) and years outside 0001..9999.
std::optional<TimeMs> ParseRfc3339(std::string_view s);

// "2026-03-04T22:10:00Z", or with milliseconds "2026-03-04T22:10:00.123Z"
// when they are not zero (or always, with always_millis).
std::string FormatRfc3339(TimeMs t, bool always_millis = false);
// "2026-03-04"
std::string FormatDate(TimeMs t);

// A length of time written as <integer><unit>, unit one of d, h, m, s.
struct Duration {
  enum class Unit : uint8_t { kDay, kHour, kMinute, kSecond };
  int64_t count = 0;
  Unit unit = Unit::kDay;

  TimeMs ms() const;
  std::string ToString() const;  // "90d"
  friend bool operator==(const Duration&, const Duration&) = default;
};
// Parses "90d", "12h", "30m", "10s"; "0" is accepted as zero. nullopt otherwise.
std::optional<Duration> ParseDuration(std::string_view s);

}  // namespace zicht
