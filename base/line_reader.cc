#include "base/line_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace tuphap {

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path, size_t max_line) {
  if (path == "-") return std::unique_ptr<LineReader>(new LineReader(stdin, false, max_line, 0));
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int e = errno;
    if (e == ENOENT) return Status::NotFound("no file " + path);
    return Status::IoError("cannot read " + path + ": " + std::strerror(e));
  }
  struct stat st {};
  const bool stat_ok = fstat(fileno(f), &st) == 0;
  if (stat_ok && S_ISDIR(st.st_mode)) {
    std::fclose(f);
    return Status::InvalidArgument(path + " is a directory, not a file");
  }
  const uint64_t size = stat_ok && S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
  auto r = std::unique_ptr<LineReader>(new LineReader(f, true, max_line, size));
  r->path_ = path;
  return r;
}

LineReader::~LineReader() {
  if (owned_) std::fclose(f_);
}

LineReader::Got LineReader::Next(std::string* line) {
  line->clear();
  if (!failed_.ok()) return Got::kEnd;
  bool too_long = false;
  bool any = false;
  uint64_t length = 0;
  while (true) {
    if (pos_ == buf_.size()) {
      if (eof_) break;
      buf_.resize(64 * 1024);
      const size_t n = std::fread(buf_.data(), 1, buf_.size(), f_);
      buf_.resize(n);
      pos_ = 0;
      if (n == 0) {
        eof_ = true;
        break;
      }
    }
    any = true;
    const char* start = buf_.data() + pos_;
    const size_t avail = buf_.size() - pos_;
    const void* nl = std::memchr(start, '\n', avail);
    const size_t take =
        nl != nullptr ? static_cast<size_t>(static_cast<const char*>(nl) - start) : avail;
    const size_t room = max_ > line->size() ? max_ - line->size() : 0;
    line->append(start, std::min(take, room));
    too_long = too_long || take > room;
    pos_ += take;
    bytes_ += take;
    length += take;
    if (nl == nullptr && length > kMaxSkipped) {
      failed_ = Status::InvalidArgument(
          (path_.empty() ? std::string("standard input") : path_) + ": line " +
          std::to_string(line_no_ + 1) + " runs on for more than " +
          std::to_string(kMaxSkipped >> 20) + " MiB without a line end: not a JSON Lines file");
      line->clear();
      return Got::kEnd;
    }
    if (nl != nullptr) {
      ++pos_;
      ++bytes_;
      break;
    }
  }
  if (!any) return Got::kEnd;
  ++line_no_;
  if (!line->empty() && line->back() == '\r') line->pop_back();
  // A byte-order mark some editors put at the start of a UTF-8 file is
  // not part of the first record.
  if (line_no_ == 1 && line->starts_with("\xEF\xBB\xBF")) line->erase(0, 3);
  return too_long ? Got::kTooLong : Got::kLine;
}

Status LineReader::error() const {
  if (!failed_.ok()) return failed_;
  if (std::ferror(f_))
    return Status::IoError("reading " + (path_.empty() ? std::string("stdin") : path_) + " failed");
  return Status::Ok();
}

}  // namespace tuphap
