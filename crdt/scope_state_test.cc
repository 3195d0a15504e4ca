#include "crdt/scope_state.h"

#include <gtest/gtest.h>

namespace tuphap::crdt {
namespace {

Change MakeChange(uint64_t origin, uint64_t seq, uint64_t ms, const std::string& record,
                  std::vector<Op> ops) {
  Change c;
  c.origin = ReplicaId::ForTest(origin);
  c.scope = "18568";
  c.seq = seq;
  c.hlc = Hlc::FromParts(ms, 0);
  c.officer = "officer-" + std::to_string(origin);
  c.records.push_back({record, std::move(ops)});
  return c;
}

TEST(ScopeStateTest, HoldsChangeUntilItsFeedPredecessorArrives) {
  ScopeState s;
  Change c1 = MakeChange(1, 1, 10, "r1", {{"$type", Value::String("birth"), {}}});
  Change c2 = MakeChange(1, 2, 11, "r1", {{"name", Value::String("An"), {}}});
  EXPECT_EQ(s.Apply(c2), ScopeState::ApplyResult::kNotReady);
  EXPECT_EQ(s.Apply(c1), ScopeState::ApplyResult::kApplied);
  EXPECT_EQ(s.Apply(c2), ScopeState::ApplyResult::kApplied);
  EXPECT_EQ(s.Apply(c1), ScopeState::ApplyResult::kDuplicate);
  EXPECT_EQ(s.Record("r1")->Type(), "birth");
}

TEST(ScopeStateTest, HoldsChangeUntilItsPredDependenciesArrive) {
  ScopeState s;
  Change a = MakeChange(1, 1, 10, "r1", {{"name", Value::String("An"), {}}});
  Change b = MakeChange(2, 1, 20, "r1",
                        {{"name", Value::String("Anh"), {Dot{ReplicaId::ForTest(1), 1, 0}}}});
  EXPECT_EQ(s.Apply(b), ScopeState::ApplyResult::kNotReady);
  EXPECT_EQ(s.Apply(a), ScopeState::ApplyResult::kApplied);
  EXPECT_EQ(s.Apply(b), ScopeState::ApplyResult::kApplied);
  EXPECT_FALSE(s.Record("r1")->Field("name")->InConflict());
}

TEST(ScopeStateTest, CheckShapeRefusesSelfReferenceToTheFuture) {
  Change c = MakeChange(1, 2, 10, "r1",
                        {{"name", Value::String("x"), {Dot{ReplicaId::ForTest(1), 2, 0}}}});
  EXPECT_EQ(c.CheckShape().reason(), "E_CHANGE_SHAPE");
  Change ok = MakeChange(1, 2, 10, "r1",
                         {{"name", Value::String("x"), {Dot{ReplicaId::ForTest(1), 1, 0}}}});
  EXPECT_TRUE(ok.CheckShape().ok());
}

TEST(ScopeStateTest, RevocationIsAFieldNotADeletion) {
  ScopeState s;
  s.Apply(MakeChange(1, 1, 10, "r1", {{"$type", Value::String("birth"), {}}}));
  s.Apply(MakeChange(1, 2, 11, "r1", {{"$revoked", Value::String("entered twice"), {}}}));
  EXPECT_TRUE(s.Record("r1")->Revoked());
  EXPECT_EQ(s.Record("r1")->Type(), "birth");
}

}  // namespace
}  // namespace tuphap::crdt
