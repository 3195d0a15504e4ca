// Golden vectors: the documented bytes of every wire and file layout.
//
// Each vector is built from fixed keys (Ed25519 from fixed seeds, X25519
// from fixed secrets: Ed25519 signatures are deterministic) and compared
// three ways: what the code encodes equals the hex below, what the code
// decodes from that hex equals the object, and the hex equals the one
// printed in the document's "Test vectors" appendix — so the documents, the
// code and these tests cannot drift apart. Random parts (nonces, sealed
// boxes, salts) are fixed inputs of the vector; for them the test also
// checks that what the code makes with its own randomness has the same
// layout and opens.
//
// After a deliberate format change, TUPHAP_GOLDEN_PRINT=1 prints every
// vector as the code now makes it (and a format change bumps a version:
// STYLE.md).
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>

#include "base/hex.h"
#include "crdt/change.h"
#include "replication/crypto.h"
#include "replication/hash.h"

namespace tuphap::golden {

// 32 bytes of `b`.
inline std::string Fill(uint8_t b, size_t n = 32) { return std::string(n, static_cast<char>(b)); }

// The Ed25519 key whose seed is 32 bytes of `b` (crypto_sign_seed_keypair).
inline replication::SigningKey SeededKey(uint8_t b) {
  replication::EnsureSodium();
  const std::string seed = Fill(b);
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, reinterpret_cast<const unsigned char*>(seed.data()));
  auto k = replication::SigningKey::FromSecret(std::string_view(reinterpret_cast<char*>(sk), 64));
  sodium_memzero(sk, sizeof sk);
  return std::move(k).value();
}

// The X25519 key whose secret is 32 bytes of `b`.
inline replication::BoxKey FixedBoxKey(uint8_t b) {
  return replication::BoxKey::FromSecret(Fill(b)).value();
}

// The fixed inputs of every vector (docs: "Test vectors").
struct Keys {
  replication::SigningKey root = SeededKey(0x01);     // province 42's root
  replication::SigningKey commune = SeededKey(0x02);  // a node of commune 18568
  replication::BoxKey commune_box = FixedBoxKey(0x03);
  replication::SigningKey hub = SeededKey(0x04);  // the hub of province 42
  replication::BoxKey hub_box = FixedBoxKey(0x05);
};
inline const Keys& K() {
  static const Keys* keys = new Keys();
  return *keys;
}
// A key, hash or signature as bytes.
inline std::string_view Bytes(const std::array<uint8_t, 32>& b) { return replication::AsBytes(b); }
inline std::string_view Bytes(const replication::Signature& s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}
inline crdt::ReplicaId Id(const replication::SigningKey& k) {
  return crdt::ReplicaId{k.public_key()};
}

inline constexpr std::string_view kProvince = "42";
inline constexpr std::string_view kCommune = "18568";
inline constexpr uint64_t kNowMs = 1'751'328'000'000;  // 2025-07-01T00:00:00Z
inline constexpr uint64_t kDayMs = 86'400'000;
inline const std::string& DataKey() {  // commune 18568's data key, epoch 1
  static const std::string* k = new std::string(Fill(0x06));
  return *k;
}

inline std::string Unhex(std::string_view hex) {
  std::string compact;
  for (char c : hex) {
    if (c != ' ' && c != '\n') compact += c;
  }
  auto bytes = FromHex(compact);
  EXPECT_TRUE(bytes.has_value()) << "not hex: " << hex.substr(0, 40);
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

inline bool Printing() { return std::getenv("TUPHAP_GOLDEN_PRINT") != nullptr; }

// The hex of the block "```hex NAME" in docs/DOC, whitespace removed; ""
// when the document has no such block.
inline std::string DocVector(const std::string& doc, const std::string& name) {
  std::ifstream in(std::string(TUPHAP_SOURCE_DIR) + "/docs/" + doc);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string open = "```hex " + name + "\n";
  const size_t start = text.find(open);
  if (start == std::string::npos) return "";
  const size_t body = start + open.size();
  const size_t end = text.find("```", body);
  std::string hex;
  for (size_t i = body; i < end && i < text.size(); ++i) {
    if (text[i] != ' ' && text[i] != '\n') hex += text[i];
  }
  return hex;
}

// `bytes` as the code made them must be the vector `expected_hex`, and the
// document must print the same vector.
inline void ExpectVector(const std::string& doc, const std::string& name, std::string_view bytes,
                         std::string_view expected_hex) {
  const std::string hex = ToHex(bytes);
  if (Printing()) {
    std::cout << "```hex " << name << "\n";
    for (size_t i = 0; i < hex.size(); i += 64) std::cout << hex.substr(i, 64) << "\n";
    std::cout << "```\n";
  }
  std::string compact;
  for (char c : expected_hex) {
    if (c != ' ' && c != '\n') compact += c;
  }
  EXPECT_EQ(hex, compact) << name << ": the code no longer makes the documented bytes";
  EXPECT_EQ(DocVector(doc, name), compact) << name << ": docs/" << doc << " prints another vector";
}

}  // namespace tuphap::golden
