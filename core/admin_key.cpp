#include "core/admin_key.hpp"

#include <array>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/secrets.hpp"

namespace authnode {

namespace {

constexpr size_t key_bytes = 32;
constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
/// Anything longer than this is not a key; do not read a huge file.
constexpr size_t max_file_bytes = 256;

std::string system_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

/// Writes a fresh key to a file that must not exist yet. Returns false with
/// `error` set, or with `exists` set when someone else made the file first.
bool create_key_file(const std::string& path, bool& exists,
                     std::string& error) {
  int fd = ::open(path.c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    exists = errno == EEXIST;
    if (!exists)
      error = system_error("cannot create admin key file", path);
    return false;
  }
  std::array<unsigned char, key_bytes> raw;
  randombytes_buf(raw.data(), raw.size());
  std::string text(sodium_base64_ENCODED_LEN(raw.size(), variant), '\0');
  sodium_bin2base64(text.data(), text.size(), raw.data(), raw.size(), variant);
  sodium_memzero(raw.data(), raw.size());
  text.back() = '\n'; // the terminating NUL becomes the line end
  bool ok = ::write(fd, text.data(), text.size())
      == static_cast<ssize_t>(text.size())
    && ::fsync(fd) == 0;
  if (!ok)
    error = system_error("cannot write admin key file", path);
  sodium_memzero(text.data(), text.size());
  ::close(fd);
  if (!ok)
    ::unlink(path.c_str());
  return ok;
}

/// Reads the whole file, refusing one that others may read or write.
bool read_key_file(const std::string& path, std::string& text,
                   std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = system_error("cannot open admin key file", path);
    return false;
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    error = "admin key file " + path + " is not a regular file";
    return false;
  }
  if ((info.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", info.st_mode & 07777);
    error = "admin key file " + path + " may be read or written by group or "
      + "others (mode " + mode + "); run chmod 600 on it, and make a "
      + "new key if it may have leaked";
    return false;
  }
  text.assign(max_file_bytes + 1, '\0');
  auto n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (n < 0) {
    error = system_error("cannot read admin key file", path);
    return false;
  }
  text.resize(static_cast<size_t>(n));
  return true;
}

} // namespace

std::string default_admin_key_path(const std::string& db_path) {
  if (db_path == ":memory:")
    return "authnode.admin-key";
  return db_path + ".admin-key";
}

std::optional<std::string> load_admin_key(const std::string& path,
                                          bool& created, std::string& error) {
  created = false;
  bool exists = false;
  if (create_key_file(path, exists, error))
    created = true;
  else if (!exists)
    return std::nullopt;
  std::string text;
  if (!read_key_file(path, text, error))
    return std::nullopt;
  // One key of 32 bytes in base64url without padding, and nothing else but
  // one line end.
  if (!text.empty() && text.back() == '\n')
    text.pop_back();
  std::array<unsigned char, key_bytes + 1> raw;
  size_t len = 0;
  const char* end = nullptr;
  bool decoded = !text.empty() && text.size() <= max_file_bytes
    && sodium_base642bin(raw.data(), raw.size(), text.data(), text.size(),
                         nullptr, &len, &end, variant)
      == 0
    && end == text.data() + text.size() && len == key_bytes;
  sodium_memzero(raw.data(), raw.size());
  if (!decoded) {
    sodium_memzero(text.data(), text.size());
    error = "admin key file " + path + " does not hold a key (43 base64url "
      + "characters: 32 bytes); remove it to have a new one made";
    return std::nullopt;
  }
  auto digest = admin_key_digest(text);
  sodium_memzero(text.data(), text.size());
  return digest;
}

std::string admin_key_digest(std::string_view key) {
  return token_digest(key);
}

bool admin_key_matches(std::string_view presented,
                       const std::string& expected) {
  auto digest = admin_key_digest(presented);
  return equal_in_constant_time(digest, expected);
}

} // namespace authnode
