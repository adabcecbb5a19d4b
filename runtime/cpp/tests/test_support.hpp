// What many GoogleTest files share: the error a call must raise, with its status and message.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "common/error.hpp"

namespace test_support {

// Runs `call`, expects frozenseg::Error with `status`, returns its message (empty, and a failure,
// when nothing or something else is thrown).
template <typename Call>
std::string error_of(Call&& call, fs_status status) {
  try {
    call();
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), status) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected frozenseg::Error";
  return {};
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace test_support
