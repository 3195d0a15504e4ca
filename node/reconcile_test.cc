// Reconcile on real nodes and stores, in one process: what it finds, and
// that it keeps the store's one-thread rule (store.h).
#include "node/reconcile.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "node/test_nodes.h"

namespace tuphap::node {
namespace {

using ReconcileTest = NodesTest;

// The threads a source's share check was called from: the check runs
// wherever that source reads its store.
class ThreadLog {
 public:
  StoreSource::Shares Shares(const store::EnvelopeOpener& opener) {
    return [this, &opener](std::string_view scope) {
      std::lock_guard<std::mutex> lock(mu_);
      threads_.insert(std::this_thread::get_id());
      return opener.CanRead(scope);
    };
  }
  std::set<std::thread::id> threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_;
  }

 private:
  std::mutex mu_;
  std::set<std::thread::id> threads_;
};

// A Store is not thread-safe, and neither are the node's opener and trust:
// both sides are read from the thread that calls Reconcile, none from a
// helper thread (reconcile once built our trees in a second thread while
// the other side built its own).
TEST_F(ReconcileTest, BothSidesAreReadFromTheCallingThreadOnly) {
  auto hub = Make("hub", Role::kHub);
  auto c = Make("c");
  Enrol(*hub, *c);
  for (int i = 0; i < 20; ++i) {
    auto id = c->CreateRecord("R" + std::to_string(i), "note", kCommune,
                              {{"text", crdt::Value::String("note " + std::to_string(i))}});
    ASSERT_TRUE(id.ok()) << id.status().ToString();
  }
  Ingest(*hub, Envelopes(*c, kCommune));
  // One record corrected at the commune only: one difference.
  ASSERT_TRUE(c->SetFields("R7", {{"text", crdt::Value::String("corrected")}}).ok());

  ThreadLog ours_log, theirs_log;
  StoreSource ours(c->store(), c->opener(), ours_log.Shares(c->opener()));
  StoreSource theirs(hub->store(), hub->opener(), theirs_log.Shares(hub->opener()));
  auto report = Reconcile(ours, theirs, {kCommune});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->equal);
  ASSERT_EQ(report->differences.size(), 1u);
  EXPECT_EQ(report->differences[0].record_id, "R7");
  EXPECT_EQ(report->differences[0].reason, "missing_changes");

  const std::set<std::thread::id> caller{std::this_thread::get_id()};
  EXPECT_EQ(ours_log.threads(), caller) << "our store was read from another thread";
  EXPECT_EQ(theirs_log.threads(), caller) << "their store was read from another thread";
}

}  // namespace
}  // namespace tuphap::node
