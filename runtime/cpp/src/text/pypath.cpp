#include "text/pypath.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "text/pyrepr.hpp"

namespace frozenseg::text {
namespace {

bool stat_path(std::string_view text, struct stat& st) {
  if (text.empty() || text.find('\0') != std::string_view::npos) return false;
  return ::stat(std::string(text).c_str(), &st) == 0;
}

std::optional<std::string> home_of(std::string_view user) {
  if (user.empty()) {
    if (const char* home = std::getenv("HOME"); home != nullptr) return std::string(home);
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr) return std::string(pw->pw_dir);
    return std::nullopt;
  }
  if (const passwd* pw = ::getpwnam(std::string(user).c_str()); pw != nullptr) {
    return std::string(pw->pw_dir);
  }
  return std::nullopt;
}

}  // namespace

std::string python_path_string(std::string_view text) {
  std::string prefix;
  if (text.size() >= 2 && text.substr(0, 2) == "//" && (text.size() == 2 || text[2] != '/')) {
    prefix = "//";  // POSIX keeps exactly two leading slashes
  } else if (!text.empty() && text[0] == '/') {
    prefix = "/";
  }
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= text.size()) {
    const size_t j = std::min(text.find('/', i), text.size());
    const std::string_view part = text.substr(i, j - i);
    if (!part.empty() && part != ".") parts.push_back(part);
    i = j + 1;
  }
  std::string out = prefix;
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k) out += '/';
    out += parts[k];
  }
  return out.empty() ? "." : out;
}

std::string expand_user(std::string_view text) {
  if (text.empty() || text[0] != '~') return std::string(text);
  const size_t slash = text.find('/');
  const std::string_view user = text.substr(1, (slash == std::string_view::npos ? text.size() : slash) - 1);
  const auto home = home_of(user);
  if (!home) return std::string(text);
  std::string out = *home;
  if (slash != std::string_view::npos) {
    while (!out.empty() && out.back() == '/') out.pop_back();
    out += text.substr(slash);
  }
  return out.empty() ? "/" : out;
}

std::string path_suffix(std::string_view text) {
  const std::string normal = python_path_string(text);
  const size_t slash = normal.rfind('/');
  const std::string name = slash == std::string::npos ? normal : normal.substr(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == name.size()) return "";
  return name.substr(dot);
}

bool is_regular_file(std::string_view text) {
  struct stat st {};
  return stat_path(text, st) && S_ISREG(st.st_mode);
}

bool is_directory(std::string_view text) {
  struct stat st {};
  return stat_path(text, st) && S_ISDIR(st.st_mode);
}

std::optional<std::string> read_bytes(std::string_view path, std::string& error) {
  const std::string name(path);
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  auto os_error = [&](int code) {
    error = "[Errno " + std::to_string(code) + "] " + std::strerror(code) + ": " +
            py_repr_utf8(name);
    return std::nullopt;
  };
  if (fd < 0) return os_error(errno);
  std::string out;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int code = errno;
      ::close(fd);
      return os_error(code);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace frozenseg::text
