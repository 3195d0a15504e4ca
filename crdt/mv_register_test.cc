#include "crdt/mv_register.h"

#include <gtest/gtest.h>

namespace tuphap::crdt {
namespace {

Dot D(uint64_t origin, uint64_t seq, uint32_t index = 0) {
  return Dot{ReplicaId::ForTest(origin), seq, index};
}

RegisterEntry E(Dot d, uint64_t ms, const char* v) {
  return RegisterEntry{d, Hlc::FromParts(ms, 0), Value::String(v)};
}

TEST(MvRegisterTest, SequentialWriteReplacesPredecessor) {
  MvRegister r;
  EXPECT_TRUE(r.Apply(E(D(1, 1), 100, "An"), {}));
  std::vector<Dot> pred = r.Frontier();
  EXPECT_TRUE(r.Apply(E(D(2, 1), 200, "Anh"), pred));
  ASSERT_EQ(r.entries().size(), 1u);
  EXPECT_EQ(r.Winner()->value, Value::String("Anh"));
  EXPECT_FALSE(r.InConflict());
}

TEST(MvRegisterTest, ConcurrentDifferentValuesConflictWithDeterministicWinner) {
  MvRegister r;
  r.Apply(E(D(1, 1), 100, "An"), {});
  std::vector<Dot> seen = r.Frontier();
  r.Apply(E(D(2, 1), 300, "Anh"), seen);
  r.Apply(E(D(3, 1), 200, "Ánh"), seen);
  EXPECT_TRUE(r.InConflict());
  EXPECT_EQ(r.entries().size(), 2u);
  EXPECT_EQ(r.Winner()->value, Value::String("Anh"));  // higher hlc
  // Same hlc: the higher origin wins, on every replica.
  MvRegister t;
  t.Apply(E(D(5, 1), 100, "x"), {});
  t.Apply(E(D(4, 1), 100, "y"), {});
  EXPECT_EQ(t.Winner()->value, Value::String("x"));
}

TEST(MvRegisterTest, ConcurrentEqualValuesAreNotAConflict) {
  MvRegister r;
  r.Apply(E(D(1, 1), 100, "Hồng"), {});
  r.Apply(E(D(2, 1), 100, "Hồng"), {});
  EXPECT_EQ(r.entries().size(), 2u);
  EXPECT_FALSE(r.InConflict());
}

TEST(MvRegisterTest, ResolvingOpClearsConflict) {
  MvRegister r;
  r.Apply(E(D(1, 1), 100, "a"), {});
  r.Apply(E(D(2, 1), 100, "b"), {});
  ASSERT_TRUE(r.InConflict());
  r.Apply(E(D(3, 1), 150, "b"), r.Frontier());
  EXPECT_FALSE(r.InConflict());
  EXPECT_EQ(r.entries().size(), 1u);
}

TEST(MvRegisterTest, ReapplyingAnEntryChangesNothing) {
  MvRegister r;
  EXPECT_TRUE(r.Apply(E(D(1, 1), 100, "a"), {}));
  EXPECT_FALSE(r.Apply(E(D(1, 1), 100, "a"), {}));
  EXPECT_EQ(r.entries().size(), 1u);
}

TEST(MvRegisterTest, JoinKeepsUnseenAndDropsSuperseded) {
  VersionVector ca, cb;
  MvRegister a, b;
  a.Apply(E(D(1, 1), 100, "v1"), {});
  ca.Set(ReplicaId::ForTest(1), 1);
  // b saw v1 and overwrote it.
  b.Apply(E(D(1, 1), 100, "v1"), {});
  b.Apply(E(D(2, 1), 200, "v2"), b.Frontier());
  cb.Set(ReplicaId::ForTest(1), 1);
  cb.Set(ReplicaId::ForTest(2), 1);
  MvRegister j = MvRegister::Join(a, ca, b, cb);
  ASSERT_EQ(j.entries().size(), 1u);
  EXPECT_EQ(j.Winner()->value, Value::String("v2"));
  EXPECT_EQ(MvRegister::Join(b, cb, a, ca), j);
}

}  // namespace
}  // namespace tuphap::crdt
