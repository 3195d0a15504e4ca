// The foundation's plain batch-apply figure (store_bench (b)), shared with
// the benchmarks that report their speed as a ratio to it.
#pragma once

#include <cstdint>

#include "tests/bench/bench_util.h"

namespace tuphap::bench {

// Seconds to apply `changes` pre-built draft changes of `ops` field ops each,
// one new record per change, in batches of `batch_size`, into a new store in
// `dir`. Exits the program on failure.
double StoreApply(const ScratchDir& dir, uint64_t changes, uint64_t batch_size, int ops);

}  // namespace tuphap::bench
