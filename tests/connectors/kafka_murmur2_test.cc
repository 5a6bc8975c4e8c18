// zicht::KafkaMurmur2 / KafkaPartitionForKey against Java's
// org.apache.kafka.common.utils.Utils.murmur2 (kafka-clients 4.1.1).
//
// The vectors were produced with jshell on the kafka-clients jar that
// scripts/kafka downloads:
//   L=.cache/kafka/4.1.1/libs
//   jshell --class-path $L/kafka-clients-4.1.1.jar:$L/slf4j-api-1.7.36.jar
//   byte[] b = key.getBytes(UTF_8); int h = Utils.murmur2(b);
//   Utils.toPositive(h) % 6, Utils.toPositive(h) % 12
#include <gtest/gtest.h>

#include <string_view>

#include "zicht/base/hash.h"

namespace zicht {
namespace {

struct JavaVector {
  std::string_view key;  // UTF-8 bytes
  int32_t murmur2;
  int32_t partition_of_6;
  int32_t partition_of_12;
};

constexpr JavaVector kJava[] = {
    {"", 275646681, 3, 9},
    {"a", -1563381124, 4, 4},
    {"ab", 316155434, 2, 2},
    {"abc", 479470107, 3, 3},
    {"abcd", -1323649548, 2, 8},
    {"GM0363", -1947728937, 5, 11},
    {"GM0599", -1601636517, 5, 11},
    {"GM0344", 74191176, 0, 0},
    {"GM0855", -1991297415, 5, 5},
    {"GM0014", 1915063676, 2, 8},
    {"GM1680", -529699262, 0, 6},
    {"zicht", 263838145, 1, 1},
    {"hello world, kafka!", 1526255541, 3, 9},
    {"\xc3\xa9\xc3\xa8\xe2\x82\xac", 147881193, 3, 9},  // "éè€"
    {"0123456789abcdefghij", 79869466, 4, 10},
};

TEST(KafkaMurmur2Test, MatchesJavaUtilsMurmur2) {
  for (const JavaVector& v : kJava) {
    SCOPED_TRACE(std::string(v.key));
    EXPECT_EQ(KafkaMurmur2(v.key), v.murmur2);
    EXPECT_EQ(KafkaPartitionForKey(v.key, 6), v.partition_of_6);
    EXPECT_EQ(KafkaPartitionForKey(v.key, 12), v.partition_of_12);
  }
}

}  // namespace
}  // namespace zicht
