#include "core/key_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

namespace authnode {

namespace {

constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
/// Anything longer than this is not a key; do not read a huge file.
constexpr size_t max_file_bytes = 256;

std::string system_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

/// Writes a fresh key to a file that must not exist yet. Returns false with
/// `error` set, or with `exists` set when someone else made the file first.
bool create_key_file(const std::string& path, const std::string& what,
                     bool& exists, std::string& error) {
  int fd = ::open(path.c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    exists = errno == EEXIST;
    if (!exists)
      error = system_error("cannot create " + what, path);
    return false;
  }
  key_bytes raw;
  randombytes_buf(raw.data(), raw.size());
  std::string text(sodium_base64_ENCODED_LEN(raw.size(), variant), '\0');
  sodium_bin2base64(text.data(), text.size(), raw.data(), raw.size(), variant);
  sodium_memzero(raw.data(), raw.size());
  text.back() = '\n'; // the terminating NUL becomes the line end
  bool ok = ::write(fd, text.data(), text.size())
      == static_cast<ssize_t>(text.size())
    && ::fsync(fd) == 0;
  if (!ok)
    error = system_error("cannot write " + what, path);
  sodium_memzero(text.data(), text.size());
  ::close(fd);
  if (!ok)
    ::unlink(path.c_str());
  return ok;
}

/// Reads the whole file, refusing one that others may read or write.
bool read_key_file(const std::string& path, const std::string& what,
                   std::string& text, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = system_error("cannot open " + what, path);
    return false;
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    error = what + " " + path + " is not a regular file";
    return false;
  }
  if ((info.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", info.st_mode & 07777);
    error = what + " " + path + " may be read or written by group or "
      + "others (mode " + mode + "); run chmod 600 on it, and make a "
      + "new key if it may have leaked";
    return false;
  }
  text.assign(max_file_bytes + 1, '\0');
  auto n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (n < 0) {
    error = system_error("cannot read " + what, path);
    return false;
  }
  text.resize(static_cast<size_t>(n));
  return true;
}

} // namespace

std::optional<key_bytes> load_key_file(const std::string& path,
                                       const std::string& what, bool& created,
                                       std::string& error, std::string* out) {
  created = false;
  bool exists = false;
  if (create_key_file(path, what, exists, error))
    created = true;
  else if (!exists)
    return std::nullopt;
  std::string text;
  if (!read_key_file(path, what, text, error))
    return std::nullopt;
  // One key of 32 bytes in base64url without padding, and nothing else but
  // one line end.
  if (!text.empty() && text.back() == '\n')
    text.pop_back();
  std::array<unsigned char, key_file_bytes + 1> raw;
  size_t len = 0;
  const char* end = nullptr;
  bool decoded = !text.empty() && text.size() <= max_file_bytes
    && sodium_base642bin(raw.data(), raw.size(), text.data(), text.size(),
                         nullptr, &len, &end, variant)
      == 0
    && end == text.data() + text.size() && len == key_file_bytes;
  std::optional<key_bytes> key;
  if (decoded) {
    key.emplace();
    std::memcpy(key->data(), raw.data(), key_file_bytes);
    if (out)
      *out = text;
  } else {
    error = what + " " + path + " does not hold a key (43 base64url "
      + "characters: 32 bytes); remove it to have a new one made";
  }
  sodium_memzero(raw.data(), raw.size());
  sodium_memzero(text.data(), text.size());
  return key;
}

} // namespace authnode
