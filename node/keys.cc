#include "node/keys.h"

#include <sodium.h>

#include <cstring>

#include "base/file_io.h"
#include "replication/hash.h"
#include "replication/msgpack.h"

namespace tuphap::node {
namespace {

using replication::SecretBytes;

constexpr std::string_view kMagic = "tuphap-keys";
// Format 1: header || sealed secrets. Format 2 adds the trailing checksum.
constexpr uint64_t kFormatV1 = 1;
constexpr uint64_t kFormat = 2;
// Plaintext: sign secret (64) | box secret (32) | has root (1) | root secret (64).
constexpr size_t kPlainSize = 64 + 32 + 1 + 64;
constexpr size_t kSaltSize = crypto_pwhash_SALTBYTES;
constexpr size_t kChecksumSize = 32;  // BLAKE2b-256 of every byte before it

std::string Header(uint64_t format, uint64_t ops, size_t mem, const uint8_t* salt) {
  replication::MsgpackWriter w(64);
  w.ArrayHeader(5);
  w.Str(kMagic);
  w.Uint(format);
  w.Uint(ops);
  w.Uint(mem);
  w.Bin(std::string_view(reinterpret_cast<const char*>(salt), kSaltSize));
  return w.Take();
}

std::string Checksum(std::string_view bytes) {
  const replication::Hash h = replication::Blake2b256(bytes);
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

Result<SecretBytes> DeriveKey(const SecretBytes& passphrase, const uint8_t* salt, uint64_t ops,
                              size_t mem) {
  SecretBytes key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  if (crypto_pwhash(key.data(), key.size(), reinterpret_cast<const char*>(passphrase.data()),
                    passphrase.size(), salt, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::ResourceExhausted("not enough memory to derive the key from the passphrase (" +
                                     std::to_string(mem >> 20) + " MiB needed)");
  }
  return key;
}

Status Damaged(const std::string& path, const std::string& why) {
  return Status::Corruption("the key file " + path + " is damaged: " + why +
                            " (restore it from the backup made at init)")
      .WithReason("E_KEYFILE_DAMAGED");
}

constexpr char kBase32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford

std::string Base32(const uint8_t* data, size_t bits) {
  std::string out;
  for (size_t i = 0; i < bits; i += 5) {
    unsigned v = 0;
    for (size_t b = 0; b < 5; ++b) {
      const size_t bit = i + b;
      v = (v << 1) | ((data[bit / 8] >> (7 - bit % 8)) & 1u);
    }
    out += kBase32[v];
  }
  return out;
}

int Base32Value(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (c == 'O') c = '0';
  if (c == 'I' || c == 'L') c = '1';
  for (int i = 0; i < 32; ++i) {
    if (kBase32[i] == c) return i;
  }
  return -1;
}

// 20 bits of checksum over the 10-byte fingerprint, as 4 characters.
std::string IdChecksum(std::string_view fingerprint) {
  replication::Hasher h;
  h.Update("tuphap-node-id");
  h.Update(fingerprint);
  const replication::Hash d = h.Final();
  return Base32(d.data(), 20);
}

}  // namespace

NodeSecrets GenerateSecrets(bool with_root) {
  NodeSecrets s{replication::SigningKey::Generate(), replication::BoxKey::Generate(), std::nullopt};
  if (with_root) s.root = replication::SigningKey::Generate();
  return s;
}

std::string KeyFilePath(const std::string& dir) { return dir + "/keys"; }

KdfLimits KdfLimits::Interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}
KdfLimits KdfLimits::Moderate() {
  return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}
KdfLimits KdfLimits::Weak() { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

bool KdfLimits::Accepted(uint64_t ops, uint64_t mem) {
  for (const KdfLimits& k : {Interactive(), Moderate(), Weak()}) {
    if (ops == k.ops && mem == k.mem) return true;
  }
  return false;
}

Status WriteKeyFile(const std::string& path, const NodeSecrets& secrets,
                    const SecretBytes& passphrase, KdfLimits limits) {
  if (limits == KdfLimits{}) limits = KdfLimits::Interactive();
  if (!KdfLimits::Accepted(limits.ops, limits.mem)) {
    return Status::InvalidArgument("key-derivation limits " + std::to_string(limits.ops) +
                                   " passes, " + std::to_string(limits.mem) +
                                   " bytes are not ones a key file may use");
  }
  uint8_t salt[kSaltSize];
  replication::RandomBytes(salt, sizeof salt);
  TUPHAP_ASSIGN_OR_RETURN(SecretBytes key, DeriveKey(passphrase, salt, limits.ops, limits.mem));
  SecretBytes plain(kPlainSize);
  std::memset(plain.data(), 0, plain.size());
  std::memcpy(plain.data(), secrets.sign.secret().data(), 64);
  std::memcpy(plain.data() + 64, secrets.box.secret().data(), 32);
  if (secrets.root) {
    plain.data()[96] = 1;
    std::memcpy(plain.data() + 97, secrets.root->secret().data(), 64);
  }
  const std::string header = Header(kFormat, limits.ops, limits.mem, salt);
  std::string file = header + replication::AeadSeal(key.data(), header, plain.view());
  file += Checksum(file);
  return WriteFileAtomic(path, file, 0600);
}

namespace {

// What a key file says before any key derivation, its structure checked.
struct KeyFileHeader {
  uint64_t format = 0, ops = 0, mem = 0;
  std::string_view salt;
  size_t header_size = 0;
};

Result<std::string> ReadKeyFileBytes(const std::string& path) {
  auto read = ReadFileBounded(path, kMaxKeyFileBytes);
  if (!read.ok()) {
    if (read.status().code() == StatusCode::kNotFound)
      return Status::NotFound("no key file at " + path);
    if (read.status().code() == StatusCode::kResourceExhausted)
      return Damaged(path, "it is larger than any key file (" + std::to_string(kMaxKeyFileBytes) +
                               " bytes at most)");
    return read.status();
  }
  return std::move(*read);
}

Result<KeyFileHeader> ParseKeyFileHeader(const std::string& path, const std::string& file) {
  // The checksum first: it needs no key, so damage anywhere in a format-2
  // file is reported as damage, before any limit in it is used.
  const bool checksum_ok =
      file.size() > kChecksumSize &&
      Checksum(std::string_view(file).substr(0, file.size() - kChecksumSize)) ==
          file.substr(file.size() - kChecksumSize);
  replication::MsgpackReader r(file);
  r.ExpectArray(5);
  const std::string_view magic = r.ReadStr(32);
  const uint64_t format = r.ReadUint();
  const uint64_t ops = r.ReadUint();
  const uint64_t mem = r.ReadUint();
  const std::string_view salt = r.ReadBin(kSaltSize);
  if (!checksum_ok) {
    // Only a format-1 file (written before the checksum) may lack it.
    if (!r.ok() || magic != kMagic || format != kFormatV1)
      return Damaged(path, "its checksum does not match its contents");
  } else if (!r.ok() || magic != kMagic || format != kFormat) {
    return Damaged(path, !r.ok() || magic != kMagic ? "it is not a tuphap key file"
                                                    : "unknown format " + std::to_string(format));
  }
  if (salt.size() != kSaltSize || !KdfLimits::Accepted(ops, mem))
    return Damaged(path, "its key-derivation settings (" + std::to_string(ops) + " passes, " +
                             std::to_string(mem) + " bytes) are not ones tuphap writes");
  const size_t header_size = r.position();
  const size_t expected = header_size + replication::kAeadOverhead + kPlainSize +
                          (format == kFormat ? kChecksumSize : 0);
  if (file.size() != expected) {
    return Damaged(path, std::string(file.size() < expected ? "truncated" : "too long") + " (" +
                             std::to_string(file.size()) + " bytes, expected " +
                             std::to_string(expected) + ")");
  }
  return KeyFileHeader{format, ops, mem, salt, header_size};
}

}  // namespace

Status CheckKeyFile(const std::string& path) {
  TUPHAP_ASSIGN_OR_RETURN(std::string file, ReadKeyFileBytes(path));
  return ParseKeyFileHeader(path, file).status();
}

Result<NodeSecrets> ReadKeyFile(const std::string& path, const SecretBytes& passphrase) {
  TUPHAP_ASSIGN_OR_RETURN(std::string file, ReadKeyFileBytes(path));
  TUPHAP_ASSIGN_OR_RETURN(KeyFileHeader h, ParseKeyFileHeader(path, file));
  const uint64_t format = h.format, ops = h.ops, mem = h.mem;
  const std::string_view salt = h.salt;
  const size_t header_size = h.header_size;
  TUPHAP_ASSIGN_OR_RETURN(SecretBytes key,
                          DeriveKey(passphrase, reinterpret_cast<const uint8_t*>(salt.data()), ops,
                                    static_cast<size_t>(mem)));
  auto plain = replication::AeadOpen(
      key.data(), std::string_view(file).substr(0, header_size),
      std::string_view(file).substr(header_size, replication::kAeadOverhead + kPlainSize));
  if (!plain.ok()) {
    return Status::InvalidArgument(
               "wrong passphrase for " + path +
               (format == kFormat ? std::string() : std::string(" (or the file was altered)")))
        .WithReason("E_WRONG_PASSPHRASE");
  }
  // Move the clear secrets into guarded memory and wipe the temporary.
  SecretBytes secret(plain->data(), plain->size());
  sodium_memzero(plain->data(), plain->size());
  const std::string_view v = secret.view();
  auto sign = replication::SigningKey::FromSecret(v.substr(0, 64));
  auto box = replication::BoxKey::FromSecret(v.substr(64, 32));
  if (!sign.ok() || !box.ok()) return Damaged(path, "a key inside it is malformed");
  NodeSecrets out{std::move(*sign), std::move(*box), std::nullopt};
  if (v[96] == 1) {
    auto root = replication::SigningKey::FromSecret(v.substr(97, 64));
    if (!root.ok()) return Damaged(path, "the root key inside it is malformed");
    out.root = std::move(*root);
  }
  return out;
}

std::string KeyFingerprint(const replication::PublicKey& sign_key) {
  const replication::Hash h = replication::Blake2b256(replication::AsBytes(sign_key));
  return std::string(reinterpret_cast<const char*>(h.data()), 10);
}

std::string NodeIdText(const replication::PublicKey& sign_key) {
  const std::string fp = KeyFingerprint(sign_key);
  const std::string text = Base32(reinterpret_cast<const uint8_t*>(fp.data()), 80) + IdChecksum(fp);
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i > 0 && i % 4 == 0) out += '-';
    out += text[i];
  }
  return out;
}

Result<std::string> ParseNodeIdText(std::string_view text) {
  std::string chars;
  for (char c : text) {
    if (c == '-' || c == ' ') continue;
    chars += c;
  }
  if (chars.size() != 20) {
    return Status::InvalidArgument("a node id has 20 characters (XXXX-XXXX-XXXX-XXXX-XXXX), not " +
                                   std::to_string(chars.size()) + ": '" + std::string(text) + "'");
  }
  uint8_t fp[10] = {};
  for (size_t i = 0; i < 16; ++i) {
    const int v = Base32Value(chars[i]);
    if (v < 0)
      return Status::InvalidArgument("'" + std::string(1, chars[i]) +
                                     "' cannot appear in a node id");
    for (int b = 0; b < 5; ++b) {
      const size_t bit = i * 5 + static_cast<size_t>(b);
      if ((v >> (4 - b)) & 1)
        fp[bit / 8] = static_cast<uint8_t>(fp[bit / 8] | (1u << (7 - bit % 8)));
    }
  }
  const std::string fingerprint(reinterpret_cast<const char*>(fp), sizeof fp);
  std::string check;
  for (size_t i = 16; i < 20; ++i) {
    const int v = Base32Value(chars[i]);
    if (v < 0)
      return Status::InvalidArgument("'" + std::string(1, chars[i]) +
                                     "' cannot appear in a node id");
    check += kBase32[v];
  }
  if (check != IdChecksum(fingerprint)) {
    return Status::InvalidArgument("node id " + std::string(text) +
                                   " does not check out: a character is mistyped");
  }
  return fingerprint;
}

}  // namespace tuphap::node
