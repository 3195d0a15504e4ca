#include "replication/seal.h"

#include <gtest/gtest.h>

#include <optional>

#include "replication/certificate.h"
#include "replication/change_codec.h"

namespace tuphap::replication {
namespace {

crdt::Change SampleChange(const SigningKey& k, uint64_t seq) {
  crdt::Change c;
  c.origin.bytes = k.public_key();
  c.scope = "22333";
  c.seq = seq;
  c.hlc = crdt::Hlc::FromParts(1'751'328'000'000 + seq, 0);
  c.officer = "Lê Văn Nam";
  c.records = {{"r" + std::to_string(seq), {{"data.notes", crdt::Value::String("x"), {}}}}};
  return c;
}

// A feed of `n` sealed envelopes.
std::vector<Envelope> Feed(const SigningKey& k, const SymmetricKey& key, int n) {
  std::vector<Envelope> out;
  Hash prev{};
  for (int i = 1; i <= n; ++i) {
    const crdt::Change c = SampleChange(k, static_cast<uint64_t>(i));
    EnvelopeHeader h;
    h.scope = c.scope;
    h.seq = c.seq;
    h.prev = prev;
    h.hlc = c.hlc;
    out.push_back(SealBody(h, EncodeChangeBody(c), key.data(), 1, k));
    prev = out.back().hash();
  }
  return out;
}

std::vector<const Envelope*> Ptrs(const std::vector<Envelope>& v) {
  std::vector<const Envelope*> p;
  for (const auto& e : v) p.push_back(&e);
  return p;
}

// Flips one bit of byte `at` of a region of `e` and reparses; nullopt when
// the result no longer parses (refused before any signature check).
std::optional<Envelope> Flip(const Envelope& e, std::string_view region, size_t at) {
  std::string bytes = e.bytes();
  const size_t off = static_cast<size_t>(region.data() - e.bytes().data()) + at;
  bytes[off] = static_cast<char>(bytes[off] ^ 0x01);
  auto p = Envelope::Parse(std::move(bytes));
  if (!p.ok()) return std::nullopt;
  return *p;
}

bool Refused(const std::optional<Envelope>& e) { return !e || !SignatureValid(*e); }

class SealTest : public testing::Test {
 protected:
  SealTest() : signer_(SigningKey::Generate()) { RandomBytes(key_.data(), key_.size()); }
  SigningKey signer_;
  SymmetricKey key_{};
};

TEST_F(SealTest, sealed_envelope_opens_with_the_scope_key_only) {
  const auto feed = Feed(signer_, key_, 1);
  const Envelope& e = feed[0];
  EXPECT_FALSE(e.is_draft());
  EXPECT_EQ(e.header().flags, kFlagEncrypted);
  EXPECT_EQ(e.body().find("Lê Văn Nam"), std::string::npos);  // not in clear
  EXPECT_TRUE(SignatureValid(e));
  crdt::Change c;
  ASSERT_TRUE(OpenSealed(e, key_.data(), kDefaultLimits, &c).ok());
  EXPECT_EQ(c.officer, "Lê Văn Nam");
  EXPECT_EQ(c.seq, 1u);
  SymmetricKey other{};
  EXPECT_EQ(OpenSealed(e, other.data(), kDefaultLimits, &c).reason(), "E_DECRYPT");
  EXPECT_EQ(OpenSealed(e, nullptr, kDefaultLimits, &c).reason(), "E_NO_KEY");
}

TEST_F(SealTest, forged_signature_header_or_body_tampering_is_detected) {
  const Envelope e = Feed(signer_, key_, 1)[0];
  // Another key signing the same bytes under the origin's name.
  const SigningKey forger = SigningKey::Generate();
  const Signature forged = forger.Sign(kSignEnvelope, AsBytes(e.digest()));
  const Envelope forgery = Envelope::Assemble(
      e.header(), e.body(), std::string_view(reinterpret_cast<const char*>(forged.data()), 64));
  EXPECT_FALSE(SignatureValid(forgery));
  // One bit anywhere in header, body or signature.
  for (size_t i = 0; i < e.header_bytes().size(); ++i)
    EXPECT_TRUE(Refused(Flip(e, e.header_bytes(), i))) << "header byte " << i;
  for (size_t i = 0; i < e.body().size(); i += 7)
    EXPECT_TRUE(Refused(Flip(e, e.body(), i))) << "body byte " << i;
  EXPECT_TRUE(Refused(Flip(e, e.signature(), 10)));
  // A body swapped in with a valid encryption but the old signature.
  crdt::Change c = SampleChange(signer_, 1);
  c.officer = "Kẻ Mạo Danh";
  const std::string other_body = AeadSeal(key_.data(), e.header_bytes(), EncodeChangeBody(c));
  EXPECT_FALSE(SignatureValid(Envelope::Assemble(e.header(), other_body, e.signature())));
  // The same signature under another context (a certificate's) is not valid.
  const Signature wrong_ctx = signer_.Sign(kSignCertificate, AsBytes(e.digest()));
  EXPECT_FALSE(SignatureValid(
      Envelope::Assemble(e.header(), e.body(),
                         std::string_view(reinterpret_cast<const char*>(wrong_ctx.data()), 64))));
}

TEST_F(SealTest, run_verification_checks_one_signature_per_unbroken_run) {
  const auto feed = Feed(signer_, key_, 50);
  const auto ptrs = Ptrs(feed);
  const RunVerification v = VerifyRuns(ptrs);
  EXPECT_EQ(v.signatures_checked, 1u);
  for (bool ok : v.valid) EXPECT_TRUE(ok);
}

TEST_F(SealTest, run_with_any_envelope_altered_is_refused) {
  const auto feed = Feed(signer_, key_, 12);
  for (size_t k = 0; k < feed.size(); ++k) {
    for (int part = 0; part < 3; ++part) {
      std::vector<Envelope> run = feed;
      const Envelope& e = feed[k];
      // The last header byte is the flags: 1 -> 0 still parses.
      const auto altered = part == 0   ? Flip(e, e.header_bytes(), e.header_bytes().size() - 1)
                           : part == 1 ? Flip(e, e.body(), e.body().size() / 2)
                                       : Flip(e, e.signature(), 5);
      ASSERT_TRUE(altered.has_value());
      run[k] = *altered;
      const RunVerification v = VerifyRuns(Ptrs(run));
      EXPECT_FALSE(v.valid[k]) << "altered envelope " << k << " part " << part << " accepted";
      // Everything before it is still vouched for by its own signatures.
      for (size_t i = 0; i < k; ++i) EXPECT_TRUE(v.valid[i]) << i;
      // After it: signed by the origin, so valid on their own (the chain
      // check then holds them as a gap).
      for (size_t i = k + 1; i < run.size(); ++i) EXPECT_TRUE(v.valid[i]) << i;
    }
  }
}

TEST_F(SealTest, interleaved_feeds_and_drafts_form_separate_envelope_runs) {
  const SigningKey other = SigningKey::Generate();
  const auto a = Feed(signer_, key_, 3);
  const auto b = Feed(other, key_, 3);
  crdt::Change d = SampleChange(other, 9);
  const Envelope draft = Envelope::Assemble(
      [&] {
        EnvelopeHeader h;
        h.origin = d.origin;
        h.scope = d.scope;
        h.seq = 9;
        return h;
      }(),
      EncodeChangeBody(d), "");
  std::vector<const Envelope*> mixed = {&a[0], &a[1], &b[0], &b[1], &draft, &b[2], &a[2]};
  const RunVerification v = VerifyRuns(mixed);
  EXPECT_EQ(v.valid, (std::vector<bool>{true, true, true, true, false, true, true}));
  EXPECT_EQ(v.signatures_checked, 4u);  // a[0..1], b[0..1], b[2], a[2]
}

TEST(TrustObjectTest, certificate_revocation_grant_and_enrolment_request_check_their_signature) {
  const SigningKey root = SigningKey::Generate();
  const SigningKey node = SigningKey::Generate();
  const BoxKey box = BoxKey::Generate();
  EnrollRequest q{
      node.public_key(), box.public_key(), NodeRole::kCommune, "22333", "56", 7, "desk"};
  const std::string qb = q.Sign(node);
  auto q2 = EnrollRequest::Parse(qb);
  ASSERT_TRUE(q2.ok()) << q2.status().ToString();
  EXPECT_EQ(q2->commune, "22333");
  // A request signed by a key other than the one it names.
  EXPECT_EQ(EnrollRequest::Parse(q.Sign(root)).status().reason(), "E_BAD_SIGNATURE");

  Certificate c{node.public_key(), box.public_key(), NodeRole::kCommune, "22333", "56", 1, 2, {}};
  const std::string cb = c.Sign(root);
  auto c2 = Certificate::Parse(cb, root.public_key());
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->issuer, root.public_key());
  EXPECT_EQ(Certificate::Parse(cb, node.public_key()).status().reason(), "E_BAD_SIGNATURE");
  std::string tampered = cb;
  tampered[10] = static_cast<char>(tampered[10] ^ 1);
  EXPECT_FALSE(Certificate::Parse(tampered, root.public_key()).ok());

  Hash at_cut{};
  at_cut[0] = 7;
  Revocation r{node.public_key(), "laptop stolen", {{"22333", 5, at_cut}, {"22334", 0, {}}}, 9, {}};
  auto r2 = Revocation::Parse(r.Sign(root), root.public_key());
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->CutFor("22333"), 5u);
  EXPECT_EQ(r2->CutFor("99999"), 0u);
  EXPECT_EQ(r2->FindCut("22333")->id, at_cut);

  SymmetricKey data{};
  RandomBytes(data.data(), data.size());
  KeyGrant g{
      "22333",
      2,
      box.public_key(),
      SealTo(box.public_key(), std::string_view(reinterpret_cast<const char*>(data.data()), 32)),
      {}};
  auto g2 = KeyGrant::Parse(g.Sign(root), root.public_key());
  ASSERT_TRUE(g2.ok());
  auto opened = OpenSealedBox(box, g2->sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->view(), std::string_view(reinterpret_cast<const char*>(data.data()), 32));
  EXPECT_FALSE(OpenSealedBox(BoxKey::Generate(), g2->sealed).ok());
  // A grant signed by someone else (a courier sealing a key of their own).
  EXPECT_EQ(KeyGrant::Parse(g.Sign(node), root.public_key()).status().reason(), "E_BAD_SIGNATURE");
}

}  // namespace
}  // namespace tuphap::replication
