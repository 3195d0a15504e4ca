// Store benchmarks (issue 2, deliverable 8). Prints its figures.
//   (a) one 20-field record committed per transaction through the node's
//       local API (synchronous=FULL): p50 / p99 latency;
//   (b) 100,000 changes of 15 ops applied in batches: changes/s and ops/s,
//       measured in the same run as a plain SQLite insert of the same field
//       rows (record, field, value) in the same batches, printed as a ratio.
// Usage: store_bench [changes=100000] [batch=1000] [commits=2000]
#include <cstdio>
#include <cstdlib>

#include "node/node.h"
#include "node/store/draft_opener.h"
#include "node/store/sqlite.h"
#include "node/test_keys.h"
#include "replication/draft.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/store_apply.h"
#include "tests/crash/batch_source.h"

using namespace tuphap;

namespace {

void CommitLatency(const bench::ScratchDir& dir, int commits) {
  const std::string data = dir.File("node");
  node::InitParams p;
  p.commune = "22333";  // a commune of Khánh Hòa (56) in the 2025 list
  if (Status s = node::InitForTest(data, p); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
  auto n = node::Node::Open(data, node::TestOptions());
  std::vector<node::FieldUpdate> fields;
  for (int f = 0; f < 20; ++f) {
    fields.push_back({"data.field_" + std::to_string(f),
                      crdt::Value::String("Nguyễn Thị Hồng " + std::to_string(f))});
  }
  std::vector<double> ms;
  bench::Stopwatch total;
  for (int i = 0; i < commits; ++i) {
    bench::Stopwatch w;
    auto id = (*n)->CreateRecord("", "birth", "", fields);
    if (!id.ok()) {
      std::fprintf(stderr, "%s\n", id.status().ToString().c_str());
      std::exit(1);
    }
    ms.push_back(w.Seconds() * 1000);
  }
  std::printf("(a) commit of one 20-field record per transaction, synchronous=FULL, %d commits:\n",
              commits);
  std::printf("    p50 %.3f ms   p99 %.3f ms   max %.3f ms   (%.0f commits/s)\n",
              bench::Percentile(ms, 0.5), bench::Percentile(ms, 0.99), bench::Percentile(ms, 1.0),
              commits / total.Seconds());
}

// Amendments: `records` records, then `amends` single-field amendments spread
// over them (each record's blob is read, changed and rewritten).
double AmendHeavy(const bench::ScratchDir& dir, uint64_t records, uint64_t amends,
                  uint64_t batch_size) {
  auto s = store::Store::Open(dir.File("amend.db"), store::Database::OpenMode::kCreate);
  store::DraftOpener opener;
  replication::Hash prev{};
  uint64_t seq = 0;
  std::vector<uint32_t> last_index(records + 1, 1);  // op index of data.field_1's frontier
  std::vector<uint64_t> last_seq(records + 1, 0);
  auto apply = [&](std::vector<store::Store::Incoming>& batch) {
    auto r = (*s)->Apply(batch, opener, store::ApplyOptions{.allow_drafts = true});
    if (!r.ok()) {
      std::fprintf(stderr, "amend apply failed: %s\n", r.status().ToString().c_str());
      std::exit(1);
    }
    batch.clear();
  };
  std::vector<store::Store::Incoming> batch;
  for (uint64_t i = 1; i <= records; ++i) {
    crdt::Change c = testing_support::BatchChange(++seq, 15);
    last_seq[i] = seq;
    replication::Envelope e = replication::MakeDraft(c, prev);
    prev = e.hash();
    batch.push_back({std::move(e), std::move(c)});
    if (batch.size() == batch_size) apply(batch);
  }
  apply(batch);
  bench::Stopwatch w;
  for (uint64_t k = 0; k < amends; ++k) {
    const uint64_t target = 1 + (k * 7919) % records;
    crdt::Change c = testing_support::BatchChange(++seq, 1);
    c.records = {{testing_support::BatchRecordId(target),
                  {{"data.field_1",
                    crdt::Value::String("amended " + std::to_string(k)),
                    {crdt::Dot{c.origin, last_seq[target], last_index[target]}}}}}};
    last_seq[target] = seq;
    last_index[target] = 0;
    replication::Envelope e = replication::MakeDraft(c, prev);
    prev = e.hash();
    batch.push_back({std::move(e), std::move(c)});
    if (batch.size() == batch_size) apply(batch);
  }
  apply(batch);
  return w.Seconds();
}

double PlainInsert(const bench::ScratchDir& dir, uint64_t changes, uint64_t batch_size, int ops) {
  auto db = store::Database::Open(dir.File("plain.db"), store::Database::OpenMode::kCreate);
  (void)(*db)->Exec(
      "CREATE TABLE fields(record TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL)");
  // The same strings the store gets, prepared up front.
  std::vector<crdt::Change> all;
  all.reserve(changes);
  for (uint64_t seq = 1; seq <= changes; ++seq)
    all.push_back(testing_support::BatchChange(seq, ops));
  bench::Stopwatch w;
  for (uint64_t i = 0; i < changes; i += batch_size) {
    store::Transaction txn(**db);
    for (uint64_t k = i; k < std::min(changes, i + batch_size); ++k) {
      for (const auto& op : all[k].records[0].ops) {
        auto q = (*db)->Prepare("INSERT INTO fields(record, field, value) VALUES(?, ?, ?)");
        (void)q->Bind(1, all[k].records[0].record_id)
            .Bind(2, op.field)
            .Bind(3, op.value.text())
            .Run();
      }
    }
    (void)txn.Commit();
  }
  return w.Seconds();
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t changes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const uint64_t batch = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000;
  const int commits = argc > 3 ? std::atoi(argv[3]) : 2000;
  const int ops = 15;
  bench::ScratchDir dir("tuphap-store-bench");
  CommitLatency(dir, commits);
  const double plain = PlainInsert(dir, changes, batch, ops);
  const double store = bench::StoreApply(dir, changes, batch, ops);
  const double plain_rows = static_cast<double>(changes * ops) / plain;
  const double store_ops = static_cast<double>(changes * ops) / store;
  std::printf("(b) %llu changes x %d ops in batches of %llu, WAL + synchronous=FULL:\n",
              static_cast<unsigned long long>(changes), ops,
              static_cast<unsigned long long>(batch));
  std::printf("    store apply:  %.2f s  %.0f changes/s  %.0f ops/s\n", store, changes / store,
              store_ops);
  std::printf("    plain insert: %.2f s  %.0f field rows/s\n", plain, plain_rows);
  std::printf("    ratio store ops/s : plain rows/s = %.2f (goal >= 0.33)\n",
              store_ops / plain_rows);
  const uint64_t amends = changes / 5;
  const double amend = AmendHeavy(dir, 1000, amends, batch);
  std::printf(
      "    amendments: %llu single-field amends over 1,000 records: %.2f s  %.0f changes/s\n",
      static_cast<unsigned long long>(amends), amend, amends / amend);
  return 0;
}
