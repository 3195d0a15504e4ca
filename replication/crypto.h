// The cryptographic primitives tuphap uses, over libsodium: Ed25519
// signatures with a domain-separation context, XChaCha20-Poly1305 (IETF)
// authenticated encryption, sealed boxes to an X25519 key, and memory for
// secrets that is locked, guarded and wiped.
//
// Every signature signs `context || message` where the context is a fixed
// 16-byte label per kind of signed object, so a signature made for one
// purpose (an envelope) can never be replayed as another (a certificate).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tuphap::replication {

using PublicKey = std::array<uint8_t, 32>;  // Ed25519 or X25519 public key
using Signature = std::array<uint8_t, 64>;
using SymmetricKey = std::array<uint8_t, 32>;

// Signature contexts: exactly 16 bytes each.
inline constexpr std::string_view kSignEnvelope = "tuphap/envelope1";
inline constexpr std::string_view kSignCertificate = "tuphap/cert/v1.0";
inline constexpr std::string_view kSignRequest = "tuphap/enroll/v1";
inline constexpr std::string_view kSignRevocation = "tuphap/revoke/v1";
inline constexpr std::string_view kSignReceipt = "tuphap/receipt/1";

// Bytes that hold a secret: allocated with sodium_malloc (guard pages,
// mlock'ed where the OS allows), wiped with sodium_memzero and freed on
// destruction. Move-only.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size);
  SecretBytes(const void* data, size_t size);
  ~SecretBytes();
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }

 private:
  void Release();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// An Ed25519 key pair; the secret half lives in SecretBytes.
class SigningKey {
 public:
  static SigningKey Generate();
  // From the 64-byte libsodium secret key (seed || public key).
  static Result<SigningKey> FromSecret(std::string_view secret64);
  const PublicKey& public_key() const { return pk_; }
  const SecretBytes& secret() const { return sk_; }
  Signature Sign(std::string_view context, std::string_view message) const;
  bool valid() const { return sk_.size() == 64; }

 private:
  PublicKey pk_{};
  SecretBytes sk_;
};

bool VerifySignature(const PublicKey& key, std::string_view context, std::string_view message,
                     std::string_view signature);

// An X25519 key pair for sealed boxes (and ZeroMQ CURVE, which uses the
// same curve).
class BoxKey {
 public:
  static BoxKey Generate();
  static Result<BoxKey> FromSecret(std::string_view secret32);
  const PublicKey& public_key() const { return pk_; }
  const SecretBytes& secret() const { return sk_; }
  bool valid() const { return sk_.size() == 32; }

 private:
  PublicKey pk_{};
  SecretBytes sk_;
};

// Anonymous sealed box to `recipient` (crypto_box_seal): 48 bytes longer.
std::string SealTo(const PublicKey& recipient, std::string_view plaintext);
Result<SecretBytes> OpenSealedBox(const BoxKey& key, std::string_view sealed);

// XChaCha20-Poly1305 (IETF) with a random 24-byte nonce:
// output = nonce || ciphertext || tag (40 bytes longer than the plaintext).
inline constexpr size_t kAeadOverhead = 24 + 16;
std::string AeadSeal(const uint8_t* key32, std::string_view associated, std::string_view plaintext);
// Corruption (E_DECRYPT) when the tag does not verify.
Result<std::string> AeadOpen(const uint8_t* key32, std::string_view associated,
                             std::string_view sealed);

void RandomBytes(void* out, size_t n);

}  // namespace tuphap::replication
