// Whole-file reads and atomic writes (a temporary file, fsync, rename): a
// crash leaves the old file or the new one, never a mix.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/status.h"

namespace tuphap {

Status WriteFileAtomic(const std::string& path, std::string_view bytes, mode_t mode = 0644);
// NotFound when there is no such file; ResourceExhausted when it is larger
// than `max_bytes`.
Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes = 64 << 20);

}  // namespace tuphap
