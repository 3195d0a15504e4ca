// Golden vectors of the signed trust objects (docs/envelope.md): the
// certificate, the revocation with its cut, the key grant, the enrolment
// request and the enrolment file, and the public-scope records that carry
// them. See golden.h.
#include <gtest/gtest.h>

#include "node/trust.h"
#include "replication/certificate.h"
#include "replication/msgpack.h"
#include "tests/golden/golden.h"

namespace tuphap::golden {
namespace {

using replication::Certificate;
using replication::EnrollRequest;
using replication::KeyGrant;
using replication::Revocation;

constexpr const char* kDoc = "envelope.md";

// The id of the encrypted envelope vector (seq 2 of the commune's feed):
// where the revocation cuts.
constexpr const char* kCutId = "123f1b08ce5445a9c189c0f64fc577e2ee8afb365811b41c6e333f5551651c3d";
// crypto_box_seal of the data key (32 x 06) to the commune's X25519 key:
// random when made, a fixed input of the vector.
constexpr const char* kGrantSealed =
    "4be4a296e3646a985f610a3a49abb236b768af7312d38f7856072d9f056ac175"
    "49a533bac33586dcc466bfed5ad26290ebf928a70eed9b5dea4c13e71acb481c"
    "8351c91e18fc2e2c6465730c22557aab";

Certificate CommuneCertificate() {
  Certificate c;
  c.sign_key = K().commune.public_key();
  c.box_key = K().commune_box.public_key();
  c.role = replication::NodeRole::kCommune;
  c.commune = std::string(kCommune);
  c.province = std::string(kProvince);
  c.not_before_ms = kNowMs - kDayMs;
  c.not_after_ms = kNowMs + 365 * kDayMs;
  c.issuer = K().root.public_key();
  return c;
}

Revocation CommuneRevocation() {
  Revocation r;
  r.node = K().commune.public_key();
  r.reason = "máy bị mất";
  replication::RevocationCut cut{std::string(kCommune), 2, {}};
  const std::string id = Unhex(kCutId);
  std::copy(id.begin(), id.end(), cut.id.begin());
  r.cuts = {cut};
  r.issued_ms = kNowMs + 2 * kDayMs;
  r.issuer = K().root.public_key();
  return r;
}

KeyGrant CommuneGrant() {
  KeyGrant g;
  g.scope = std::string(kCommune);
  g.epoch = 1;
  g.recipient = K().commune_box.public_key();
  g.sealed = Unhex(kGrantSealed);
  g.issuer = K().root.public_key();
  return g;
}

EnrollRequest CommuneRequest() {
  EnrollRequest q;
  q.sign_key = K().commune.public_key();
  q.box_key = K().commune_box.public_key();
  q.role = replication::NodeRole::kCommune;
  q.commune = std::string(kCommune);
  q.province = std::string(kProvince);
  q.created_ms = kNowMs - 3 * kDayMs;
  q.label = "Xã Lộc Hà, máy 1";
  return q;
}

constexpr const char* kCertificate =
    "92c48b9901c4208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25d"
    "f60f5b8fc9b394c4205dfedd3b6bd47f6fa28ee15d969d5bb0ea53774d488bda"
    "f9df1c6e0124b3ef22a7636f6d6d756e65a53138353638a23432cf00000197be"
    "222c00cf0000019f1af9b400c4208a88e3dd7409f195fd52db2d3cba5d72ca67"
    "09bf1d94121bf3748801b40f6f5cc44092aa9c7fcb942f751c19afdb4573ba0c"
    "3946b3febdeda659079359d9e309c6d737c6e16f83626771ed948ce830f758c0"
    "c3ba141d77167efa1949698bbc798d04";
constexpr const char* kRevocation =
    "92c48a9601c4208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25d"
    "f60f5b8fc9b394af6dc3a1792062e1bb8b206de1baa5749193a5313835363802"
    "c420123f1b08ce5445a9c189c0f64fc577e2ee8afb365811b41c6e333f555165"
    "1c3dcf00000197cd954000c4208a88e3dd7409f195fd52db2d3cba5d72ca6709"
    "bf1d94121bf3748801b40f6f5cc4409e5454543c5606d4069ee4fa509d51573a"
    "1e1629375c3aa4afa71f4eeaf1f23f090c6d62c4df53a5064debd2589e500bc8"
    "138837cc5905575e85f629ad552705";
constexpr const char* kGrant =
    "92c49f9601a5313835363801c4205dfedd3b6bd47f6fa28ee15d969d5bb0ea53"
    "774d488bdaf9df1c6e0124b3ef22c4504be4a296e3646a985f610a3a49abb236"
    "b768af7312d38f7856072d9f056ac17549a533bac33586dcc466bfed5ad26290"
    "ebf928a70eed9b5dea4c13e71acb481c8351c91e18fc2e2c6465730c22557aab"
    "c4208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f"
    "6f5cc4407792b22cd353ff1e847f8996ab71dff1bc9837519f5b1b1dc9d8dad8"
    "42c4e7482eb9cb96b91abc5be1538f87c727c1d856e8787c7b07810142a76248"
    "f7976f09";
constexpr const char* kRequest =
    "92c4769801c4208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25d"
    "f60f5b8fc9b394c4205dfedd3b6bd47f6fa28ee15d969d5bb0ea53774d488bda"
    "f9df1c6e0124b3ef22a7636f6d6d756e65a53138353638a23432cf00000197b3"
    "d57400b558c3a3204ce1bb99632048c3a02c206dc3a1792031c4405cdfab43d1"
    "fefc3940761b3c1cfafcf6e13fadb77b8678f9d61e6bc30e3ccdf6dd35e9b099"
    "901a266ee3869a994c9b76ac2d8b988603f01dd1edc1bbbe77cf0e";
constexpr const char* kEnrolmentFile =
    "94b07475706861702d656e726f6c6d656e7401c4208a88e3dd7409f195fd52db"
    "2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c9292a463657274c4d092c4"
    "8b9901c4208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f"
    "5b8fc9b394c4205dfedd3b6bd47f6fa28ee15d969d5bb0ea53774d488bdaf9df"
    "1c6e0124b3ef22a7636f6d6d756e65a53138353638a23432cf00000197be222c"
    "00cf0000019f1af9b400c4208a88e3dd7409f195fd52db2d3cba5d72ca6709bf"
    "1d94121bf3748801b40f6f5cc44092aa9c7fcb942f751c19afdb4573ba0c3946"
    "b3febdeda659079359d9e309c6d737c6e16f83626771ed948ce830f758c0c3ba"
    "141d77167efa1949698bbc798d0492a56772616e74c4e492c49f9601a5313835"
    "363801c4205dfedd3b6bd47f6fa28ee15d969d5bb0ea53774d488bdaf9df1c6e"
    "0124b3ef22c4504be4a296e3646a985f610a3a49abb236b768af7312d38f7856"
    "072d9f056ac17549a533bac33586dcc466bfed5ad26290ebf928a70eed9b5dea"
    "4c13e71acb481c8351c91e18fc2e2c6465730c22557aabc4208a88e3dd7409f1"
    "95fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5cc4407792b22cd3"
    "53ff1e847f8996ab71dff1bc9837519f5b1b1dc9d8dad842c4e7482eb9cb96b9"
    "1abc5be1538f87c727c1d856e8787c7b07810142a76248f7976f09";

TEST(TrustGolden, Certificate) {
  ExpectVector(kDoc, "certificate", CommuneCertificate().Sign(K().root), kCertificate);
  auto c = Certificate::Parse(Unhex(kCertificate), K().root.public_key());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->sign_key, K().commune.public_key());
  EXPECT_EQ(c->box_key, K().commune_box.public_key());
  EXPECT_EQ(c->commune, kCommune);
  EXPECT_EQ(c->province, kProvince);
  EXPECT_EQ(c->not_before_ms, kNowMs - kDayMs);
  EXPECT_EQ(c->not_after_ms, kNowMs + 365 * kDayMs);
  EXPECT_FALSE(Certificate::Parse(Unhex(kCertificate), K().hub.public_key()).ok());
}

TEST(TrustGolden, RevocationCutsNameTheEnvelopeAtTheCut) {
  // [scope, last_seq, id]: the id is what keeps a thief from rewriting the
  // history below the cut (security.md), so a reader must take all three.
  ExpectVector(kDoc, "revocation", CommuneRevocation().Sign(K().root), kRevocation);
  auto r = Revocation::Parse(Unhex(kRevocation), K().root.public_key());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->cuts.size(), 1u);
  EXPECT_EQ(r->cuts[0], CommuneRevocation().cuts[0]);
  EXPECT_EQ(r->reason, "máy bị mất");
  EXPECT_EQ(r->issued_ms, kNowMs + 2 * kDayMs);
  // A cut of two elements, as docs/envelope.md once said, is refused.
  replication::MsgpackWriter body;
  body.ArrayHeader(6);
  body.Uint(1);
  body.Bin(K().commune.public_key());
  body.Str("máy bị mất");
  body.ArrayHeader(1);
  body.ArrayHeader(2);
  body.Str(kCommune);
  body.Uint(2);
  body.Uint(kNowMs + 2 * kDayMs);
  body.Bin(K().root.public_key());
  const std::string b = body.Take();
  replication::MsgpackWriter two;
  two.ArrayHeader(2);
  two.Bin(b);
  two.Bin(Bytes(K().root.Sign("tuphap/revoke/v1", b)));
  EXPECT_FALSE(Revocation::Parse(two.bytes(), K().root.public_key()).ok());
}

TEST(TrustGolden, KeyGrant) {
  ExpectVector(kDoc, "key-grant", CommuneGrant().Sign(K().root), kGrant);
  auto g = KeyGrant::Parse(Unhex(kGrant), K().root.public_key());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->scope, kCommune);
  EXPECT_EQ(g->epoch, 1u);
  EXPECT_EQ(g->recipient, K().commune_box.public_key());
  // The sealed box opens with the recipient's key, to the data key.
  auto key = replication::OpenSealedBox(K().commune_box, g->sealed);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->view(), DataKey());
  EXPECT_FALSE(replication::OpenSealedBox(K().hub_box, g->sealed).ok());
}

TEST(TrustGolden, EnrolmentRequest) {
  ExpectVector(kDoc, "enrolment-request", CommuneRequest().Sign(K().commune), kRequest);
  auto q = EnrollRequest::Parse(Unhex(kRequest));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->sign_key, K().commune.public_key());
  EXPECT_EQ(q->commune, kCommune);
  EXPECT_EQ(q->province, kProvince);
  EXPECT_EQ(q->created_ms, kNowMs - 3 * kDayMs);
  EXPECT_EQ(q->label, "Xã Lộc Hà, máy 1");
}

// The same node had it been made with `init --secondary`: its request asks
// for the secondary role, and the certificate grants it.
constexpr const char* kSecondaryRequest =
    "92c4789801c4208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25d"
    "f60f5b8fc9b394c4205dfedd3b6bd47f6fa28ee15d969d5bb0ea53774d488bda"
    "f9df1c6e0124b3ef22a97365636f6e64617279a53138353638a23432cf000001"
    "97b3d57400b558c3a3204ce1bb99632048c3a02c206dc3a1792032c4405610c7"
    "be3cb74ba77d03574cea73ac8a9df27672db8131ed6366dec1d5c572cfa9d4db"
    "d5f41adfc04af0c69050583864e013c80c6a97d9042f27f503f0e18c07";
constexpr const char* kSecondaryCertificate =
    "92c48d9901c4208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25d"
    "f60f5b8fc9b394c4205dfedd3b6bd47f6fa28ee15d969d5bb0ea53774d488bda"
    "f9df1c6e0124b3ef22a97365636f6e64617279a53138353638a23432cf000001"
    "97be222c00cf0000019f1af9b400c4208a88e3dd7409f195fd52db2d3cba5d72"
    "ca6709bf1d94121bf3748801b40f6f5cc4406d88b2a2ec6dde42d3db5216b69a"
    "635869bf757d405ebdcc6136dd386b3cb742f7b9c2b2abc9b7c320688466eea8"
    "aa6b747d4d0e55a0f247b629570f53444707";

TEST(TrustGolden, SecondaryRequestAndCertificate) {
  EnrollRequest q = CommuneRequest();
  q.role = replication::NodeRole::kCommuneSecondary;
  q.label = "Xã Lộc Hà, máy 2";
  ExpectVector(kDoc, "enrolment-request-secondary", q.Sign(K().commune), kSecondaryRequest);
  auto parsed = EnrollRequest::Parse(Unhex(kSecondaryRequest));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->role, replication::NodeRole::kCommuneSecondary);
  EXPECT_EQ(parsed->label, "Xã Lộc Hà, máy 2");

  Certificate c = CommuneCertificate();
  c.role = replication::NodeRole::kCommuneSecondary;
  ExpectVector(kDoc, "certificate-secondary", c.Sign(K().root), kSecondaryCertificate);
  auto cert = Certificate::Parse(Unhex(kSecondaryCertificate), K().root.public_key());
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->role, replication::NodeRole::kCommuneSecondary);
  EXPECT_EQ(cert->commune, kCommune);
  // The primary's certificate above reads as the primary.
  EXPECT_EQ(Certificate::Parse(Unhex(kCertificate), K().root.public_key())->role,
            replication::NodeRole::kCommune);
}

// The enrolment file as docs/envelope.md lays it out. (node_golden_test
// checks that the hub writes and the commune reads exactly this layout.)
std::string EnrolmentFile(const replication::PublicKey& root,
                          const std::vector<std::pair<std::string, std::string>>& objects) {
  replication::MsgpackWriter w;
  w.ArrayHeader(4);
  w.Str("tuphap-enrolment");
  w.Uint(1);
  w.Bin(root);
  w.ArrayHeader(static_cast<uint32_t>(objects.size()));
  for (const auto& [kind, bytes] : objects) {
    w.ArrayHeader(2);
    w.Str(kind);
    w.Bin(bytes);
  }
  return w.Take();
}

TEST(TrustGolden, EnrolmentFile) {
  ExpectVector(kDoc, "enrolment-file",
               EnrolmentFile(K().root.public_key(),
                             {{"cert", Unhex(kCertificate)}, {"grant", Unhex(kGrant)}}),
               kEnrolmentFile);
  // Read back: the root, then each object, which the node's trust takes.
  const std::string file = Unhex(kEnrolmentFile);
  replication::MsgpackReader r(file);
  r.ExpectArray(4);
  EXPECT_EQ(r.ReadStr(), "tuphap-enrolment");
  EXPECT_EQ(r.ReadUint(), 1u);
  replication::PublicKey root{};
  r.ReadBinFixed(root);
  EXPECT_EQ(root, K().root.public_key());
  node::Trust trust(root, std::string(kProvince));
  std::vector<std::string> kinds;
  const uint32_t n = r.ReadArrayHeader();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    r.ExpectArray(2);
    kinds.emplace_back(r.ReadStr());
    const std::string_view object = r.ReadBin();
    trust.Add(kinds.back() == "cert" ? node::TrustKind::kCertificate : node::TrustKind::kGrant,
              object);
  }
  r.ExpectEnd();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(kinds, (std::vector<std::string>{"cert", "grant"}));
  EXPECT_EQ(trust.rejected(), 0u);
  ASSERT_NE(trust.CertFor(K().commune.public_key()), nullptr);
  EXPECT_EQ(trust.GrantsTo(K().commune_box.public_key()).size(), 1u);
}

TEST(TrustGolden, PublicRecordIdsNameTheSubject) {
  const std::string node_hex = ToHex(Bytes(K().commune.public_key()));
  EXPECT_EQ(node::TrustRecordId(node::TrustKind::kCertificate, Unhex(kCertificate),
                                K().root.public_key()),
            "_cert-" + node_hex);
  EXPECT_EQ(
      node::TrustRecordId(node::TrustKind::kRevocation, Unhex(kRevocation), K().root.public_key()),
      "_revocation-" + node_hex);
  EXPECT_EQ(node::TrustRecordId(node::TrustKind::kGrant, Unhex(kGrant), K().root.public_key()),
            "_grant-18568-1-" + ToHex(Bytes(K().commune_box.public_key())));
}

}  // namespace
}  // namespace tuphap::golden
