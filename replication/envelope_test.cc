#include "replication/envelope.h"

#include <gtest/gtest.h>

namespace tuphap::replication {
namespace {

EnvelopeHeader SampleHeader() {
  EnvelopeHeader h;
  h.origin = crdt::ReplicaId::ForTest(3);
  h.scope = "18568";
  h.seq = 12;
  h.prev = Blake2b256("previous");
  h.hlc = crdt::Hlc::FromParts(1'751'328'000'000, 1);
  h.key_epoch = 2;
  return h;
}

TEST(EnvelopeTest, AssembleThenParseKeepsBytesAndParts) {
  Envelope e = Envelope::Assemble(SampleHeader(), "body-bytes", "");
  auto p = Envelope::Parse(e.bytes());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->header(), SampleHeader());
  EXPECT_EQ(p->body(), "body-bytes");
  EXPECT_EQ(p->bytes(), e.bytes());
  EXPECT_EQ(p->hash(), e.hash());
  EXPECT_EQ(p->hash(), EnvelopeId(EncodeHeader(SampleHeader()), "body-bytes"));
  // The signature is not part of the id.
  EXPECT_EQ(Envelope::Assemble(SampleHeader(), "body-bytes", std::string(64, 's')).hash(),
            e.hash());
  EXPECT_NE(Envelope::Assemble(SampleHeader(), "body-bytes!", "").hash(), e.hash());
  EXPECT_EQ(p->header_bytes(), EncodeHeader(SampleHeader()));
  EXPECT_TRUE(p->is_draft());
}

TEST(EnvelopeTest, OversizeIsRefusedBeforeDecoding) {
  Limits small;
  small.max_envelope_bytes = 100;
  Envelope e = Envelope::Assemble(SampleHeader(), std::string(200, 'x'), "");
  auto p = Envelope::Parse(e.bytes(), small);
  EXPECT_EQ(p.status().reason(), "E_LIMIT_SIZE");
}

TEST(EnvelopeTest, TrailingBytesAndTruncationAreRefused) {
  Envelope e = Envelope::Assemble(SampleHeader(), "b", "");
  EXPECT_EQ(Envelope::Parse(e.bytes() + "x").status().reason(), "E_FRAME_MALFORMED");
  for (size_t n = 0; n < e.bytes().size(); ++n) {
    EXPECT_FALSE(Envelope::Parse(e.bytes().substr(0, n)).ok());
  }
}

TEST(EnvelopeTest, UnknownVersionAndSeqZeroAreRefused) {
  EnvelopeHeader h = SampleHeader();
  h.version = 7;
  EXPECT_FALSE(Envelope::Parse(Envelope::Assemble(h, "b", "").bytes()).ok());
  h = SampleHeader();
  h.seq = 0;
  EXPECT_FALSE(Envelope::Parse(Envelope::Assemble(h, "b", "").bytes()).ok());
}

}  // namespace
}  // namespace tuphap::replication
