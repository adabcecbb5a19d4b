// Atomic file writes, as runtime/atomic.py: a path holds either its old content or the complete
// new one (a private temporary sibling, then a rename over the path).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

#include "frozenseg/frozenseg.h"

namespace frozenseg {

// Throws Error(on_error) naming the path, the system's reason and `fix` when the folder cannot
// be written; the temporary file never stays behind. The defaults suit output files.
inline constexpr std::string_view kWriteFix = "choose an output folder you can write to";
std::filesystem::path write_bytes_atomic(const std::filesystem::path& path,
                                         std::span<const std::uint8_t> data,
                                         fs_status on_error = FS_INVALID_INPUT,
                                         std::string_view fix = kWriteFix);
std::filesystem::path write_text_atomic(const std::filesystem::path& path, std::string_view text,
                                        fs_status on_error = FS_INVALID_INPUT,
                                        std::string_view fix = kWriteFix);

}  // namespace frozenseg
