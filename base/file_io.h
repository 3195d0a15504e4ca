// Files read whole with a size bound, and files written atomically.
//
// Reads: every file or stream the program takes whole (a config, a JSON
// input, a key, request, enrolment or bundle file) goes through
// ReadFileBounded, which refuses a directory and anything larger than the
// caller's bound before allocating it — `--config /dev/zero` is an error,
// not an endless allocation.
//
// Writes: a temporary file beside the target, fsync, rename, then fsync of
// the directory, so after a crash or a power cut the target is the old file
// or the new one, never a mix, and a completed rename is not lost with the
// directory entry. A write that fails or is abandoned removes its temporary
// file. Every rename in tuphap goes through here.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tuphap {

// Reads `path` whole; "-" reads standard input. NotFound when there is no
// such file; InvalidArgument when it is a directory; ResourceExhausted
// (E_TOO_LARGE) naming the file and the bound when it holds more than
// `max_bytes` (checked against the size of a regular file before reading,
// and while reading a stream, so at most `max_bytes` are ever held).
Result<std::string> ReadFileBounded(const std::string& path, size_t max_bytes);

// A file written under a temporary name and published by Commit().
// Move-only; the destructor removes the temporary file unless committed.
class AtomicFile {
 public:
  // Creates the temporary file (`path` + ".tmp-" + a unique suffix) with
  // `mode` (less the umask). IoError naming the file on failure.
  static Result<AtomicFile> Create(const std::string& path, mode_t mode = 0644);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  ~AtomicFile();

  // IoError (E_DISK_FULL as reason when the disk is full) naming the target.
  Status Append(std::string_view bytes);
  uint64_t size() const { return size_; }
  const std::string& temp_path() const { return tmp_; }
  // fsync, close, rename over the target, fsync of its directory. After an
  // error the temporary file is gone and the target is untouched.
  Status Commit();

 private:
  AtomicFile(std::string path, std::string tmp, int fd)
      : path_(std::move(path)), tmp_(std::move(tmp)), fd_(fd) {}
  void Discard();
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

Status WriteFileAtomic(const std::string& path, std::string_view bytes, mode_t mode = 0644);

// Publishes a file another writer produced under the temporary name `tmp`
// (SQLite's VACUUM INTO): fsync it, rename it to `path`, fsync the
// directory. The temporary file is removed on failure.
Status PublishFile(const std::string& tmp, const std::string& path);

// Renames `from` to `to` and fsyncs the directory of `to`; on failure
// nothing is removed (IoError naming both).
Status RenameFile(const std::string& from, const std::string& to);

// Removes what writers of `path` killed part way left beside it: files
// named `path` + ".tmp-PID" (then anything) whose process PID no longer
// runs (a bundle or snapshot cut short on a USB stick would otherwise stay
// there, up to its whole size). Best effort: errors are ignored. Called
// before writing a bundle or a snapshot (the large files; not on every
// atomic write, which would list a folder each time).
void RemoveStaleTemporaries(const std::string& path);

// fsync of the directory that holds `path`: makes a rename or a newly
// created file in it durable.
Status SyncParentDirectory(const std::string& path);

}  // namespace tuphap
