#include "common/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <system_error>
#include <thread>

#include "common/error.hpp"

namespace frozenseg {

namespace {

// runtime/atomic.py's temporary_sibling: .<name>.<pid>.<thread>.tmp in the same folder.
std::filesystem::path temporary_sibling(const std::filesystem::path& path) {
  const std::size_t thread = std::hash<std::thread::id>{}(std::this_thread::get_id());
  return path.parent_path() / ("." + path.filename().string() + "." + std::to_string(::getpid()) +
                               "." + std::to_string(thread) + ".tmp");
}

[[noreturn]] void fail_write(const std::filesystem::path& path, int error, fs_status on_error,
                             std::string_view fix) {
  throw Error(on_error, "cannot write " + path.string() + ": " + std::strerror(error) + "; " +
                            std::string(fix));
}

}  // namespace

std::filesystem::path write_bytes_atomic(const std::filesystem::path& path,
                                         std::span<const std::uint8_t> data, fs_status on_error,
                                         std::string_view fix) {
  const std::filesystem::path tmp = temporary_sibling(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_write(path, errno, on_error, fix);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail_write(path, error, on_error, fix);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    fail_write(path, error, on_error, fix);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    fail_write(path, error, on_error, fix);
  }
  return path;
}

std::filesystem::path write_text_atomic(const std::filesystem::path& path, std::string_view text,
                                        fs_status on_error, std::string_view fix) {
  return write_bytes_atomic(path, std::span<const std::uint8_t>(
                                      reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                            on_error, fix);
}

}  // namespace frozenseg
