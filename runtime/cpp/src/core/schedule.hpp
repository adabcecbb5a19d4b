// How the two image encoders share the machine (runtime/schedule.py, the same rule): at once on a
// GPU and on a CPU of many cores (cores split between them), one after the other on a small CPU,
// where two ONNX Runtime sessions at once oversubscribe the cores. The rule's names and numbers
// (the schedules, the CPU backend, how many cores are many) are the manifest's
// runtime.encoder_schedule, written from runtime/schedule.py.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/manifest.hpp"

namespace frozenseg::core {

struct EncoderPlan {
  std::string schedule;              // "concurrent" or "sequential"
  std::optional<int> image_threads;  // intra-op threads of each image encoder; nullopt: the default
};

// The cores this process may run on (its affinity mask).
int usable_cores();

// The plan for a resolved backend; throws frozenseg::Error(FS_INVALID_INPUT) for a schedule that is
// not one of the rule's. `threads`: the user's thread count (nullopt or 0: none given).
EncoderPlan plan_encoders(const EncoderScheduleRule& rule, std::string_view schedule, std::string_view backend,
                          std::optional<int> threads, std::optional<int> cores = std::nullopt);

}  // namespace frozenseg::core
