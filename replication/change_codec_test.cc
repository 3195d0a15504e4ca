#include "replication/change_codec.h"

#include <gtest/gtest.h>

#include "base/random.h"

namespace tuphap::replication {
namespace {

crdt::Change SampleChange() {
  crdt::Change c;
  c.origin = crdt::ReplicaId::ForTest(7);
  c.scope = "18568";
  c.seq = 3;
  c.hlc = crdt::Hlc::FromParts(1'751'328'000'000, 2);
  c.officer = "Lê Thị Hoa";
  c.records.push_back({"18568-KS-2025-000001",
                       {{"$type", crdt::Value::String("birth"), {}},
                        {"data.child.given_name",
                         crdt::Value::String("Anh"),
                         {{crdt::ReplicaId::ForTest(9), 4, 1}, {c.origin, 2, 0}}},
                        {"fine", crdt::Value::Int(-5), {}},
                        {"paid", crdt::Value::Bool(false), {}},
                        {"data.father", crdt::Value::Null(), {}},
                        {"penalties", crdt::Value::JsonText(R"(["a","b"])"), {}}}});
  c.records.push_back(
      {"r2", {{"x", crdt::Value::String(""), {{crdt::ReplicaId::ForTest(9), 1, 0}}}}});
  return c;
}

TEST(ChangeCodecTest, RoundTrips) {
  crdt::Change c = SampleChange();
  std::string body = EncodeChangeBody(c);
  crdt::Change d;
  d.origin = c.origin;
  d.scope = c.scope;
  d.seq = c.seq;
  d.hlc = c.hlc;
  ASSERT_TRUE(DecodeChangeBody(body, kDefaultLimits, &d).ok());
  EXPECT_EQ(d, c);
  EXPECT_EQ(EncodeChangeBody(d), body);  // canonical: one byte form
}

TEST(ChangeCodecTest, EveryTruncationIsRefused) {
  crdt::Change c = SampleChange();
  std::string body = EncodeChangeBody(c);
  for (size_t n = 0; n < body.size(); ++n) {
    crdt::Change d = c;
    Status s = DecodeChangeBody(body.substr(0, n), kDefaultLimits, &d);
    EXPECT_FALSE(s.ok()) << "prefix of " << n << " bytes accepted";
  }
}

TEST(ChangeCodecTest, RandomByteFlipsNeverCrash) {
  crdt::Change c = SampleChange();
  const std::string body = EncodeChangeBody(c);
  Random rng(42);
  int refused = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string m = body;
    m[rng.Uniform(m.size())] ^= static_cast<char>(1 + rng.Uniform(255));
    crdt::Change d = c;
    refused += !DecodeChangeBody(m, kDefaultLimits, &d).ok();
  }
  EXPECT_GT(refused, 0);
}

TEST(ChangeCodecTest, LimitsAreEnforced) {
  crdt::Change c = SampleChange();
  Limits tight;
  tight.max_ops_per_change = 3;
  crdt::Change d = c;
  Status s = DecodeChangeBody(EncodeChangeBody(c), tight, &d);
  EXPECT_EQ(s.reason(), "E_FRAME_MALFORMED");
}

TEST(ChangeCodecTest, ShapeViolationsAreRefusedAfterDecoding) {
  crdt::Change c = SampleChange();
  c.records[1].ops[0].pred = {{c.origin, 3, 0}};  // its own seq: not earlier
  crdt::Change d = c;
  EXPECT_EQ(DecodeChangeBody(EncodeChangeBody(c), kDefaultLimits, &d).reason(), "E_CHANGE_SHAPE");
}

}  // namespace
}  // namespace tuphap::replication
