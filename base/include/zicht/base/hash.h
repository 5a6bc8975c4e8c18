// Stable (persisted, cross-process) hashes: MurmurHash3 x64-128 for
// de-duplication keys and Kafka's murmur2 partitioner, so that zicht and Java
// producers (Kafka Streams, the default Java partitioner) agree on which
// partition a municipality key lands in.
#pragma once

#include <cstdint>
#include <string_view>

namespace zicht {

struct Hash128 {
  uint64_t lo = 0;
  uint64_t hi = 0;
  friend bool operator==(const Hash128&, const Hash128&) = default;
};

// MurmurHash3_x64_128 (Austin Appleby, public domain algorithm).
Hash128 Murmur3_128(std::string_view data, uint32_t seed = 0);

// Kafka's org.apache.kafka.common.utils.Utils.murmur2 (seed 0x9747b28c).
int32_t KafkaMurmur2(std::string_view key);
// The partition the Java default partitioner (and librdkafka's murmur2
// partitioner) picks for a non-null key: toPositive(murmur2(key)) % partitions.
int32_t KafkaPartitionForKey(std::string_view key, int32_t partitions);

}  // namespace zicht
