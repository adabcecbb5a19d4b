#include "common/file.hpp"

#include <array>
#include <system_error>

#include "common/error.hpp"

namespace frozenseg {
namespace {

[[noreturn]] void fail_open(const std::filesystem::path& path, fs_status on_error,
                            std::string_view purpose, std::string_view reason) {
  std::string message = "cannot read " + path.string();
  if (!purpose.empty()) message += " " + std::string(purpose);
  throw Error(on_error, message + ": " + std::string(reason));
}

// Reads to the end, not just file_size() bytes: sizes of special files (/proc, pipes) lie.
template <typename Buffer>
Buffer read_all(const std::filesystem::path& path, fs_status on_error) {
  std::ifstream in = open_for_reading(path, on_error);
  std::error_code ec;
  const auto expected = std::filesystem::file_size(path, ec);
  Buffer out;
  out.resize(ec ? 0 : static_cast<std::size_t>(expected));
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<std::size_t>(in.gcount()));
  std::array<char, 1 << 16> chunk{};
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto* first = reinterpret_cast<const typename Buffer::value_type*>(chunk.data());
    out.insert(out.end(), first, first + in.gcount());
  }
  if (in.bad()) fail_open(path, on_error, {}, "read error");
  return out;
}

}  // namespace

std::ifstream open_for_reading(const std::filesystem::path& path, fs_status on_error,
                               std::string_view purpose) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) fail_open(path, on_error, purpose, "no such file");
  if (std::filesystem::is_directory(status)) fail_open(path, on_error, purpose, "it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_open(path, on_error, purpose, "it cannot be opened (permissions?)");
  return in;
}

std::vector<std::byte> read_file_bytes(const std::filesystem::path& path, fs_status on_error) {
  return read_all<std::vector<std::byte>>(path, on_error);
}

std::string read_file_text(const std::filesystem::path& path, fs_status on_error) {
  return read_all<std::string>(path, on_error);
}

}  // namespace frozenseg
