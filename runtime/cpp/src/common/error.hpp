// The library's one exception type: a status (the C API's kind) and a message. It never crosses
// the C boundary: c_api.cpp turns it into an fs_status and the thread's last-error message.
#pragma once

#include <stdexcept>
#include <string>

#include "frozenseg/frozenseg.h"

namespace frozenseg {

class Error : public std::runtime_error {
 public:
  Error(fs_status status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  fs_status status() const noexcept { return status_; }

 private:
  fs_status status_;
};

// Shorthands, named after the Python runtime's error kinds.
[[noreturn]] inline void fail_input(const std::string& m) { throw Error(FS_INVALID_INPUT, m); }
[[noreturn]] inline void fail_artifact(const std::string& m) { throw Error(FS_ARTIFACT_ERROR, m); }
[[noreturn]] inline void fail_backend(const std::string& m) { throw Error(FS_BACKEND_ERROR, m); }
[[noreturn]] inline void fail_argument(const std::string& m) { throw Error(FS_INVALID_ARGUMENT, m); }

}  // namespace frozenseg
