// EngineProbe: the engine's metrics seam. Business code calls these methods
// and never touches the metrics library; the default does nothing, the
// Prometheus implementation lives in monitoring wiring (prometheus_probe.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "zicht/base/time.h"
#include "zicht/engine/event.h"

namespace zicht::engine {

class EngineProbe {
 public:
  virtual ~EngineProbe() = default;
  virtual void EventAccepted(int /*type*/) {}
  virtual void EventDeadLettered(int /*type or -1*/, DeadLetterReason /*reason*/) {}
  virtual void AlertEmitted(int /*rule*/, TimeMs /*event_to_alert_ms*/) {}
  virtual void Committed(int64_t /*records*/, double /*seconds*/) {}
  virtual void Watermark(int /*partition*/, TimeMs /*clock*/, TimeMs /*watermark*/) {}
};

}  // namespace zicht::engine
