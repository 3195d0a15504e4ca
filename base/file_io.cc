#include "base/file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

namespace tuphap {
namespace {

std::string Describe(const std::string& path) { return path == "-" ? "standard input" : path; }

Status WriteError(const std::string& path, int err) {
  Status s = Status::IoError("cannot write " + path + ": " + std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return std::move(s).WithReason("E_DISK_FULL");
  return s;
}

std::string ParentDirectory(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status FsyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return WriteError(path, errno);
  const bool ok = ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  return ok ? Status::Ok() : WriteError(path, err);
}

}  // namespace

Result<std::string> ReadFileBounded(const std::string& path, size_t max_bytes) {
  const bool standard_input = path == "-";
  const int fd = standard_input ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("no file " + path);
    return Status::IoError("cannot read " + path + ": " + std::strerror(errno));
  }
  auto done = [&](Result<std::string> r) {
    if (!standard_input) ::close(fd);
    return r;
  };
  auto too_large = [&] {
    // Invalid input, as a malformed file is (exit 2), not a lack of resources.
    return Status::InvalidArgument(Describe(path) + " is larger than the " +
                                   std::to_string(max_bytes) + " bytes allowed for it")
        .WithReason("E_TOO_LARGE");
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return done(Status::IoError("cannot read " + Describe(path) + ": " + std::strerror(errno)));
  if (S_ISDIR(st.st_mode))
    return done(Status::InvalidArgument(Describe(path) + " is a directory, not a file"));
  std::string out;
  if (S_ISREG(st.st_mode)) {
    if (static_cast<uint64_t>(st.st_size) > max_bytes) return done(too_large());
    out.reserve(static_cast<size_t>(st.st_size));
  }
  char buf[64 * 1024];
  while (true) {
    // Never more than one byte past the bound: enough to know it was passed.
    const size_t room = max_bytes - out.size();
    const size_t want = room >= sizeof buf ? sizeof buf : room + 1;
    const ssize_t n = ::read(fd, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return done(Status::IoError("cannot read " + Describe(path) + ": " + std::strerror(errno)));
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) return done(too_large());
    out.append(buf, static_cast<size_t>(n));
  }
  return done(std::move(out));
}

void RemoveStaleTemporaries(const std::string& path) {
  const std::string dir = ParentDirectory(path);
  const std::string prefix = path.substr(path.find_last_of('/') + 1) + ".tmp-";
  // Exactly the names tuphap gives: PID, then -N (AtomicFile, snapshots),
  // then -journal or -wal (what SQLite adds to a snapshot being written).
  auto digits = [](std::string_view s) {
    return std::min(s.find_first_not_of("0123456789"), s.size());
  };
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name(e->d_name);
    if (name.substr(0, prefix.size()) != prefix) continue;
    std::string_view rest = name.substr(prefix.size());
    const size_t pid_digits = digits(rest);
    if (pid_digits == 0 || pid_digits > 9) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(std::string(rest.substr(0, pid_digits))));
    rest.remove_prefix(pid_digits);
    if (!rest.empty() && rest[0] == '-' && digits(rest.substr(1)) > 0)
      rest.remove_prefix(1 + digits(rest.substr(1)));
    if (!rest.empty() && rest != "-journal" && rest != "-wal") continue;
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // still running
    const std::string full = dir + "/" + std::string(name);
    struct stat st;
    if (::lstat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::unlink(full.c_str());
  }
  ::closedir(d);
}

Result<AtomicFile> AtomicFile::Create(const std::string& path, mode_t mode) {
  // Unique per process and call, so two writers of one target never share
  // (or delete) each other's temporary file.
  static std::atomic<uint64_t> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string tmp =
        path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0) return AtomicFile(path, tmp, fd);
    if (errno != EEXIST) return WriteError(path, errno);
  }
  return Status::IoError("cannot write " + path + ": no free temporary name beside it");
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      tmp_(std::move(other.tmp_)),
      fd_(std::exchange(other.fd_, -1)),
      size_(other.size_) {
  other.tmp_.clear();
}

AtomicFile::~AtomicFile() { Discard(); }

void AtomicFile::Discard() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
  tmp_.clear();
}

Status AtomicFile::Append(std::string_view bytes) {
  if (fd_ < 0) return Status::Internal("write to " + path_ + " after it was closed");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      Discard();
      return WriteError(path_, err);
    }
    done += static_cast<size_t>(n);
  }
  size_ += bytes.size();
  return Status::Ok();
}

Status AtomicFile::Commit() {
  if (fd_ < 0) return Status::Internal("commit of " + path_ + " after it was closed");
  if (::fsync(fd_) != 0) {
    const int err = errno;
    Discard();
    return WriteError(path_, err);
  }
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) {
    const int err = errno;
    Discard();
    return WriteError(path_, err);
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    Discard();
    return WriteError(path_, err);
  }
  tmp_.clear();
  return SyncParentDirectory(path_);
}

Status WriteFileAtomic(const std::string& path, std::string_view bytes, mode_t mode) {
  TUPHAP_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(path, mode));
  TUPHAP_RETURN_IF_ERROR(file.Append(bytes));
  return file.Commit();
}

Status PublishFile(const std::string& tmp, const std::string& path) {
  Status s = FsyncPath(tmp);
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) s = WriteError(path, errno);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncParentDirectory(path);
}

Status RenameFile(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    return Status::IoError("cannot rename " + from + " to " + to + ": " + std::strerror(errno));
  }
  return SyncParentDirectory(to);
}

Status SyncParentDirectory(const std::string& path) {
  const std::string dir = ParentDirectory(path);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot open directory " + dir + ": " + std::strerror(errno));
  const bool ok = ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return Status::IoError("cannot sync directory " + dir + ": " + std::strerror(err));
  return Status::Ok();
}

}  // namespace tuphap
