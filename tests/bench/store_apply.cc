#include "tests/bench/store_apply.h"

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <vector>

#include "node/store/draft_opener.h"
#include "node/store/store.h"
#include "replication/draft.h"
#include "tests/crash/batch_source.h"

namespace tuphap::bench {

double StoreApply(const bench::ScratchDir& dir, uint64_t changes, uint64_t batch_size, int ops) {
  auto s = store::Store::Open(dir.File("apply.db"), store::Database::OpenMode::kCreate);
  store::DraftOpener opener;
  replication::Hash prev{};
  // Build every envelope first: (b) measures the store, not the encoder.
  std::vector<store::Store::Incoming> all;
  all.reserve(changes);
  for (uint64_t seq = 1; seq <= changes; ++seq) {
    crdt::Change c = testing_support::BatchChange(seq, ops);
    replication::Envelope e = replication::MakeDraft(c, prev);
    prev = e.hash();
    all.push_back({std::move(e), std::move(c)});
  }
  bench::Stopwatch w;
  for (uint64_t i = 0; i < changes; i += batch_size) {
    std::vector<store::Store::Incoming> batch(
        std::make_move_iterator(all.begin() + static_cast<long>(i)),
        std::make_move_iterator(all.begin() +
                                static_cast<long>(std::min(changes, i + batch_size))));
    auto r = (*s)->Apply(batch, opener, store::ApplyOptions{.allow_drafts = true});
    if (!r.ok() || r->materialised != batch.size()) {
      std::fprintf(stderr, "apply failed: %s\n", r.status().ToString().c_str());
      std::exit(1);
    }
  }
  return w.Seconds();
}

}  // namespace tuphap::bench
