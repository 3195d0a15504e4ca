// Reconcile of two large stores that differ in a few records (issue 6):
//
//   reconcile_bench [--records N] [--runs R]   (default 1,000,000 and 2)
//
// A commune node writes N records (400 to a change, six fields each) and
// its hub ingests them all, through every check. Then the two copies are
// made to differ in 10 records: 4 corrected at the commune and 3 at the hub
// (neither synced), and 3 rows edited directly in the commune's SQLite
// file. The hub serves on loopback (real ZeroMQ, CURVE) in a thread; the
// commune runs `report reconcile --peer` in-process, R times. Printed: the
// wall time of each run (both trees built from the stores, the walk, the
// drill-down with re-derivation from the logs), the bytes both ways and
// the number of queries, and how many differing records were found.
#include <sodium.h>

#include <atomic>
#include <cstdio>
#include <set>
#include <string>
#include <thread>

#include "node/node.h"
#include "node/reconcile.h"
#include "node/store/test_access.h"
#include "node/test_keys.h"
#include "node/transport.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/nodes.h"

using namespace tuphap;

namespace {

constexpr size_t kPerChange = 400;

std::string Id(size_t i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "22333-KS-2025-%07zu", i);
  return buf;
}

void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 1000000;
  int runs = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--records") n = std::stoul(argv[i + 1]);
    if (std::string(argv[i]) == "--runs") runs = std::stoi(argv[i + 1]);
  }
  if (sodium_init() < 0) return 1;
  bench::ScratchDir dir("reconcile-bench");
  bench::NodePair nodes = bench::HubAndCommune(dir);
  auto* hub = &nodes.hub;
  auto* commune = &nodes.commune;

  // The commune's records, then the hub's copy of them.
  bench::Stopwatch build;
  bench::Stopwatch write;
  for (size_t done = 0; done < n;) {
    auto session = (*commune)->BeginSession();
    if (!session.ok()) Die("session", session.status());
    for (int c = 0; c < 25 && done < n; ++c) {
      Status s = (*commune)->Append(**session, "22333", "", [&](const node::Node::RecordReader&) {
        std::vector<crdt::RecordOps> records;
        for (size_t k = 0; k < kPerChange && done < n; ++k, ++done) {
          const std::string id = Id(done);
          records.push_back(
              {id,
               {{"$type", crdt::Value::String("birth"), {}},
                {"data.child.full_name", crdt::Value::String("Nguyễn Thị Hồng " + id), {}},
                {"data.child.birth_date", crdt::Value::String("2025-03-14"), {}},
                {"data.child.sex", crdt::Value::String("F"), {}},
                {"data.birth_place", crdt::Value::String("Trạm Y tế xã Cam Lâm, Khánh Hòa"), {}},
                {"registered_at", crdt::Value::String("2025-03-20"), {}}}});
        }
        return Result<std::vector<crdt::RecordOps>>(std::move(records));
      });
      if (!s.ok()) Die("append", s);
    }
    Status s = (*session)->Commit();
    if (!s.ok()) Die("commit", s);
  }
  const double write_s = write.Seconds();
  bench::Stopwatch ingest;
  const store::FeedKey feed{(*commune)->info().id, "22333"};
  auto head = (*commune)->store().Head(feed);
  if (!head.ok() || !*head) return 1;
  for (uint64_t seq = 1; seq <= (*head)->seq;) {
    std::vector<store::Store::Incoming> batch;
    for (int k = 0; k < 25 && seq <= (*head)->seq; ++k, ++seq) {
      auto env = (*commune)->store().GetEnvelope(feed, seq);
      if (!env.ok() || !env->has_value()) return 1;
      batch.push_back({std::move(**env), std::nullopt});
    }
    auto r = (*hub)->Ingest(batch);
    if (!r.ok()) Die("ingest", r.status());
  }
  const double ingest_s = ingest.Seconds();
  std::printf("reconcile_bench: %zu records at the commune and the hub, built in %.1f s\n", n,
              build.Seconds());
  std::printf(
      "  commune wrote them in %.1f s (%.0f records/s), hub ingested them in %.1f s "
      "(%.0f records/s)\n",
      write_s, static_cast<double>(n) / write_s, ingest_s, static_cast<double>(n) / ingest_s);

  // Ten differing records.
  std::set<std::string> expected;
  for (int k = 0; k < 4; ++k) {
    const std::string id = Id(n / 11 * static_cast<size_t>(k + 1));
    Status s =
        (*commune)->SetFields(id, {{"data.birth_place", crdt::Value::String("Bệnh viện tỉnh")}});
    if (!s.ok()) Die("commune amend", s);
    expected.insert(id);
  }
  for (int k = 0; k < 3; ++k) {
    const std::string id = Id(n / 13 * static_cast<size_t>(k + 5));
    Status s =
        (*hub)->SetFields(id, {{"registered_at", crdt::Value::String("2025-03-21")}}, "", "22333");
    if (!s.ok()) Die("hub amend", s);
    expected.insert(id);
  }
  std::set<std::string> edited;  // behind tuphap's back
  for (int k = 0; k < 3; ++k) {
    const std::string id = Id(n / 17 * static_cast<size_t>(k + 9));
    store::Database& db = store::TestAccess::Db((*commune)->store());
    auto q = db.Prepare("SELECT state FROM records WHERE record_id = ?");
    if (!q.ok()) return 1;
    q->Bind(1, id);
    if (!*q->Step()) return 1;
    std::string blob(q->Blob(0));
    const std::string from = "Nguyễn", to = "Nguyeeen";
    blob.replace(blob.find(from), from.size(), to);
    auto u = db.Prepare("UPDATE records SET state = ? WHERE record_id = ?");
    if (!u.ok()) return 1;
    u->BindBlob(1, blob).Bind(2, id);
    if (!u->Step().ok()) return 1;
    expected.insert(id);
    edited.insert(id);
  }

  const std::string endpoint = node::FreeLoopbackEndpoint();
  std::atomic<bool> stop{false};
  node::ServeOptions so;
  so.listen = endpoint;
  // The hub serves on a Node of its own, opened in the serving thread: a
  // Store is used from one thread only.
  nodes.hub.reset();
  std::thread server([&] {
    auto served = node::Node::Open(dir.File("hub"), node::TestOptions());
    if (!served.ok()) Die("open hub", served.status());
    Status s = node::Serve(**served, so, &stop);
    if (!s.ok()) Die("serve", s);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int rc = 0;
  for (int run = 1; run <= 2 * runs; ++run) {
    const bool verify = run <= runs;
    bench::Stopwatch wall;
    auto channel = node::PeerQueries::Open(**commune, endpoint, "");
    if (!channel.ok()) Die("connect", channel.status());
    std::unique_ptr<node::ReconcileSource> theirs = node::RemoteSource(**channel);
    const store::EnvelopeOpener* opener = &(*commune)->opener();
    node::StoreSource ours((*commune)->store(), *opener,
                           [opener](std::string_view s) { return opener->CanRead(s); }, verify);
    // The commune's scope: the commune never received the hub's public
    // feed here (only its own feed was copied), which would add the
    // hub's trust records to the differences.
    auto report = node::Reconcile(ours, *theirs, {"22333"});
    if (!report.ok()) Die("reconcile", report.status());
    const double secs = wall.Seconds();
    std::set<std::string> found;
    std::map<std::string, int> reasons;
    for (const auto& d : report->differences) {
      found.insert(d.record_id);
      ++reasons[d.reason];
    }
    std::set<std::string> want = expected;
    if (!verify)
      for (const auto& id : edited) want.erase(id);
    std::printf(
        "  run %d (%s): %.2f s wall, %llu bytes sent + %llu bytes received = %.1f KB in %llu "
        "queries; %zu differing records found (%zu expected), %llu tree nodes compared;",
        run, verify ? "own rows checked" : "walk only", secs,
        static_cast<unsigned long long>((*channel)->bytes_out()),
        static_cast<unsigned long long>((*channel)->bytes_in()),
        static_cast<double>((*channel)->bytes_out() + (*channel)->bytes_in()) / 1024.0,
        static_cast<unsigned long long>((*channel)->queries()), found.size(), want.size(),
        static_cast<unsigned long long>(report->tree_nodes_compared));
    for (const auto& [reason, count] : reasons) std::printf(" %s %d", reason.c_str(), count);
    std::printf("\n");
    if (found != want) rc = 1;
  }
  stop = true;
  server.join();
  return rc;
}
