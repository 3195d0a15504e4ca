// Child process of the crash test: applies batches to a store as fast as it
// can and prints the number of each batch after its commit returned. The
// parent kills it with SIGKILL at random moments.
//   crash_child DB BATCH_SIZE FIELDS
#include <cstdio>
#include <cstdlib>

#include "node/store/draft_opener.h"
#include "replication/draft.h"
#include "tests/crash/batch_source.h"

using namespace tuphap;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: crash_child DB BATCH_SIZE FIELDS\n");
    return 2;
  }
  const uint64_t batch_size = std::strtoull(argv[2], nullptr, 10);
  const int fields = std::atoi(argv[3]);
  auto store = store::Store::Open(argv[1], store::Database::OpenMode::kCreate);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  auto head = (*store)->Head({testing_support::BatchOrigin(), "56001"});
  if (!head.ok()) return 1;
  uint64_t seq = *head ? (**head).seq : 0;
  replication::Hash prev = *head ? (**head).hash : replication::Hash{};
  if (seq % batch_size != 0) {
    std::fprintf(stderr, "head %llu is not on a batch boundary\n",
                 static_cast<unsigned long long>(seq));
    return 3;
  }
  store::DraftOpener opener;
  while (true) {
    std::vector<store::Store::Incoming> batch;
    for (uint64_t i = 0; i < batch_size; ++i) {
      crdt::Change c = testing_support::BatchChange(++seq, fields, /*with_amends=*/true);
      replication::Envelope e = replication::MakeDraft(c, prev);
      prev = e.hash();
      batch.push_back({std::move(e), std::move(c)});
    }
    auto r = (*store)->Apply(batch, opener, store::ApplyOptions{.allow_drafts = true});
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    std::printf("%llu\n", static_cast<unsigned long long>(seq / batch_size));
    std::fflush(stdout);
  }
}
