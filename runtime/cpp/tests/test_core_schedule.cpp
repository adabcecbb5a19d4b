// The image-encoder plan is runtime/schedule.py's on every case of tests/data/schedule_cases.json
// (written by make_schedule_cases.py from the Python rule).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/file.hpp"
#include "core/schedule.hpp"

using json = nlohmann::json;

TEST(EncoderSchedule, PlansArePythons) {
  const json cases = json::parse(frozenseg::read_file_text(std::filesystem::path(FS_SOURCE_DIR) /
                                                           "runtime/cpp/tests/data/schedule_cases.json"));
  ASSERT_GE(cases.size(), 100u);
  for (const json& c : cases) {
    SCOPED_TRACE(c.dump());
    const std::optional<int> threads = c["threads"].is_null() ? std::nullopt : std::optional<int>(c["threads"].get<int>());
    if (c.contains("error")) {
      try {
        frozenseg::core::plan_encoders(c["schedule"].get<std::string>(), c["backend"].get<std::string>(), threads,
                                       c["cores"].get<int>());
        ADD_FAILURE() << "accepted";
      } catch (const frozenseg::Error& e) {
        EXPECT_EQ(e.status(), FS_INVALID_INPUT);
      }
      continue;
    }
    const auto plan = frozenseg::core::plan_encoders(c["schedule"].get<std::string>(), c["backend"].get<std::string>(),
                                                     threads, c["cores"].get<int>());
    EXPECT_EQ(plan.schedule, c["plan"].get<std::string>());
    EXPECT_EQ(plan.image_threads.has_value(), !c["image_threads"].is_null());
    if (plan.image_threads && !c["image_threads"].is_null()) {
      EXPECT_EQ(*plan.image_threads, c["image_threads"].get<int>());
    }
  }
  EXPECT_GE(frozenseg::core::usable_cores(), 1);
}
