// The end-of-run summary `zicht replay` prints on standard error.
#pragma once

#include "zicht/engine/engine.h"

namespace zicht::cli {

// Records, accepted events, dead letters by reason, alerts by rule, rate.
void PrintSummary(const engine::Engine& engine, double seconds, bool dead_letters_not_written);

}  // namespace zicht::cli
