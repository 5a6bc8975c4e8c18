#include "zicht/base/time.h"

#include <gtest/gtest.h>

namespace zicht {
namespace {

TEST(TimeTest, ParsesRfc3339) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  // date -u -d 2026-03-01T12:34:56Z +%s -> 1772368496
  EXPECT_EQ(ParseRfc3339("2026-03-01T12:34:56Z"), 1772368496000);
  EXPECT_EQ(ParseRfc3339("2026-03-01T12:34:56.789Z"), 1772368496789);
  EXPECT_EQ(ParseRfc3339("2026-03-01T12:34:56.7891234Z"), 1772368496789);
  EXPECT_EQ(ParseRfc3339("2026-03-01T13:34:56+01:00"), 1772368496000);
  EXPECT_EQ(ParseRfc3339("2026-03-01T10:34:56-02:00"), 1772368496000);
  EXPECT_EQ(ParseRfc3339("2026-03-01t12:34:56z"), 1772368496000);
  EXPECT_EQ(ParseRfc3339("2024-02-29T00:00:00Z"), 1709164800000);
}

TEST(TimeTest, RejectsWhatIsNotRfc3339) {
  for (const char* bad :
       {"", "2026-03-01", "2026-03-01T12:34:56", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T12:34:56.Z",
        "2026-03-01T12:34:56+0100", "2026-03-01T12:34:56Zjunk", "0000-01-01T00:00:00Z",
        "2026-03-01X12:34:56Z", "１９70-01-01T00:00:00Z", "1772368496"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

TEST(TimeTest, FormatsRoundTrip) {
  EXPECT_EQ(FormatRfc3339(1772368496000), "2026-03-01T12:34:56Z");
  EXPECT_EQ(FormatRfc3339(1772368496123), "2026-03-01T12:34:56.123Z");
  EXPECT_EQ(FormatRfc3339(1772368496000, true), "2026-03-01T12:34:56.000Z");
  EXPECT_EQ(FormatDate(1772368496000), "2026-03-01");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999Z");
  for (TimeMs t : {TimeMs{0}, TimeMs{951782400000}, TimeMs{4102444799999}, TimeMs{-86400001}}) {
    EXPECT_EQ(ParseRfc3339(FormatRfc3339(t)), t);
  }
}

TEST(TimeTest, CivilDaysAgree) {
  for (int64_t d = -800000; d < 800000; d += 997) {
    CivilDate c = CivilFromDays(d);
    EXPECT_EQ(DaysFromCivil(c.year, c.month, c.day), d);
  }
  EXPECT_EQ(FloorDiv(-1, kMsPerDay), -1);
  EXPECT_EQ(FloorDiv(kMsPerDay, kMsPerDay), 1);
}

TEST(TimeTest, ParsesDurations) {
  EXPECT_EQ(ParseDuration("90d")->ms(), 90 * kMsPerDay);
  EXPECT_EQ(ParseDuration("12h")->ms(), 12 * kMsPerHour);
  EXPECT_EQ(ParseDuration("30m")->ms(), 30 * kMsPerMinute);
  EXPECT_EQ(ParseDuration("0")->ms(), 0);
  EXPECT_EQ(ParseDuration("14d")->ToString(), "14d");
  for (const char* bad : {"", "d", "1.5d", "-1d", "10w", "99999999d", "1 d"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace zicht
