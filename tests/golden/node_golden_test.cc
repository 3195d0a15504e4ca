// Golden vectors of the node's own files and names (docs/security.md: the
// node id text, the key file), and JSON values as a node writes them
// (docs/envelope.md). See golden.h.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>

#include "base/file_io.h"
#include "base/json.h"
#include "node/domain/record_json.h"
#include "node/keys.h"
#include "node/test_nodes.h"
#include "replication/msgpack.h"
#include "tests/golden/golden.h"

namespace tuphap::golden {
namespace {

using node::NodesTest;

std::optional<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// --- the node id text -----------------------------------------------------

constexpr const char* kNodeId = "R4DE-829C-AR81-88FQ-DWTR";
constexpr const char* kFingerprint = "c11ae4092c56101421f7";

TEST(NodeGolden, NodeIdText) {
  const std::string text = node::NodeIdText(K().commune.public_key());
  if (Printing()) std::cout << "node id " << text << "\n";
  EXPECT_EQ(text, kNodeId);
  ExpectVector("security.md", "node-id-fingerprint", node::KeyFingerprint(K().commune.public_key()),
               kFingerprint);
  EXPECT_NE(DocVector("security.md", "node-id-fingerprint"), "");
  std::ifstream in(std::string(TUPHAP_SOURCE_DIR) + "/docs/security.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(doc.find(kNodeId), std::string::npos) << "security.md does not show " << kNodeId;
  // The fingerprint is the first 10 bytes of BLAKE2b-256 of the key.
  EXPECT_EQ(Unhex(kFingerprint),
            Bytes(replication::Blake2b256(Bytes(K().commune.public_key()))).substr(0, 10));
  // Read back, also typed in lower case, with O for 0 and I or L for 1,
  // without dashes.
  std::string typed;
  for (char c : std::string(kNodeId)) {
    if (c == '-') continue;
    typed += c == '0' ? 'o' : c == '1' ? 'l' : static_cast<char>(std::tolower(c));
  }
  for (const std::string& t : {std::string(kNodeId), typed}) {
    auto fp = node::ParseNodeIdText(t);
    ASSERT_TRUE(fp.ok()) << t << ": " << fp.status().ToString();
    EXPECT_EQ(*fp, Unhex(kFingerprint)) << t;
  }
}

// --- the key file -----------------------------------------------------------

// Fixed inputs: libsodium's interactive Argon2id limits, the salt 16 x 0a,
// the nonce 24 x 0b, the passphrase "test-passphrase"; the commune's keys,
// no root key.
constexpr const char* kKeyFile =
    "95ab7475706861702d6b6579730202ce04000000c4100a0a0a0a0a0a0a0a0a0a"
    "0a0a0a0a0a0a0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b8c98"
    "513716801459b2f216b903eeb0379ae31168732eab9b06e94a977359304d16a4"
    "e974ff2020aa9bedb34115e1f966ba7f37cc71856c50d6f758cdff2b4e0fcc61"
    "decb6824e99f8b6da5f99dc354307bd9ff57d271c960917fc82ea8a4eced91a8"
    "56930828a2b88f0af8a419d27a837df3ac16f254d5076267e01cea97facecabd"
    "81ce82539be9afe8c0cd73e192697956f5152ba47cd23af4452bf27837a05c1e"
    "b3d5068745864fa777c05a1371715ad7311354eb129e507b739f7ffbff68ba35"
    "c7052cee1423bfff9be6bf7d4468cb";

std::string KeyFilePlain() {
  std::string plain(161, '\0');
  const auto& sign = K().commune.secret();
  std::copy(sign.data(), sign.data() + 64, plain.begin());
  const auto& box = K().commune_box.secret();
  std::copy(box.data(), box.data() + 32, plain.begin() + 64);
  return plain;  // byte 96 = 0: no root key; 97..160 zero
}

std::string KeyFileHeader(std::string_view salt) {
  replication::MsgpackWriter w;
  w.ArrayHeader(5);
  w.Str("tuphap-keys");
  w.Uint(2);
  w.Uint(crypto_pwhash_OPSLIMIT_INTERACTIVE);
  w.Uint(crypto_pwhash_MEMLIMIT_INTERACTIVE);
  w.Bin(salt);
  return w.Take();
}

std::string DeriveKey(std::string_view passphrase, std::string_view salt, uint64_t ops,
                      uint64_t mem) {
  std::string key(32, '\0');
  EXPECT_EQ(
      crypto_pwhash(reinterpret_cast<unsigned char*>(key.data()), key.size(), passphrase.data(),
                    passphrase.size(), reinterpret_cast<const unsigned char*>(salt.data()), ops,
                    mem, crypto_pwhash_ALG_ARGON2ID13),
      0);
  return key;
}

// The key file as security.md lays it out.
std::string KeyFile() {
  const std::string salt = Fill(0x0a, 16), nonce = Fill(0x0b, 24);
  const std::string header = KeyFileHeader(salt);
  const std::string key = DeriveKey("test-passphrase", salt, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                    crypto_pwhash_MEMLIMIT_INTERACTIVE);
  const std::string plain = KeyFilePlain();
  std::string sealed(plain.size() + 16, '\0');
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(sealed.data()), nullptr,
      reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
      reinterpret_cast<const unsigned char*>(header.data()), header.size(), nullptr,
      reinterpret_cast<const unsigned char*>(nonce.data()),
      reinterpret_cast<const unsigned char*>(key.data()));
  const std::string body = header + nonce + sealed;
  return body + std::string(Bytes(replication::Blake2b256(body)));
}

class KeyFileGolden : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tuphap-golden-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(KeyFileGolden, ReadsTheDocumentedFileAndWritesItsLayout) {
  const replication::SecretBytes pass("test-passphrase", 15);
  ExpectVector("security.md", "key-file", KeyFile(), kKeyFile);
  // Decode: the real reader opens the documented bytes to the keys.
  const std::string path = (dir_ / "keys").string();
  ASSERT_TRUE(WriteFileAtomic(path, Unhex(kKeyFile), 0600).ok());
  auto secrets = node::ReadKeyFile(path, pass);
  ASSERT_TRUE(secrets.ok()) << secrets.status().ToString();
  EXPECT_EQ(secrets->sign.public_key(), K().commune.public_key());
  EXPECT_EQ(secrets->box.public_key(), K().commune_box.public_key());
  EXPECT_FALSE(secrets->root.has_value());
  // Encode: what the real writer makes (its own salt and nonce) has the
  // documented header, size and checksum, and opens by the formula.
  node::NodeSecrets mine{replication::SigningKey::FromSecret(K().commune.secret().view()).value(),
                         replication::BoxKey::FromSecret(K().commune_box.secret().view()).value(),
                         std::nullopt};
  ASSERT_TRUE(node::WriteKeyFile(path, mine, pass).ok());
  const std::optional<std::string> file = ReadAll(path);
  ASSERT_TRUE(file.has_value());
  replication::MsgpackReader r(*file);
  r.ExpectArray(5);
  EXPECT_EQ(r.ReadStr(), "tuphap-keys");
  EXPECT_EQ(r.ReadUint(), 2u);
  const uint64_t ops = r.ReadUint(), mem = r.ReadUint();
  const std::string salt(r.ReadBin());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(salt.size(), 16u);
  const size_t header = r.position();
  ASSERT_EQ(file->size(), header + 24 + 161 + 16 + 32);
  EXPECT_EQ(file->substr(file->size() - 32),
            Bytes(replication::Blake2b256(file->substr(0, file->size() - 32))));
  const std::string key = DeriveKey("test-passphrase", salt, ops, mem);
  std::string plain(161, '\0');
  ASSERT_EQ(crypto_aead_xchacha20poly1305_ietf_decrypt(
                reinterpret_cast<unsigned char*>(plain.data()), nullptr, nullptr,
                reinterpret_cast<const unsigned char*>(file->data() + header + 24), 161 + 16,
                reinterpret_cast<const unsigned char*>(file->data()), header,
                reinterpret_cast<const unsigned char*>(file->data() + header),
                reinterpret_cast<const unsigned char*>(key.data())),
            0);
  EXPECT_EQ(plain, KeyFilePlain());
}

// --- JSON values as a node writes them -------------------------------------

TEST(JsonValueGolden, RecordValuesAreWrittenInCanonicalForm) {
  // What a record's JSON becomes in a change: RFC 8785, whatever the input's
  // member order or number spelling (envelope.md, JSON values).
  EXPECT_EQ(domain::ToValue(*ParseJson(R"([{"b":1,"a":[2.50,1E3]}, "x"])", nullptr)),
            crdt::Value::JsonText(R"([{"a":[2.5,1000],"b":1},"x"])"));
  EXPECT_EQ(domain::ToValue(*ParseJson(R"(["cảnh cáo","tịch thu"])", nullptr)),
            crdt::Value::JsonText(R"(["cảnh cáo","tịch thu"])"));
}

class NodeWritesGolden : public NodesTest {};

TEST_F(NodeWritesGolden, ANodeNeverWritesAJsonValueOutOfCanonicalForm) {
  auto n = Make("commune");
  // Written canonically: accepted. Not canonical, or with no canonical form
  // (2^53 + 1 is no double): refused before anything is written.
  EXPECT_TRUE(n->CreateRecord("r1", "note", "", {{"list", crdt::Value::JsonText("[1,2]")}}).ok());
  for (const char* text : {R"([{"b":1,"a":2}])", "[ 1 ]", "[9007199254740993]"}) {
    auto r = n->CreateRecord("", "note", "", {{"list", crdt::Value::JsonText(text)}});
    EXPECT_EQ(r.status().reason(), "E_JSON_VALUE") << text;
  }
  auto rec = n->GetRecord("r1");
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->state.Field("list")->Winner()->value, crdt::Value::JsonText("[1,2]"));
}

}  // namespace
}  // namespace tuphap::golden
