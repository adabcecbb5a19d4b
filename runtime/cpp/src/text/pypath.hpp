// The pathlib/os.path behaviour the vocabulary parser relies on (POSIX), so that what is taken
// for a path, and how it is named in messages, matches the Python runtime.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace frozenseg::text {

// str(Path(text)): repeated and trailing slashes and '.' components dropped; "" -> ".".
std::string python_path_string(std::string_view text);
// Path(text).expanduser(): "~" and "~user" prefixes; left as is when the home is unknown.
std::string expand_user(std::string_view text);
// Path(text).suffix: from the last '.' of the last component (none for '.bashrc' or 'a.').
std::string path_suffix(std::string_view text);
// os.path.isfile / Path.is_dir, false for names the OS refuses (NUL bytes, too long).
bool is_regular_file(std::string_view text);
bool is_directory(std::string_view text);
// The file's bytes, or nullopt and `error` set like Python's OSError text
// ("[Errno 13] Permission denied: 'x'").
std::optional<std::string> read_bytes(std::string_view path, std::string& error);

}  // namespace frozenseg::text
