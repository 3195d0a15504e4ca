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

// A change with one JSON value, encoded as a writer that does not check
// would encode it.
crdt::Change WithJson(std::string text) {
  crdt::Change c = SampleChange();
  c.records[0].ops.back().value = crdt::Value::JsonText(std::move(text));
  return c;
}

Status DecodeOf(const crdt::Change& c, crdt::Change* out) {
  *out = c;
  out->records.clear();
  return DecodeChangeBody(EncodeChangeBody(c), kDefaultLimits, out);
}

TEST(ChangeCodecTest, WritersMustWriteJsonValuesInCanonicalForm) {
  // Canonical (RFC 8785): passes.
  EXPECT_TRUE(CheckLimits(WithJson(R"(["a","b"])"), kDefaultLimits).ok());
  EXPECT_TRUE(CheckLimits(WithJson(R"([{"a":1,"b":[]}])"), kDefaultLimits).ok());
  // Members out of order, spaces, a double written as Dump writes it: the
  // writer is refused, naming the record, the field and the form wanted.
  for (const char* text : {R"([{"b":1,"a":2}])", R"([ "a" ])", "[2500.0]", "[1e-07]"}) {
    Status s = CheckLimits(WithJson(text), kDefaultLimits);
    EXPECT_EQ(s.reason(), "E_JSON_VALUE") << text;
    EXPECT_NE(s.message().find("18568-KS-2025-000001 penalties"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("RFC 8785"), std::string::npos) << s.message();
  }
  EXPECT_NE(CheckLimits(WithJson(R"([{"b":1,"a":2}])"), kDefaultLimits)
                .message()
                .find(R"(written [{"a":2,"b":1}])"),
            std::string::npos);
  // No canonical form at all: 2^53 + 1 is no double.
  Status s = CheckLimits(WithJson("[9007199254740993]"), kDefaultLimits);
  EXPECT_EQ(s.reason(), "E_JSON_VALUE");
  EXPECT_NE(s.message().find("9007199254740993"), std::string::npos) << s.message();
  EXPECT_EQ(CheckLimits(WithJson("[1,"), kDefaultLimits).reason(), "E_JSON_VALUE");
  // Canonical, but an older node's decoder (which reads a value only when
  // its Dump gives back the same bytes: it writes 1e-07) would call the
  // change malformed and stop the feed there: not written either.
  for (const char* text : {"[1e-7]", "[0.0001]", "[100000000000000000000]"}) {
    s = CheckLimits(WithJson(text), kDefaultLimits);
    EXPECT_EQ(s.reason(), "E_JSON_VALUE") << text;
    EXPECT_NE(s.message().find("older version"), std::string::npos) << s.message();
  }
  EXPECT_TRUE(CheckLimits(WithJson("[0.5,-3,2.25]"), kDefaultLimits).ok());
}

TEST(ChangeCodecTest, AReceiverKeepsWellFormedJsonValuesAsWritten) {
  // Signed content from a peer, or stored by an earlier version whose
  // writer kept members in input order and wrote doubles as "2500.0": read
  // as it is, byte for byte, never re-encoded.
  for (const char* text : {R"([{"b":1,"a":2}])", R"([ "a" ])", "[2500.0]", R"(["a","b"])"}) {
    crdt::Change d;
    ASSERT_TRUE(DecodeOf(WithJson(text), &d).ok()) << text;
    EXPECT_EQ(d.records[0].ops.back().value, crdt::Value::JsonText(text));
  }
  // What is not JSON at all, or nested deeper than 8, is malformed.
  for (const std::string& text :
       {std::string("[1,"), std::string("'a'"), std::string(9, '[') + std::string(9, ']')}) {
    crdt::Change d;
    Status s = DecodeOf(WithJson(text), &d);
    EXPECT_EQ(s.reason(), "E_FRAME_MALFORMED") << text;
    EXPECT_NE(s.message().find("not JSON"), std::string::npos) << s.message();
  }
  crdt::Change d;
  EXPECT_TRUE(DecodeOf(WithJson(std::string(8, '[') + std::string(8, ']')), &d).ok());
}

}  // namespace
}  // namespace tuphap::replication
