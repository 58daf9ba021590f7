#include "ca-backend/ca_files.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "scep/der.h"

namespace ca {
namespace {

using scep::ErrorCode;

scep::Error SystemError(const std::string& what, const std::string& path) {
  return scep::MakeError(ErrorCode::Internal, what + " " + path + ": " + std::strerror(errno));
}

// Closes a POSIX descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closing is where a delayed write error can surface, so the caller checks it.
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

std::string DirectoryOf(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

scep::Result<void> WriteAll(int fd, std::string_view contents, const std::string& path) {
  while (!contents.empty()) {
    const ssize_t n = ::write(fd, contents.data(), contents.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return SystemError("cannot write", path);
    contents.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

scep::Result<void> EnsureDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};
    return scep::MakeError(ErrorCode::Internal, dir + " exists but is not a directory");
  }
  return SystemError("cannot create directory", dir);
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

scep::Result<void> WriteFileAtomically(const std::string& path, std::string_view contents, mode_t mode) {
  unsigned char nonce[8];
  if (RAND_bytes(nonce, sizeof nonce) != 1) return scep::OpensslError(ErrorCode::Internal, "no randomness");
  // A random suffix, so that a temporary file left by a crash never blocks the next attempt.
  const std::string tmp = path + ".tmp-" + scep::ToHex(scep::ByteView(nonce, sizeof nonce));
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) return SystemError("cannot create", tmp);
  auto written = WriteAll(fd.get(), contents, tmp);
  if (written && ::fsync(fd.get()) != 0) written = SystemError("cannot fsync", tmp);
  if (written && fd.Close() != 0) written = SystemError("cannot close", tmp);
  if (written && ::rename(tmp.c_str(), path.c_str()) != 0) written = SystemError("cannot rename to", path);
  if (!written) {
    ::unlink(tmp.c_str());
    return written;
  }
  // The rename is durable only once the directory entry is on disk too.
  const std::string dir = DirectoryOf(path);
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) return SystemError("cannot fsync directory", dir);
  return {};
}

scep::Result<std::string> ReadWholeFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return SystemError("cannot open", path);
  std::string contents;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SystemError("cannot read", path);
    if (n == 0) break;
    contents.append(buf, static_cast<std::size_t>(n));
  }
  return contents;
}

}  // namespace ca
