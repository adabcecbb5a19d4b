// Reading whole files, with errors that name the file and the reason.
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "frozenseg/frozenseg.h"

namespace frozenseg {

// An open binary stream of a regular file. Throws frozenseg::Error(on_error) saying why not
// ("no such file", "is a directory", "cannot be opened (permissions?)"); `purpose` ends the
// message, e.g. "to check its sha256".
std::ifstream open_for_reading(const std::filesystem::path& path, fs_status on_error,
                               std::string_view purpose = {});

// The file's bytes / text. on_error: FS_ARTIFACT_ERROR for artifacts (the default),
// FS_INVALID_INPUT for files the user names (images, vocabularies).
std::vector<std::byte> read_file_bytes(const std::filesystem::path& path,
                                       fs_status on_error = FS_ARTIFACT_ERROR);
std::string read_file_text(const std::filesystem::path& path, fs_status on_error = FS_ARTIFACT_ERROR);

}  // namespace frozenseg
