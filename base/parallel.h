// Pure work split over this thread and one more (the machines this runs on
// have two cores: docs/scaling.md). For work with no shared writes: each
// index is touched by one thread only, and nothing the body reads may
// change until ParallelHalves returns.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <thread>

namespace tuphap {

// The cores this machine has (read once: glibc reads /sys at every call).
inline unsigned ParallelCores() {
  static const unsigned cores = std::thread::hardware_concurrency();
  return cores;
}

// Runs body(begin, end) over [0, n): the first half on a thread started for
// it, the second on the caller's, and returns when both are done. Below
// `min_split` items (a thread costs tens of microseconds), or on one core,
// all on the caller's thread.
inline void ParallelHalves(size_t n, size_t min_split,
                           const std::function<void(size_t, size_t)>& body) {
  if (n < min_split || ParallelCores() < 2) {
    body(0, n);
    return;
  }
  const size_t half = n / 2;
  // An exception on either thread reaches the caller (the other half done
  // first), as it would had one thread done it all.
  std::exception_ptr failed;
  std::thread first([&] {
    try {
      body(0, half);
    } catch (...) {
      failed = std::current_exception();
    }
  });
  try {
    body(half, n);
  } catch (...) {
    first.join();
    throw;
  }
  first.join();
  if (failed) std::rethrow_exception(failed);
}

}  // namespace tuphap
