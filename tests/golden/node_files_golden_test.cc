// The layouts only a node writes, checked both ways on real nodes (real
// key files, SQLite stores, libsodium): the enrolment request, the
// enrolment file and the bundle a real hub or commune writes follow
// docs/envelope.md and docs/protocol.md, and files made by hand from those
// documents are read by real nodes. Their keys are random, so these pin the
// layout, not the bytes; the fixed-key vectors are in the other golden
// tests. See golden.h.
#include <gtest/gtest.h>
#include <sodium.h>

#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <span>

#include "base/file_io.h"
#include "node/bundle.h"
#include "node/test_nodes.h"
#include "replication/msgpack.h"
#include "tests/golden/golden.h"

namespace tuphap::golden {
namespace {

using node::Node;
using node::NodesTest;
using node::Role;

constexpr int64_t kDay = 86'400'000;

std::optional<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class NodeFilesGolden : public NodesTest {
 protected:
  // Secrets of a real node, read from its key file.
  static const node::NodeSecrets& Secrets(Node& n) { return **n.UnlockedSecrets(); }
};

TEST_F(NodeFilesGolden, EnrolmentRequestFileIsTheSignedRequest) {
  auto commune = Make("commune");
  auto file = commune->EnrollRequestFile("máy 1");
  ASSERT_TRUE(file.ok());
  // [body, signature]: body = [1, sign_key, box_key, role, commune, province,
  // created_ms, label], signed by the node's own key under tuphap/enroll/v1.
  replication::MsgpackReader r(*file);
  r.ExpectArray(2);
  const std::string body(r.ReadBin());
  const std::string sig(r.ReadBin());
  r.ExpectEnd();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(replication::VerifySignature(commune->sign_key(), "tuphap/enroll/v1", body, sig));
  replication::MsgpackWriter want;
  want.ArrayHeader(8);
  want.Uint(1);
  want.Bin(commune->sign_key());
  want.Bin(commune->box_key());
  want.Str("commune");
  want.Str(kCommune);
  want.Str(kProvince);
  want.Uint(clock_.WallMillis());  // the node's creation time
  want.Str("máy 1");
  EXPECT_EQ(ToHex(body), ToHex(want.bytes()));
}

TEST_F(NodeFilesGolden, HubRefusesARequestNamingAnotherProvince) {
  auto hub = Make("hub", Role::kHub);
  auto commune = Make("commune");
  // The request's own signature is good; only its province is wrong (or
  // missing): a node of 18568 is in province 42.
  for (const std::string province : {"01", ""}) {
    replication::EnrollRequest q;
    q.sign_key = commune->sign_key();
    q.box_key = commune->box_key();
    q.commune = std::string(kCommune);
    q.province = province;
    q.created_ms = clock_.WallMillis();
    auto signed_request = q.Sign(Secrets(*commune).sign);
    auto e = hub->EnrollSign(signed_request, 365);
    EXPECT_EQ(e.status().code(), StatusCode::kPermissionDenied) << province;
    EXPECT_EQ(e.status().reason(), "E_NOT_AUTHORISED") << province;
    EXPECT_NE(e.status().message().find("province '" + province + "'"), std::string::npos)
        << e.status().message();
  }
  EXPECT_TRUE(hub->EnrollSign(*commune->EnrollRequestFile("x"), 365).ok());
}

TEST_F(NodeFilesGolden, EnrolmentFileBothWays) {
  auto hub = Make("hub", Role::kHub);
  auto commune = Make("commune");
  const replication::PublicKey root = Secrets(*hub).root->public_key();
  // The hub writes ["tuphap-enrolment", 1, root, [[kind, object]...]].
  auto e = hub->EnrollSign(*commune->EnrollRequestFile("x"), 365);
  ASSERT_TRUE(e.ok());
  replication::MsgpackReader r(e->file);
  r.ExpectArray(4);
  EXPECT_EQ(r.ReadStr(), "tuphap-enrolment");
  EXPECT_EQ(r.ReadUint(), 1u);
  replication::PublicKey named{};
  r.ReadBinFixed(named);
  EXPECT_EQ(named, root);
  std::map<std::string, int> kinds;
  const uint32_t n = r.ReadArrayHeader();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    r.ExpectArray(2);
    const std::string kind(r.ReadStr());
    const std::string object(r.ReadBin());
    ++kinds[kind];
    if (kind == "cert") {
      EXPECT_TRUE(replication::Certificate::Parse(object, root).ok());
    } else {
      EXPECT_EQ(kind, "grant");
      EXPECT_TRUE(replication::KeyGrant::Parse(object, root).ok());
    }
  }
  r.ExpectEnd();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(kinds["cert"], 2);   // the hub's own and the commune's
  EXPECT_EQ(kinds["grant"], 2);  // epoch 1 to the hub and to the commune

  // A file made by hand from the document, with the hub's root, is read.
  auto other = Make("other", Role::kCommune, kOtherCommune);
  replication::Certificate cert;
  cert.sign_key = other->sign_key();
  cert.box_key = other->box_key();
  cert.commune = kOtherCommune;
  cert.province = kProvince;
  cert.not_before_ms = clock_.WallMillis() - kDay;
  cert.not_after_ms = clock_.WallMillis() + kDay;
  cert.issuer = root;
  replication::KeyGrant grant;
  grant.scope = kOtherCommune;
  grant.epoch = 1;
  grant.recipient = other->box_key();
  grant.sealed = replication::SealTo(other->box_key(), Fill(0x06));
  grant.issuer = root;
  replication::MsgpackWriter w;
  w.ArrayHeader(4);
  w.Str("tuphap-enrolment");
  w.Uint(1);
  w.Bin(root);
  w.ArrayHeader(2);
  w.ArrayHeader(2);
  w.Str("grant");  // any order
  w.Bin(grant.Sign(*Secrets(*hub).root));
  w.ArrayHeader(2);
  w.Str("cert");
  w.Bin(cert.Sign(*Secrets(*hub).root));
  auto accepted = other->EnrollAccept(w.bytes());
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_TRUE(other->enrolled());
}

TEST_F(NodeFilesGolden, BundleBothWays) {
  auto hub = Make("hub", Role::kHub);
  auto commune = Make("commune");
  node::Enrol(*hub, *commune);
  const std::string path = Dir("to-commune.bundle");
  const std::string commune_id = node::NodeIdText(commune->sign_key());
  ASSERT_TRUE(node::ExportBundle(*hub, commune_id, /*all=*/true, path).ok());
  // The hub's bundle: frame(header) frame(signature) frame(chunk)..., each
  // frame a u32be length; the chunks open with the commune's X25519 key.
  const std::optional<std::string> file = ReadAll(path);
  ASSERT_TRUE(file.has_value());
  size_t pos = 0;
  auto frame = [&]() {
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i) len = (len << 8) | static_cast<uint8_t>((*file)[pos + i]);
    const std::string out = file->substr(pos + 4, len);
    pos += 4 + len;
    return out;
  };
  const std::string header = frame(), signature = frame();
  EXPECT_TRUE(replication::VerifySignature(hub->sign_key(), "tuphap/bundle/v1", header, signature));
  replication::MsgpackReader r(header);
  r.ExpectArray(6);
  EXPECT_EQ(r.ReadStr(), "tuphap-bundle");
  EXPECT_EQ(r.ReadUint(), 1u);
  replication::PublicKey sender{}, recipient{};
  r.ReadBinFixed(sender);
  r.ReadBinFixed(recipient);
  const std::string sealed(r.ReadBin());
  unsigned char ss_header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  r.ReadBinFixed(std::span<uint8_t>(ss_header, sizeof ss_header));
  r.ExpectEnd();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(sender, hub->sign_key());
  EXPECT_EQ(recipient, commune->box_key());
  auto key = replication::OpenSealedBox(Secrets(*commune).box, sealed);
  ASSERT_TRUE(key.ok());
  crypto_secretstream_xchacha20poly1305_state st;
  ASSERT_EQ(crypto_secretstream_xchacha20poly1305_init_pull(&st, ss_header, key->data()), 0);
  size_t envelopes = 0;
  unsigned char tag = 0;
  while (pos < file->size()) {
    ASSERT_NE(tag, crypto_secretstream_xchacha20poly1305_TAG_FINAL) << "bytes after the end";
    const std::string c = frame();
    std::string plain(c.size() - crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
    ASSERT_EQ(crypto_secretstream_xchacha20poly1305_pull(
                  &st, reinterpret_cast<unsigned char*>(plain.data()), nullptr, &tag,
                  reinterpret_cast<const unsigned char*>(c.data()), c.size(),
                  reinterpret_cast<const unsigned char*>(header.data()), header.size()),
              0);
    replication::MsgpackReader cr(plain);
    const uint32_t n = cr.ReadArrayHeader();
    for (uint32_t i = 0; i < n; ++i)
      EXPECT_TRUE(replication::Envelope::Parse(std::string(cr.ReadBin())).ok());
    envelopes += n;
  }
  EXPECT_EQ(tag, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
  EXPECT_EQ(envelopes, node::Envelopes(*hub).size());

  // A bundle made by hand from the document is imported: the hub's public
  // feed, to a second commune node of the hub's.
  auto second = MakeSecondary("second");
  node::Enrol(*hub, *second);
  std::string stream_key(32, '\0');
  replication::RandomBytes(stream_key.data(), stream_key.size());
  replication::MsgpackWriter hw;
  hw.ArrayHeader(6);
  hw.Str("tuphap-bundle");
  hw.Uint(1);
  hw.Bin(hub->sign_key());
  hw.Bin(second->box_key());
  hw.Bin(replication::SealTo(second->box_key(), stream_key));
  std::string mine_header(crypto_secretstream_xchacha20poly1305_HEADERBYTES, '\0');
  crypto_secretstream_xchacha20poly1305_init_push(
      &st, reinterpret_cast<unsigned char*>(mine_header.data()),
      reinterpret_cast<const unsigned char*>(stream_key.data()));
  hw.Bin(mine_header);
  const std::string h = hw.Take();
  replication::MsgpackWriter chunk;
  const auto all = node::Envelopes(*hub, "P" + std::string(kProvince));
  chunk.ArrayHeader(static_cast<uint32_t>(all.size()));
  for (const auto& env : all) chunk.Bin(env.bytes());
  std::string c(chunk.bytes().size() + crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
  crypto_secretstream_xchacha20poly1305_push(
      &st, reinterpret_cast<unsigned char*>(c.data()), nullptr,
      reinterpret_cast<const unsigned char*>(chunk.bytes().data()), chunk.bytes().size(),
      reinterpret_cast<const unsigned char*>(h.data()), h.size(),
      crypto_secretstream_xchacha20poly1305_TAG_FINAL);
  auto u32 = [](size_t n) {
    std::string out;
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    return out;
  };
  const replication::Signature sig = Secrets(*hub).sign.Sign("tuphap/bundle/v1", h);
  const std::string mine =
      u32(h.size()) + h + u32(64) + std::string(Bytes(sig)) + u32(c.size()) + c;
  ASSERT_TRUE(WriteFileAtomic(Dir("mine.bundle"), mine).ok());
  auto imported = node::ImportBundle(*second, Dir("mine.bundle"));
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->envelopes, all.size());
  EXPECT_EQ(imported->report.refused, 0u);
}

}  // namespace
}  // namespace tuphap::golden
