// Builds librdkafka configuration objects from KafkaOptions, for the Kafka
// connectors and for callers that need a raw librdkafka handle.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/connectors/kafka_options.h"

namespace zicht::connectors {

using KafkaSetting = std::pair<std::string, std::string>;

struct KafkaConfSpec {
  // zicht's defaults for this kind of client; options.properties override them.
  std::vector<KafkaSetting> defaults;
  // Settings the client depends on (e.g. enable.idempotence=true for the
  // sink). Applied last; a property naming one of them is InvalidArgument,
  // with `managed_hint` saying which option to use instead.
  std::vector<KafkaSetting> managed;
  std::string managed_hint;
  // The client's callbacks (nullptr: not set); they must outlive the client.
  RdKafka::EventCb* event_cb = nullptr;
  RdKafka::DeliveryReportCb* dr_cb = nullptr;
  RdKafka::RebalanceCb* rebalance_cb = nullptr;
};

// bootstrap.servers and client.id from `options`, then spec.defaults, then
// options.properties (file secrets resolved), then spec.managed and the
// callbacks. Errors are InvalidArgument and name the property ("kafka property
// 'foo': No such configuration property"); secret values are never echoed.
Result<std::unique_ptr<RdKafka::Conf>> BuildKafkaConf(const KafkaOptions& options,
                                                      const KafkaConfSpec& spec);

}  // namespace zicht::connectors
