// How the two image encoders share the machine (runtime/schedule.py, the same rule): at once on a
// GPU and on a CPU of many cores (cores split between them), one after the other on a small CPU,
// where two ONNX Runtime sessions at once oversubscribe the cores.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace frozenseg::core {

inline constexpr std::array<std::string_view, 3> kEncoderSchedules = {"auto", "concurrent", "sequential"};
inline constexpr int kManyCores = 8;  // runtime/schedule.py MANY_CORES

struct EncoderPlan {
  std::string schedule;              // "concurrent" or "sequential"
  std::optional<int> image_threads;  // intra-op threads of each image encoder; nullopt: the default
};

// The cores this process may run on (its affinity mask).
int usable_cores();

// The plan for a resolved backend; throws frozenseg::Error(FS_INVALID_INPUT) for an unknown
// schedule. `threads`: the user's thread count (nullopt or 0: none given).
EncoderPlan plan_encoders(std::string_view schedule, std::string_view backend, std::optional<int> threads,
                          std::optional<int> cores = std::nullopt);

}  // namespace frozenseg::core
