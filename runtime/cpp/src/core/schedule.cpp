#include "core/schedule.hpp"

#include <sched.h>

#include <algorithm>
#include <thread>

#include "common/error.hpp"

namespace frozenseg::core {

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

EncoderPlan plan_encoders(const EncoderScheduleRule& rule, std::string_view schedule, std::string_view backend,
                          std::optional<int> threads, std::optional<int> cores) {
  if (std::find(rule.schedules.begin(), rule.schedules.end(), schedule) == rule.schedules.end()) {
    std::string names;
    for (const auto& name : rule.schedules) names += (names.empty() ? "" : ", ") + name;
    fail_input("encoder schedule '" + std::string(schedule) + "' is not one of " + names);
  }
  const int n = cores.value_or(usable_cores());
  const bool on_cpu =
      std::find(rule.cpu_backends.begin(), rule.cpu_backends.end(), backend) != rule.cpu_backends.end();
  EncoderPlan plan{std::string(schedule), threads};
  if (schedule == "auto") plan.schedule = on_cpu && n < rule.many_cores ? "sequential" : "concurrent";
  if (on_cpu && plan.schedule == "concurrent" && !threads.value_or(0)) plan.image_threads = std::max(1, n / 2);
  return plan;
}

}  // namespace frozenseg::core
