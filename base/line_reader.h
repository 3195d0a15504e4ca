// Reads a file or stdin line by line with a bounded buffer, so memory stays
// flat whatever the file size; a line longer than the limit is reported
// (and skipped) instead of being held whole. A "line" that runs on for
// kMaxSkipped bytes without an end (a binary file, /dev/zero) ends the
// reading with an error instead of being skipped for ever.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "base/status.h"

namespace tuphap {

class LineReader {
 public:
  static constexpr uint64_t kMaxSkipped = 64 << 20;

  // `path` "-" reads stdin. NotFound when there is no such file,
  // InvalidArgument when it is a directory.
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path,
                                                  size_t max_line = 1 << 20);
  ~LineReader();

  enum class Got { kLine, kTooLong, kEnd };
  // The next line, without its "\n" (and "\r"). kTooLong: the line was
  // skipped; `line` holds its first bytes. kEnd: the end of the input, or
  // a read error or an endless line (see error()).
  Got Next(std::string* line);
  uint64_t line_number() const { return line_no_; }
  uint64_t bytes_read() const { return bytes_; }
  // Total size when known (a regular file), else 0.
  uint64_t size() const { return size_; }
  Status error() const;

 private:
  LineReader(FILE* f, bool owned, size_t max_line, uint64_t size)
      : f_(f), owned_(owned), max_(max_line), size_(size) {}
  FILE* f_;
  bool owned_;
  size_t max_;
  uint64_t size_;
  uint64_t line_no_ = 0;
  uint64_t bytes_ = 0;
  std::string path_;
  std::string buf_;  // read ahead
  size_t pos_ = 0;   // next unread byte in buf_
  bool eof_ = false;
  Status failed_;  // an endless line
};

}  // namespace tuphap
