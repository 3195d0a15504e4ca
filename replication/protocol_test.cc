#include "replication/protocol.h"

#include <gtest/gtest.h>

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
