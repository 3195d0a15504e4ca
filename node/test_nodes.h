// A fixture for tests of several nodes: each test gets its own directory of
// data directories, the nodes share one manual clock, and enrolment goes
// through the files an operator carries. Province 42 (Hà Tĩnh): communes
// 18568 and 18073.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "node/test_keys.h"

namespace tuphap::node {

// Enrols `commune` at `hub` through the files an operator carries.
inline void Enrol(Node& hub, Node& commune) {
  auto request = commune.EnrollRequestFile("test");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  auto file = hub.EnrollSign(*request, 365);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto accepted = commune.EnrollAccept(file->file);
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
}
// Every envelope `from` holds of `scope` (all scopes when empty), feed by
// feed in seq order.
inline std::vector<replication::Envelope> Envelopes(Node& from, const std::string& scope = {}) {
  std::vector<replication::Envelope> out;
  for (const auto& head : *from.store().Heads()) {
    if (!scope.empty() && head.feed.scope != scope) continue;
    for (uint64_t seq = 1; seq <= head.seq; ++seq)
      out.push_back(**from.store().GetEnvelope(head.feed, seq));
  }
  return out;
}
inline store::ApplyReport Ingest(Node& to, const std::vector<replication::Envelope>& envelopes) {
  std::vector<store::Store::Incoming> batch;
  for (const auto& e : envelopes) batch.push_back({e, std::nullopt});
  auto r = to.Ingest(batch);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : store::ApplyReport{};
}

class NodesTest : public testing::Test {
 protected:
  static constexpr const char* kProvince = "42";
  static constexpr const char* kCommune = "18568";
  static constexpr const char* kOtherCommune = "18073";

  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("tuphap-nodes-" + std::to_string(getpid()) + "-" +
             testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string Dir(const std::string& name) const { return (root_ / name).string(); }

  // A new node: a commune node of `commune`, or the hub of province 42.
  std::unique_ptr<Node> Make(const std::string& name, Role role = Role::kCommune,
                             const std::string& commune = kCommune, NodeOptions options = {}) {
    InitParams p;
    p.role = role;
    p.commune = role == Role::kCommune ? commune : "";
    p.province = role == Role::kHub ? kProvince : "";
    p.now_ms = clock_.WallMillis();
    Status s = InitForTest(Dir(name), p);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return Open(name, std::move(options));
  }
  // A further node of a commune (`init --secondary`): numbers only from
  // leases, enrolled as the commune's secondary. A commune has one primary.
  std::unique_ptr<Node> MakeSecondary(const std::string& name,
                                      const std::string& commune = kCommune) {
    InitParams p;
    p.commune = commune;
    p.secondary = true;
    p.now_ms = clock_.WallMillis();
    Status s = InitForTest(Dir(name), p);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return Open(name);
  }
  // Another handle on a node's data directory, as another process (a CLI
  // command while `serve` runs) would have.
  std::unique_ptr<Node> Open(const std::string& name, NodeOptions options = {}) {
    options.clock = &clock_;
    auto n = Node::Open(Dir(name), TestOptions(std::move(options)));
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? std::move(n).value() : nullptr;
  }
  // How many refusals of `reason` the store counted (0 when none).
  static uint64_t Refused(const std::vector<store::RefusalCount>& refusals,
                          const std::string& reason) {
    for (const auto& r : refusals)
      if (r.reason == reason) return r.count;
    return 0;
  }

  std::filesystem::path root_;
  ManualClock clock_{1'751'328'000'000};
};

}  // namespace tuphap::node
