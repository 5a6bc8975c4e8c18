// KafkaTransactionalProducer: writes a batch of records (e.g. one committed
// state batch to a compacted changelog) atomically: read_committed readers
// see all of it or none.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/connectors/kafka_options.h"
#include "zicht/connectors/record.h"

namespace zicht::connectors {

struct KafkaTransactionalProducerOptions {
  KafkaOptions kafka;
  // transactional.id, required. Stable per writer role (e.g.
  // "zicht.<group>.changelog.<partition>"): a new producer with the same id
  // fences the old one, so only one instance can write for that role.
  std::string transactional_id;
  // transaction.timeout.ms: the broker aborts a transaction open longer than
  // this (default 60 s).
  std::chrono::milliseconds transaction_timeout{60000};
  // Bound for InitTransactions, Commit and Abort, and for Produce waiting for
  // queue space (default 30 s).
  std::chrono::milliseconds operation_timeout{30000};
  // linger.ms (default 5 ms) and compression.type (default lz4).
  std::chrono::milliseconds linger{5};
  std::string compression = "lz4";

  Status Validate() const;
};

// Errors are classified by Status code:
//   TryAgain  - retriable: call the same method again (e.g. Commit).
//   Aborted   - abortable: call Abort(), then Begin() and write the batch again.
//   IoError   - fatal: this producer is unusable (fenced() says whether another
//               instance took the transactional id); make a new one, which
//               fences any older writer, or give up the role.
//   Internal  - wrong call order (Produce outside a transaction).
// Not thread-safe.
class KafkaTransactionalProducer {
 public:
  virtual ~KafkaTransactionalProducer() = default;
  // Creates the producer and runs InitTransactions: aborts what a previous
  // holder of the id left open and fences it.
  static Result<std::unique_ptr<KafkaTransactionalProducer>> Open(
      const KafkaTransactionalProducerOptions& options);

  virtual Status Begin() = 0;
  // Queues one record. partition < 0: by key with murmur2. value nullopt = a
  // tombstone (deletes the key in a compacted topic).
  virtual Status Produce(const std::string& topic, int32_t partition, std::string_view key,
                         std::optional<std::string_view> value,
                         const std::vector<Header>& headers = {}) = 0;
  // Waits up to operation_timeout until the queued records are on the broker
  // (still invisible to read_committed readers). Commit and Abort do not need
  // it; Abort drops records that were never sent.
  virtual Status Flush() = 0;
  // Flushes and commits: on OK every record of the transaction is durable and
  // visible to read_committed readers.
  virtual Status Commit() = 0;
  // Drops the transaction: its records are never visible to read_committed readers.
  virtual Status Abort() = 0;

  virtual bool in_transaction() const = 0;
  virtual bool fenced() const = 0;
  // Transactions committed / aborted so far.
  virtual int64_t committed() const = 0;
  virtual int64_t aborted() const = 0;
};

using KafkaTransactionalProducerPtr = std::unique_ptr<KafkaTransactionalProducer>;

}  // namespace zicht::connectors
