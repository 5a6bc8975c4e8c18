#include "zicht/monitoring/http_types.h"

#include <gtest/gtest.h>

namespace zicht::monitoring {
namespace {

bool FromLoopback(const char* peer) {
  HttpRequest r;
  r.peer = peer;
  return r.from_loopback();
}

TEST(HttpRequestTest, FromLoopbackAcceptsOnlyThisMachine) {
  EXPECT_TRUE(FromLoopback("127.0.0.1"));
  EXPECT_TRUE(FromLoopback("127.1.2.3"));
  EXPECT_TRUE(FromLoopback("::1"));
  EXPECT_TRUE(FromLoopback("::ffff:127.0.0.1"));
  EXPECT_FALSE(FromLoopback("10.0.0.7"));
  EXPECT_FALSE(FromLoopback("::ffff:10.0.0.7"));
  EXPECT_FALSE(FromLoopback("fe80::1"));
  EXPECT_FALSE(FromLoopback("128.0.0.1"));
  // A peer the server could not determine is never trusted.
  EXPECT_FALSE(FromLoopback("unknown"));
  EXPECT_FALSE(FromLoopback(""));
  EXPECT_FALSE(FromLoopback("127.0.0.1.evil"));
}

}  // namespace
}  // namespace zicht::monitoring
