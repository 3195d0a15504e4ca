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
  h.version = kSealedVersion;
  h.key_epoch = 2;
  h.flags = kFlagEncrypted;
  return h;
}

const std::string kSig(64, 's');

TEST(EnvelopeTest, AssembleThenParseKeepsBytesAndParts) {
  Envelope e = Envelope::Assemble(SampleHeader(), "body-bytes", kSig);
  auto p = Envelope::Parse(e.bytes());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->header(), SampleHeader());
  EXPECT_EQ(p->body(), "body-bytes");
  EXPECT_EQ(p->bytes(), e.bytes());
  EXPECT_EQ(p->hash(), e.hash());
  EXPECT_EQ(p->digest(), SigningDigest(EncodeHeader(SampleHeader()), "body-bytes"));
  EXPECT_EQ(p->hash(), EnvelopeId(p->digest(), kSig));
  // The id covers the signature too; the digest does not.
  const Envelope other_sig = Envelope::Assemble(SampleHeader(), "body-bytes", std::string(64, 't'));
  EXPECT_NE(other_sig.hash(), e.hash());
  EXPECT_EQ(other_sig.digest(), e.digest());
  EXPECT_NE(Envelope::Assemble(SampleHeader(), "body-bytes!", kSig).hash(), e.hash());
  EXPECT_EQ(p->header_bytes(), EncodeHeader(SampleHeader()));
  EXPECT_FALSE(p->is_draft());
}

TEST(EnvelopeTest, OversizeIsRefusedBeforeDecoding) {
  Limits small;
  small.max_envelope_bytes = 100;
  Envelope e = Envelope::Assemble(SampleHeader(), std::string(200, 'x'), kSig);
  auto p = Envelope::Parse(e.bytes(), small);
  EXPECT_EQ(p.status().reason(), "E_LIMIT_SIZE");
}

TEST(EnvelopeTest, TrailingBytesAndTruncationAreRefused) {
  Envelope e = Envelope::Assemble(SampleHeader(), "b", kSig);
  EXPECT_EQ(Envelope::Parse(e.bytes() + "x").status().reason(), "E_FRAME_MALFORMED");
  for (size_t n = 0; n < e.bytes().size(); ++n) {
    EXPECT_FALSE(Envelope::Parse(e.bytes().substr(0, n)).ok());
  }
}

TEST(EnvelopeTest, UnknownVersionSeqZeroAndMisshapenSignaturesAreRefused) {
  EnvelopeHeader h = SampleHeader();
  h.version = 7;
  EXPECT_FALSE(Envelope::Parse(Envelope::Assemble(h, "b", kSig).bytes()).ok());
  h = SampleHeader();
  h.seq = 0;
  EXPECT_FALSE(Envelope::Parse(Envelope::Assemble(h, "b", kSig).bytes()).ok());
  h = SampleHeader();
  h.flags = 6;  // unknown flag bits
  EXPECT_FALSE(Envelope::Parse(Envelope::Assemble(h, "b", kSig).bytes()).ok());
  // A sealed envelope without its signature, a draft with one.
  EXPECT_FALSE(Envelope::Parse(Envelope::Assemble(SampleHeader(), "b", "").bytes()).ok());
  EXPECT_FALSE(Envelope::Parse(Envelope::Assemble(SampleHeader(), "b", kSig + "x").bytes()).ok());
  h = SampleHeader();
  h.version = kDraftVersion;
  h.key_epoch = 0;
  h.flags = 0;
  EXPECT_TRUE(Envelope::Parse(Envelope::Assemble(h, "b", "").bytes()).ok());
  EXPECT_FALSE(Envelope::Parse(Envelope::Assemble(h, "b", kSig).bytes()).ok());
}

}  // namespace
}  // namespace tuphap::replication
