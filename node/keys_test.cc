// The key file: damage told apart from a wrong passphrase, and no limit in
// it used before it is known to be one tuphap writes.
#include "node/keys.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "base/file_io.h"
#include "node/test_keys.h"
#include "replication/hash.h"
#include "replication/msgpack.h"

namespace tuphap::node {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

long MaxRssKiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

class KeyFileTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("tuphap-keys-" + std::to_string(getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // A format-1 key file as tuphap wrote it before the checksum: header
  // [magic, 1, ops, mem, salt] then the sealed secrets.
  std::string FormatOneFile(const NodeSecrets& secrets, uint64_t ops, uint64_t mem) {
    uint8_t salt[crypto_pwhash_SALTBYTES];
    randombytes_buf(salt, sizeof salt);
    replication::MsgpackWriter w;
    w.ArrayHeader(5);
    w.Str("tuphap-keys");
    w.Uint(1);
    w.Uint(ops);
    w.Uint(mem);
    w.Bin(std::string_view(reinterpret_cast<const char*>(salt), sizeof salt));
    const std::string header = w.Take();
    std::string plain(161, '\0');
    std::memcpy(plain.data(), secrets.sign.secret().data(), 64);
    std::memcpy(plain.data() + 64, secrets.box.secret().data(), 32);
    uint8_t key[32];
    const KdfLimits weak = KdfLimits::Weak();
    const auto pass = TestPassphrase();
    // Hostile limits are never derived with: the key is made with weak ones.
    EXPECT_EQ(crypto_pwhash(key, sizeof key, reinterpret_cast<const char*>(pass.data()),
                            pass.size(), salt, weak.ops, weak.mem, crypto_pwhash_ALG_ARGON2ID13),
              0);
    return header + replication::AeadSeal(key, header, plain);
  }

  fs::path dir_;
};

TEST_F(KeyFileTest, OpensWithItsPassphraseAndTellsAWrongOne) {
  const NodeSecrets secrets = GenerateSecrets(/*with_root=*/true);
  ASSERT_TRUE(WriteKeyFile(Path("keys"), secrets, TestPassphrase(), KdfLimits::Weak()).ok());
  auto read = ReadKeyFile(Path("keys"), TestPassphrase());
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->sign.public_key(), secrets.sign.public_key());
  ASSERT_TRUE(read->root.has_value());
  EXPECT_EQ(read->root->public_key(), secrets.root->public_key());
  const replication::SecretBytes wrong("not the passphrase", 18);
  auto refused = ReadKeyFile(Path("keys"), wrong);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().reason(), "E_WRONG_PASSPHRASE");
  EXPECT_EQ(ReadKeyFile(Path("none"), TestPassphrase()).status().code(), StatusCode::kNotFound);
}

// Every single-bit damage of a real key file is reported as damage
// (E_KEYFILE_DAMAGED), found before any key derivation: none takes longer
// or more memory than a normal unlock. Before format 2, 229 of 376 such
// damages read as a wrong passphrase, and a flipped bit in the limits made
// an unlock allocate 2.1 GB or run for minutes.
TEST_F(KeyFileTest, EverySingleBitDamageIsReportedAsDamage) {
  const NodeSecrets secrets = GenerateSecrets(/*with_root=*/false);
  ASSERT_TRUE(WriteKeyFile(Path("keys"), secrets, TestPassphrase(), KdfLimits::Weak()).ok());
  const std::string file = *ReadFileBounded(Path("keys"), kMaxKeyFileBytes);
  const long rss_before = MaxRssKiB();
  Clock::duration slowest{};
  size_t damaged = 0;
  size_t wrong_passphrase = 0;
  for (size_t bit = 0; bit < file.size() * 8; ++bit) {
    std::string flipped = file;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    ASSERT_TRUE(WriteFileAtomic(Path("flipped"), flipped, 0600).ok());
    const auto start = Clock::now();
    auto r = ReadKeyFile(Path("flipped"), TestPassphrase());
    slowest = std::max(slowest, Clock::now() - start);
    ASSERT_FALSE(r.ok()) << "bit " << bit << " flipped still opens";
    if (r.status().reason() == "E_KEYFILE_DAMAGED") {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
      ++damaged;
    } else {
      EXPECT_EQ(r.status().reason(), "E_WRONG_PASSPHRASE") << r.status().ToString();
      ++wrong_passphrase;
    }
  }
  EXPECT_EQ(damaged, file.size() * 8);
  EXPECT_EQ(wrong_passphrase, 0u);
  EXPECT_LT(slowest, std::chrono::milliseconds(200));
  EXPECT_LT(MaxRssKiB() - rss_before, 32 * 1024) << "KiB more at peak";
}

// A header naming other limits — even with a checksum made to match — is
// refused without deriving anything: ops = 2^32-1 used to run for minutes.
TEST_F(KeyFileTest, LimitsOtherThanTuphapWritesAreRefusedBeforeUse) {
  const NodeSecrets secrets = GenerateSecrets(false);
  for (const auto& [ops, mem] : {std::pair<uint64_t, uint64_t>{4294967295u, 8192},
                                 {2, uint64_t{1} << 32},
                                 {4, 1073741824},
                                 {1, 67108864}}) {
    // Format 1 (no checksum) with hostile limits.
    ASSERT_TRUE(WriteFileAtomic(Path("v1"), FormatOneFile(secrets, ops, mem)).ok());
    const auto start = Clock::now();
    auto r = ReadKeyFile(Path("v1"), TestPassphrase());
    EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(200));
    EXPECT_EQ(r.status().reason(), "E_KEYFILE_DAMAGED") << ops << " " << mem;
    EXPECT_NE(r.status().message().find("key-derivation settings"), std::string::npos);
    // Format 2 with the limits changed and the checksum recomputed.
    ASSERT_TRUE(WriteKeyFile(Path("v2"), secrets, TestPassphrase(), KdfLimits::Weak()).ok());
    std::string v2 = *ReadFileBounded(Path("v2"), kMaxKeyFileBytes);
    replication::MsgpackReader header(v2);
    header.ExpectArray(5);
    (void)header.ReadStr(32);
    (void)header.ReadUint();
    const size_t limits_at = header.position();
    (void)header.ReadUint();
    (void)header.ReadUint();
    replication::MsgpackWriter limits;
    limits.Uint(ops);
    limits.Uint(mem);
    std::string forged = v2.substr(0, limits_at) + limits.Take() +
                         v2.substr(header.position(), v2.size() - header.position() - 32);
    const replication::Hash sum = replication::Blake2b256(forged);
    forged.append(reinterpret_cast<const char*>(sum.data()), sum.size());
    ASSERT_TRUE(WriteFileAtomic(Path("v2"), forged).ok());
    auto f = ReadKeyFile(Path("v2"), TestPassphrase());
    EXPECT_EQ(f.status().reason(), "E_KEYFILE_DAMAGED") << ops << " " << mem;
  }
  EXPECT_EQ(WriteKeyFile(Path("bad"), secrets, TestPassphrase(), {4294967295u, 8192}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(Path("bad")));
}

// Key files written before the checksum still open.
TEST_F(KeyFileTest, FormatOneFilesStillOpen) {
  const NodeSecrets secrets = GenerateSecrets(false);
  const KdfLimits weak = KdfLimits::Weak();
  ASSERT_TRUE(WriteFileAtomic(Path("v1"), FormatOneFile(secrets, weak.ops, weak.mem)).ok());
  auto r = ReadKeyFile(Path("v1"), TestPassphrase());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->sign.public_key(), secrets.sign.public_key());
  EXPECT_EQ(r->box.public_key(), secrets.box.public_key());
  EXPECT_FALSE(r->root.has_value());
  const replication::SecretBytes wrong("not the passphrase", 18);
  EXPECT_EQ(ReadKeyFile(Path("v1"), wrong).status().reason(), "E_WRONG_PASSPHRASE");
}

TEST_F(KeyFileTest, OnlyTheLimitsTuphapWritesAreAccepted) {
  for (const KdfLimits& k : {KdfLimits::Interactive(), KdfLimits::Moderate(), KdfLimits::Weak()})
    EXPECT_TRUE(KdfLimits::Accepted(k.ops, k.mem));
  EXPECT_EQ(KdfLimits::Interactive(), (KdfLimits{2, 64u << 20}));
  EXPECT_FALSE(KdfLimits::Accepted(2, 256u << 20));
  EXPECT_FALSE(KdfLimits::Accepted(0, 0));
  EXPECT_FALSE(
      KdfLimits::Accepted(crypto_pwhash_OPSLIMIT_SENSITIVE, crypto_pwhash_MEMLIMIT_SENSITIVE));
}

}  // namespace
}  // namespace tuphap::node
