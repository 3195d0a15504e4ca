// Golden vectors of docs/envelope.md: the change body and the three kinds of
// envelope (draft, signed in clear, encrypted), with the digest, signature
// and id. The trust objects are in trust_golden_test.cc. See golden.h.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "replication/change_codec.h"
#include "replication/draft.h"
#include "replication/envelope.h"
#include "replication/seal.h"
#include "tests/golden/golden.h"
#include "tests/golden/objects.h"

namespace tuphap::golden {
namespace {

using replication::Envelope;

constexpr const char* kDoc = "envelope.md";

// --- the vectors (docs/envelope.md, "Test vectors") ---------------------

constexpr const char* kChangeBody =
    "94ad4cc3aa205468e1bb8b20486f61aa73e1bbad612074c3aa6e92c420ca93ac"
    "1705187071d67b83c7ff0efe8108e8ec4530575d7726879333dbdabe7cc42081"
    "39770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b39492"
    "92b431383536382d4b532d323032352d3030303030319493b5646174612e6368"
    "696c642e676976656e5f6e616d65a3416e6892930004029301010193ba646174"
    "612e726567697374726174696f6e2e656e7472795f6e6f0c9093ab646174612e"
    "666174686572c09093a9646174612e6c617465c29092b431383536382d58502d"
    "323032352d3030303030379293b9646174612e6164646974696f6e616c5f7065"
    "6e616c74696573c71c015b2263e1baa36e682063c3a16f222c2274e1bb8b6368"
    "20746875225d9093af646174612e61646a7573746d656e74fb90";
constexpr const char* kDraft =
    "93c4589800c4208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25d"
    "f60f5b8fc9b394a5313835363801c42000000000000000000000000000000000"
    "00000000000000000000000000000000cf0197c348880000000000c45294ad4c"
    "c3aa205468e1bb8b20486f61a0909192b431383536382d4b532d323032352d30"
    "30303030319293a52474797065a562697274689093b5646174612e6368696c64"
    "2e676976656e5f6e616d65a2416e90c400";
constexpr const char* kDraftId = "5196d9d7e1df3f6df35d70250777107292c25f5acd24366a6a61aa6a97e8935e";
constexpr const char* kClear =
    "93c4569801c420ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d7726"
    "879333dbdabe7ca350343201c420000000000000000000000000000000000000"
    "0000000000000000000000000000cf0197be222c0000000000c47d94a0ad7472"
    "757374206f626a65637473909192d9465f636572742d38313339373730656138"
    "3764313735663536613335343636633334633765636363623864386139316234"
    "656533376132356466363066356238666339623339349293a52474797065ac74"
    "727573745f6f626a6563749093a46b696e64a46365727490c4407e2893c172dd"
    "935e6561cf3f53f84217d02763614cd42715c990a9282f7ae4f958d88b6c1deb"
    "18a2f4cfd35b95651b7a70f555cad7cdea03cd76c7ed96617802";
constexpr const char* kClearHeader =
    "9801c420ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d7726879333"
    "dbdabe7ca350343201c420000000000000000000000000000000000000000000"
    "0000000000000000000000cf0197be222c0000000000";
constexpr const char* kClearDigest =
    "28c240d46384a8f450efc58288cb5b64af325651701b45a16dc2fab267f10b72";
constexpr const char* kClearSignature =
    "7e2893c172dd935e6561cf3f53f84217d02763614cd42715c990a9282f7ae4f9"
    "58d88b6c1deb18a2f4cfd35b95651b7a70f555cad7cdea03cd76c7ed96617802";
constexpr const char* kClearId = "709b63df93fca3b9b23e1053c0c174a00e57b12f591f7f194b1144dcfdc3eb74";
constexpr const char* kSealed =
    "93c4589801c4208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25d"
    "f60f5b8fc9b394a5313835363802c42022222222222222222222222222222222"
    "22222222222222222222222222222222cf0197c349726000010101c501620707"
    "070707070707070707070707070707070707070707075f2a58a756601f818558"
    "7a78dc8a33330a759d3ea405bcdd932c2a489b90252a9e5da2e4f4ff409eddf3"
    "6c874fda6d3ea18ea73e28069e37cf22fe5d6cacdf43fe27cb78f0a3c8152340"
    "6cca6ca8bf4695666c1c37e57040247d7aa7a4332cb73c463eae733de17483df"
    "2841a2b544356146fa920aa494aac8049e40aaec82caa656bd4dd6ea22ca6670"
    "53f860695d4697bc21fc069d6c01a9ce3e71cbc9dc1a99d034cd7f691f8cacc8"
    "0938d21a586f10b539b8f66fb4540807da9cba6a6220acd03b42e058b6a5ada5"
    "af1bd55f59b236908eac514485c8c40cd183f9d93559e2f2e80371f942edff0c"
    "53e6f454c9686c5a73568066d540e50831071a21636bb6e02e0efc95ed114191"
    "5d45ee27e07fd7845e843f78957dc09e3710242fbb84f1207d74b79e06f25106"
    "84030578e809e4e435213682b441d8319b50e5f8a6894e37b103538b3ddf269b"
    "c4401164c4d362c22f2fb2afda3d9d9e4d9619350cfbd06b570bd8ea94969867"
    "99d8ed8205132faf7ae516e3390d28a453ae32884d51ea2683062f309df37f68"
    "8602";
constexpr const char* kSealedId =
    "123f1b08ce5445a9c189c0f64fc577e2ee8afb365811b41c6e333f5551651c3d";

TEST(EnvelopeGolden, TheFixedKeysAreTheDocumentedOnes) {
  std::ifstream in(std::string(TUPHAP_SOURCE_DIR) + "/docs/envelope.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& key :
       {K().root.public_key(), K().commune.public_key(), K().commune_box.public_key(),
        K().hub.public_key(), K().hub_box.public_key()}) {
    EXPECT_NE(doc.find(ToHex(Bytes(key))), std::string::npos) << ToHex(Bytes(key));
  }
}

TEST(EnvelopeGolden, ChangeBody) {
  const crdt::Change c = SampleChange();
  ExpectVector(kDoc, "change-body", replication::EncodeChangeBody(c), kChangeBody);
  crdt::Change d;
  replication::ChangeHeaderFromEnvelope(HeaderOf(c), &d);
  ASSERT_TRUE(
      replication::DecodeChangeBody(Unhex(kChangeBody), replication::kDefaultLimits, &d).ok());
  EXPECT_EQ(d, c);
  // Op i counts from 0 over the records in order: the JSON list is op 4.
  std::vector<crdt::Dot> dots;
  c.ForEachOp(
      [&](const std::string&, const crdt::Op&, const crdt::Dot& dot) { dots.push_back(dot); });
  ASSERT_EQ(dots.size(), 6u);
  EXPECT_EQ(dots.front().index, 0u);
  EXPECT_EQ(dots[4].index, 4u);
  // The values a writer puts in are canonical JSON (RFC 8785).
  EXPECT_TRUE(replication::CheckLimits(c, replication::kDefaultLimits).ok());
}

TEST(EnvelopeGolden, Draft) {
  const Envelope e = replication::MakeDraft(DraftChange(), replication::Hash{});
  ExpectVector(kDoc, "envelope-draft", e.bytes(), kDraft);
  ExpectVector(kDoc, "envelope-draft-id", Bytes(e.hash()), kDraftId);
  auto p = Envelope::Parse(Unhex(kDraft));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->is_draft());
  EXPECT_TRUE(p->signature().empty());
  EXPECT_EQ(Bytes(p->hash()), Unhex(kDraftId));  // the id over an empty signature
  crdt::Change d;
  ASSERT_TRUE(replication::OpenDraft(*p, replication::kDefaultLimits, &d).ok());
  EXPECT_EQ(d, DraftChange());
}

TEST(EnvelopeGolden, SignedInClear) {
  const Envelope e = ClearEnvelope();
  ExpectVector(kDoc, "envelope-clear", e.bytes(), kClear);
  ExpectVector(kDoc, "envelope-clear-header", e.header_bytes(), kClearHeader);
  ExpectVector(kDoc, "envelope-clear-digest", Bytes(e.digest()), kClearDigest);
  ExpectVector(kDoc, "envelope-clear-signature", e.signature(), kClearSignature);
  ExpectVector(kDoc, "envelope-clear-id", Bytes(e.hash()), kClearId);
  auto p = Envelope::Parse(Unhex(kClear));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->header().version, replication::kSealedVersion);
  EXPECT_EQ(p->header().flags, 0u);
  EXPECT_EQ(p->header().key_epoch, 0u);
  EXPECT_TRUE(replication::SignatureValid(*p));
  EXPECT_EQ(Bytes(p->hash()), Unhex(kClearId));
  // The documented formulas, step by step.
  replication::Hasher digest;
  digest.UpdateFramed(Unhex(kClearHeader));
  digest.UpdateFramed(p->body());
  EXPECT_EQ(Bytes(digest.Final()), Unhex(kClearDigest));
  EXPECT_TRUE(replication::VerifySignature(K().hub.public_key(), "tuphap/envelope1",
                                           Unhex(kClearDigest), Unhex(kClearSignature)));
  EXPECT_EQ(Bytes(replication::Blake2b256(Unhex(kClearDigest) + Unhex(kClearSignature))),
            Unhex(kClearId));
  crdt::Change d;
  ASSERT_TRUE(replication::OpenSealed(*p, nullptr, replication::kDefaultLimits, &d).ok());
  EXPECT_EQ(d, PublicChange());
}

TEST(EnvelopeGolden, Encrypted) {
  const Envelope e = SealedEnvelope();
  ExpectVector(kDoc, "envelope-sealed", e.bytes(), kSealed);
  ExpectVector(kDoc, "envelope-sealed-id", Bytes(e.hash()), kSealedId);
  auto p = Envelope::Parse(Unhex(kSealed));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(replication::SignatureValid(*p));
  EXPECT_EQ(p->body().substr(0, 24), kNonce);
  crdt::Change d;
  ASSERT_TRUE(replication::OpenSealed(*p, reinterpret_cast<const uint8_t*>(DataKey().data()),
                                      replication::kDefaultLimits, &d)
                  .ok());
  EXPECT_EQ(d, SampleChange());
  // What the code seals with a random nonce has the same layout: the same
  // header, a body 40 bytes longer than the change body, opening to it.
  const Envelope mine =
      replication::SealBody(SealedHeader(), replication::EncodeChangeBody(SampleChange()),
                            reinterpret_cast<const uint8_t*>(DataKey().data()), 1, K().commune);
  EXPECT_EQ(mine.header_bytes(), p->header_bytes());
  EXPECT_EQ(mine.body().size(), p->body().size());
  EXPECT_EQ(mine.bytes().size(), p->bytes().size());
  EXPECT_TRUE(replication::SignatureValid(mine));
  auto opened = replication::AeadOpen(reinterpret_cast<const uint8_t*>(DataKey().data()),
                                      mine.header_bytes(), mine.body());
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, replication::EncodeChangeBody(SampleChange()));
}

}  // namespace
}  // namespace tuphap::golden
