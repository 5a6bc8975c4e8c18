#include "zicht/base/time.h"

#include <fmt/format.h>

#include <cstddef>

namespace zicht {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

std::optional<TimeMs> ParseRfc3339(std::string_view s) {
  int64_t year, month, day, hour, minute, second;
  if (s.size() < 20 || !Digits(s, 0, 4, &year) || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day)) {
    return std::nullopt;
  }
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  if (!Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' ||
      !Digits(s, 17, 2, &second)) {
    return std::nullopt;
  }
  if (year < 1 || month < 1 || month > 12 || day < 1 ||
      day > DaysInMonth(year, static_cast<unsigned>(month)) || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  if (second == 60) second = 59;  // leap second: RFC 3339 allows it, we clamp
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += scale * (s[pos] - '0');
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  int64_t offset_min = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int64_t oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60;
  return secs * kMsPerSecond + millis;
}

std::string FormatRfc3339(TimeMs t, bool always_millis) {
  int64_t days = FloorDiv(t, kMsPerDay);
  int64_t rem = t - days * kMsPerDay;
  CivilDate d = CivilFromDays(days);
  int64_t h = rem / kMsPerHour, m = (rem / kMsPerMinute) % 60, s = (rem / kMsPerSecond) % 60,
          ms = rem % 1000;
  if (ms != 0 || always_millis) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", d.year, d.month, d.day, h, m,
                       s, ms);
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", d.year, d.month, d.day, h, m, s);
}

std::string FormatDate(TimeMs t) {
  CivilDate d = CivilFromDays(FloorDiv(t, kMsPerDay));
  return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

TimeMs Duration::ms() const {
  switch (unit) {
    case Unit::kDay:
      return count * kMsPerDay;
    case Unit::kHour:
      return count * kMsPerHour;
    case Unit::kMinute:
      return count * kMsPerMinute;
    case Unit::kSecond:
      return count * kMsPerSecond;
  }
  return 0;
}

std::string Duration::ToString() const {
  static constexpr char kUnits[] = {'d', 'h', 'm', 's'};
  return fmt::format("{}{}", count, kUnits[static_cast<int>(unit)]);
}

std::optional<Duration> ParseDuration(std::string_view s) {
  if (s == "0") return Duration{0, Duration::Unit::kSecond};
  if (s.size() < 2 || s.size() > 12) return std::nullopt;
  int64_t n = 0;
  if (!Digits(s, 0, s.size() - 1, &n)) return std::nullopt;
  Duration d;
  d.count = n;
  switch (s.back()) {
    case 'd':
      d.unit = Duration::Unit::kDay;
      break;
    case 'h':
      d.unit = Duration::Unit::kHour;
      break;
    case 'm':
      d.unit = Duration::Unit::kMinute;
      break;
    case 's':
      d.unit = Duration::Unit::kSecond;
      break;
    default:
      return std::nullopt;
  }
  if (d.ms() / kMsPerDay > int64_t{100} * 366) return std::nullopt;  // > 100 years: a typo
  return d;
}

}  // namespace zicht
