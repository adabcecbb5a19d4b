// Atomic file writes, as runtime/atomic.py: a path holds either its old content or the complete
// new one (a private temporary sibling, then a rename over the path).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace frozenseg::output {

// Throws Error(FS_INVALID_INPUT) naming the path and the system's reason when the folder cannot
// be written; the temporary file never stays behind.
std::filesystem::path write_bytes_atomic(const std::filesystem::path& path,
                                         std::span<const std::uint8_t> data);
std::filesystem::path write_text_atomic(const std::filesystem::path& path, std::string_view text);

}  // namespace frozenseg::output
