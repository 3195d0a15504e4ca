#include "replication/protocol.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "replication/msgpack.h"

namespace tuphap::replication {
namespace {

FeedHeadWire Head(uint8_t b, const std::string& scope, uint64_t seq) {
  FeedHeadWire h;
  h.origin.bytes.fill(b);
  h.scope = scope;
  h.seq = seq;
  h.hash.fill(static_cast<uint8_t>(b + 1));
  return h;
}

TEST(ProtocolTest, every_message_round_trips_byte_for_byte) {
  Hello hello;
  hello.node.fill(7);
  hello.role = "commune";
  hello.heads = {Head(1, "22333", 5), Head(2, "P56", 1)};
  Batch batch{9, {"abc", std::string(1000, 'x')}};
  Ack ack{9, 1, {Head(1, "22333", 6)}, {}};
  Query query{3, "recon.roots",
              std::string("\x91\xa5"
                          "22333",
                          7)};
  Answer answer{3, std::string(5000, 'a')};
  std::vector<Message> all{hello, batch, ack, Done{}, ErrorMessage{"E_PROTOCOL", "bad"},
                           query, answer};
  for (const Message& m : all) {
    const std::string bytes = Encode(m);
    auto back = Decode(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->index(), m.index());
    EXPECT_EQ(Encode(*back), bytes);
  }
  EXPECT_EQ(std::get<Hello>(*Decode(Encode(hello))).heads, hello.heads);
  EXPECT_EQ(std::get<Query>(*Decode(Encode(query))).body, query.body);
  EXPECT_EQ(PeekType(Encode(hello)), 1u);
  EXPECT_EQ(PeekType(Encode(query)), 6u);
  EXPECT_EQ(PeekType("\xc1 garbage"), 0u);
  EXPECT_EQ(PeekType(""), 0u);
  EXPECT_EQ(std::get<Answer>(*Decode(Encode(answer))).body, answer.body);
}

TEST(ProtocolTest, malformed_frames_are_refused_with_their_code) {
  EXPECT_EQ(Decode("").status().reason(), "E_PROTOCOL");
  EXPECT_EQ(Decode("\x91\x04junk").status().reason(), "E_PROTOCOL");  // trailing bytes
  EXPECT_EQ(Decode("\x92\x04\x00").status().reason(), "E_PROTOCOL");  // DONE with 2 elements
  EXPECT_EQ(Decode("\x91\x63").status().reason(), "E_UNKNOWN_MESSAGE");
  EXPECT_EQ(Decode("\x91\xcd\x01\x01").status().reason(), "E_UNKNOWN_MESSAGE");  // 257
  // A BATCH claiming more envelopes than the limit, before any is read.
  MsgpackWriter w;
  w.ArrayHeader(3);
  w.Uint(2);
  w.Uint(1);
  w.ArrayHeader(kMaxBatchEnvelopes + 1);
  EXPECT_EQ(Decode(w.Take()).status().reason(), "E_PROTOCOL");
  // Non-canonical: a small integer written as uint64.
  EXPECT_EQ(Decode(std::string("\x91\xcf\x00\x00\x00\x00\x00\x00\x00\x04", 10)).status().reason(),
            "E_PROTOCOL");
  EXPECT_EQ(Decode(std::string(kMaxFrameBytes + 1, '\x90')).status().reason(), "E_PROTOCOL");
  // A QUERY whose body is over its limit, refused before it is copied.
  MsgpackWriter q;
  q.ArrayHeader(4);
  q.Uint(6);
  q.Uint(1);
  q.Str("recon.roots");
  q.Bin(std::string(kMaxQueryBytes + 1, 'x'));
  EXPECT_EQ(Decode(q.Take()).status().reason(), "E_PROTOCOL");
}

// `n` heads of distinct feeds, as a national tier would hold them.
std::vector<FeedHeadWire> ManyHeads(size_t n) {
  std::vector<FeedHeadWire> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    FeedHeadWire h;
    const Hash o = Blake2b256("origin-" + std::to_string(i / 4));
    std::copy(o.begin(), o.end(), h.origin.bytes.begin());
    h.scope = std::to_string(10000 + i % 4 * 1000 + i / 4 % 997);
    h.seq = 1 + i % 5000;
    h.hash = Blake2b256("head-" + std::to_string(i));
    out.push_back(std::move(h));
  }
  return out;
}

TEST(ProtocolTest, summary_hello_and_heads_round_trip_byte_for_byte) {
  Hello hello;
  hello.version = kSummaryVersion;
  hello.node.fill(7);
  hello.role = "hub";
  hello.summary = Summarise({Head(1, "22333", 5), Head(2, "P56", 1), Head(3, "22366", 300)}, 2);
  ASSERT_EQ(hello.summary->buckets.size(), 4u);
  HeadsMessage heads{true, {Head(1, "22333", 5)}};
  HeadsMessage empty{false, {}};
  for (const Message& m : std::vector<Message>{hello, heads, empty}) {
    const std::string bytes = Encode(m);
    auto back = Decode(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->index(), m.index());
    EXPECT_EQ(Encode(*back), bytes);
  }
  const auto back = std::get<Hello>(*Decode(Encode(hello)));
  EXPECT_EQ(back.version, 2u);
  EXPECT_EQ(back.summary, hello.summary);
  EXPECT_TRUE(back.heads.empty());
  EXPECT_EQ(std::get<HeadsMessage>(*Decode(Encode(heads))).heads, heads.heads);
  EXPECT_TRUE(std::get<HeadsMessage>(*Decode(Encode(heads))).last);
  EXPECT_EQ(PeekType(Encode(heads)), 8u);
  // The version-1 form is unchanged: no summary, array(5).
  Hello v1;
  v1.role = "commune";
  v1.heads = {Head(1, "22333", 5)};
  EXPECT_EQ(static_cast<uint8_t>(Encode(v1)[0]), 0x95);
  EXPECT_FALSE(std::get<Hello>(*Decode(Encode(v1))).summary.has_value());
}

TEST(ProtocolTest, a_hello_for_100000_feeds_stays_under_64_KB) {
  const auto heads = ManyHeads(100000);
  const uint32_t bits = SummaryBits(heads.size());
  EXPECT_EQ(bits, kMaxSummaryBits);
  Hello hello;
  hello.version = kSummaryVersion;
  hello.node.fill(7);
  hello.role = "hub";
  hello.summary = Summarise(heads, bits);
  const std::string frame = Encode(hello);
  EXPECT_LT(frame.size(), 64u * 1024);
  // The full form would be over the frame limit of version 1 (20,000 heads).
  Hello full;
  full.role = "hub";
  full.heads = heads;
  EXPECT_GT(Encode(full).size(), 64u * 1024 * 100);
  uint64_t total = 0;
  for (const auto& b : hello.summary->buckets) total += b.count;
  EXPECT_EQ(total, heads.size());
  std::printf("HELLO of 100,000 heads: %zu bytes summarised (bits %u), %zu full\n", frame.size(),
              bits, Encode(full).size());
}

TEST(ProtocolTest, summaries_agree_on_equal_sets_in_any_order_and_differ_where_a_head_differs) {
  auto heads = ManyHeads(5000);
  const uint32_t bits = SummaryBits(heads.size());
  EXPECT_EQ(bits, 7u);  // 5,000 / 128 buckets: 39 on average, at most 64
  EXPECT_EQ(SummaryBits(0), 0u);
  EXPECT_EQ(SummaryBits(64), 0u);
  EXPECT_EQ(SummaryBits(65), 1u);
  EXPECT_EQ(SummaryBits(513), 4u);
  EXPECT_EQ(SummaryBits(10'000'000), kMaxSummaryBits);
  const HeadsSummary a = Summarise(heads, bits);
  std::mt19937 rng(7);
  std::shuffle(heads.begin(), heads.end(), rng);
  EXPECT_EQ(Summarise(heads, bits), a);
  // One head moves on: its bucket alone differs.
  heads[10].seq += 1;
  const HeadsSummary b = Summarise(heads, bits);
  const uint32_t moved = SummaryBucket(heads[10].origin, heads[10].scope, bits);
  for (size_t i = 0; i < a.buckets.size(); ++i)
    EXPECT_EQ(a.buckets[i] == b.buckets[i], i != moved) << "bucket " << i;
  // A bucket's digest: BLAKE2b-256 of its heads as a msgpack array, sorted
  // by origin then scope, first 16 bytes.
  const auto split = SplitIntoBuckets(heads, bits);
  const auto& bucket = split[moved];
  ASSERT_FALSE(bucket.empty());
  Hello just;  // the heads' bytes as a HELLO writes them, from its 5th element on
  just.heads = bucket;
  const std::string bytes = Encode(just);
  const size_t at = bytes.size() - [&] {
    MsgpackWriter w;
    w.ArrayHeader(static_cast<uint32_t>(bucket.size()));
    for (const auto& h : bucket) {
      w.ArrayHeader(4);
      w.Bin(h.origin.bytes);
      w.Str(h.scope);
      w.Uint(h.seq);
      w.Bin(h.hash);
    }
    return w.bytes().size();
  }();
  const Hash d = Blake2b256(std::string_view(bytes).substr(at));
  EXPECT_TRUE(
      std::equal(b.buckets[moved].digest.begin(), b.buckets[moved].digest.end(), d.begin()));
  for (size_t i = 1; i < bucket.size(); ++i)
    EXPECT_LT(std::string(reinterpret_cast<const char*>(bucket[i - 1].origin.bytes.data()), 32) +
                  bucket[i - 1].scope,
              std::string(reinterpret_cast<const char*>(bucket[i].origin.bytes.data()), 32) +
                  bucket[i].scope);
}

TEST(ProtocolTest, summary_bounds_are_checked_before_allocating) {
  auto hello_with = [](uint64_t version, uint32_t heads, uint64_t bits, uint32_t buckets,
                       uint64_t count) {
    MsgpackWriter w;
    w.ArrayHeader(6);
    w.Uint(1);
    w.Uint(version);
    w.Bin(std::string(32, 'n'));
    w.Str("hub");
    w.ArrayHeader(heads);
    for (uint32_t i = 0; i < heads; ++i) {
      w.ArrayHeader(4);
      w.Bin(std::string(32, 'o'));
      w.Str("22333");
      w.Uint(1);
      w.Bin(std::string(32, 'h'));
    }
    w.ArrayHeader(2);
    w.Uint(bits);
    w.ArrayHeader(buckets);
    for (uint32_t i = 0; i < buckets; ++i) {
      w.ArrayHeader(2);
      w.Uint(count);
      w.Bin(std::string(16, 'd'));
    }
    return w.Take();
  };
  EXPECT_TRUE(Decode(hello_with(2, 0, 3, 8, 10)).ok());
  EXPECT_EQ(Decode(hello_with(1, 0, 3, 8, 10)).status().reason(), "E_PROTOCOL");     // 6 is v2
  EXPECT_EQ(Decode(hello_with(2, 1, 3, 8, 10)).status().reason(), "E_PROTOCOL");     // heads too
  EXPECT_EQ(Decode(hello_with(2, 0, 12, 4096, 1)).status().reason(), "E_PROTOCOL");  // bits
  EXPECT_EQ(Decode(hello_with(2, 0, 3, 7, 10)).status().reason(), "E_PROTOCOL");     // not 2^bits
  EXPECT_EQ(Decode(hello_with(2, 0, 3, 9, 10)).status().reason(), "E_PROTOCOL");
  // Counts summing beyond 150,000 heads.
  EXPECT_TRUE(Decode(hello_with(2, 0, 3, 8, kMaxSummaryHeads / 8)).ok());
  EXPECT_EQ(Decode(hello_with(2, 0, 3, 8, kMaxSummaryHeads / 8 + 1)).status().reason(),
            "E_PROTOCOL");
  EXPECT_EQ(Decode(hello_with(2, 0, 0, 1, UINT64_MAX)).status().reason(), "E_PROTOCOL");
  // HEADS: more than the limit, before any is read; the wrong shape.
  MsgpackWriter w;
  w.ArrayHeader(3);
  w.Uint(8);
  w.Bool(false);
  w.ArrayHeader(kMaxHeadsMessageHeads + 1);
  EXPECT_EQ(Decode(w.Take()).status().reason(), "E_PROTOCOL");
  EXPECT_EQ(Decode("\x92\x08\xc3").status().reason(), "E_PROTOCOL");
  EXPECT_EQ(Decode("\x93\x08\x01\x90").status().reason(), "E_PROTOCOL");  // last not a bool
  EXPECT_TRUE(Decode("\x93\x08\xc3\x90").ok());
  EXPECT_EQ(Decode("\x91\x09").status().reason(), "E_UNKNOWN_MESSAGE");
}

TEST(ProtocolTest, receipt_signature_covers_the_acknowledged_heads) {
  SigningKey hub = SigningKey::Generate();
  Ack ack{3, 0, {Head(1, "22333", 10)}, {}};
  SignReceipt(&ack, hub);
  EXPECT_TRUE(ReceiptValid(ack, hub.public_key()));
  auto back = Decode(Encode(ack));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(ReceiptValid(std::get<Ack>(*back), hub.public_key()));
  Ack forged = ack;
  forged.heads[0].seq = 11;
  EXPECT_FALSE(ReceiptValid(forged, hub.public_key()));
  EXPECT_FALSE(ReceiptValid(ack, SigningKey::Generate().public_key()));
}

}  // namespace
}  // namespace tuphap::replication
