// Importer: streams a JSON Lines file into the store (issue: import).
//
// Two threads: a reader parses and validates lines ahead (Registry::Prepare,
// pure), the caller's thread commits them in file order in batches
// (Registry::Commit). A bounded queue between them keeps memory flat
// whatever the file size. Batches commit whole or not at all; with
// all_or_nothing one transaction spans the file, checkpointed per batch.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "base/line_reader.h"
#include "node/domain/registry.h"

namespace tuphap::domain {

struct ImportOptions {
  bool all_or_nothing = false;
  int batch = 1000;                                // lines per committed batch (per checkpoint)
  bool parallel = true;                            // validate on a second thread
  const std::atomic<bool>* interrupted = nullptr;  // set from a signal handler
  // Called now and then with bytes and lines read so far.
  std::function<void(uint64_t bytes, uint64_t lines)> progress;
  // Called for every refused line, in file order.
  std::function<void(uint64_t line, const Problem& problem)> refused;
};

struct ImportSummary {
  uint64_t lines = 0;     // lines read; when interrupted, the lines of the committed batches
  uint64_t accepted = 0;  // committed
  uint64_t refused = 0;
  uint64_t duplicates = 0;  // already present: skipped
  std::map<std::string, uint64_t> by_class;
  bool complete = true;      // false when interrupted
  bool rolled_back = false;  // all-or-nothing with refusals: nothing committed
};

Result<ImportSummary> Import(Registry& registry, LineReader& reader, const ImportOptions& options);

}  // namespace tuphap::domain
