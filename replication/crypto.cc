#include "replication/crypto.h"

#include <sodium.h>

#include <cstring>
#include <new>

#include "replication/hash.h"

namespace tuphap::replication {
namespace {

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// context || message, in a buffer that is wiped (the message may be secret).
std::string Framed(std::string_view context, std::string_view message) {
  std::string m;
  m.reserve(context.size() + message.size());
  m.append(context);
  m.append(message);
  return m;
}

}  // namespace

SecretBytes::SecretBytes(size_t size) {
  EnsureSodium();
  if (size == 0) return;
  data_ = static_cast<uint8_t*>(sodium_malloc(size));
  if (data_ == nullptr) throw std::bad_alloc();
  size_ = size;
}

SecretBytes::SecretBytes(const void* data, size_t size) : SecretBytes(size) {
  if (size > 0) std::memcpy(data_, data, size);
}

SecretBytes::~SecretBytes() { Release(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

void SecretBytes::Release() {
  if (data_ != nullptr) sodium_free(data_);  // wipes before freeing
  data_ = nullptr;
  size_ = 0;
}

SigningKey SigningKey::Generate() {
  EnsureSodium();
  SigningKey k;
  k.sk_ = SecretBytes(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(k.pk_.data(), k.sk_.data());
  return k;
}

Result<SigningKey> SigningKey::FromSecret(std::string_view secret64) {
  if (secret64.size() != crypto_sign_SECRETKEYBYTES)
    return Status::Corruption("an Ed25519 secret key is 64 bytes");
  SigningKey k;
  k.sk_ = SecretBytes(secret64.data(), secret64.size());
  crypto_sign_ed25519_sk_to_pk(k.pk_.data(), k.sk_.data());
  // The last 32 bytes of a libsodium secret key repeat the public key.
  if (std::memcmp(k.pk_.data(), secret64.data() + 32, 32) != 0)
    return Status::Corruption("the Ed25519 secret key is damaged");
  return k;
}

Signature SigningKey::Sign(std::string_view context, std::string_view message) const {
  Signature sig{};
  std::string m = Framed(context, message);
  crypto_sign_detached(sig.data(), nullptr, U(m), m.size(), sk_.data());
  sodium_memzero(m.data(), m.size());
  return sig;
}

bool VerifySignature(const PublicKey& key, std::string_view context, std::string_view message,
                     std::string_view signature) {
  EnsureSodium();
  if (signature.size() != crypto_sign_BYTES) return false;
  const std::string m = Framed(context, message);
  return crypto_sign_verify_detached(U(signature), U(m), m.size(), key.data()) == 0;
}

BoxKey BoxKey::Generate() {
  EnsureSodium();
  BoxKey k;
  k.sk_ = SecretBytes(crypto_box_SECRETKEYBYTES);
  crypto_box_keypair(k.pk_.data(), k.sk_.data());
  return k;
}

Result<BoxKey> BoxKey::FromSecret(std::string_view secret32) {
  if (secret32.size() != crypto_box_SECRETKEYBYTES)
    return Status::Corruption("an X25519 secret key is 32 bytes");
  BoxKey k;
  k.sk_ = SecretBytes(secret32.data(), secret32.size());
  crypto_scalarmult_base(k.pk_.data(), k.sk_.data());
  return k;
}

std::string SealTo(const PublicKey& recipient, std::string_view plaintext) {
  EnsureSodium();
  std::string out(plaintext.size() + crypto_box_SEALBYTES, '\0');
  crypto_box_seal(reinterpret_cast<unsigned char*>(out.data()), U(plaintext), plaintext.size(),
                  recipient.data());
  return out;
}

Result<SecretBytes> OpenSealedBox(const BoxKey& key, std::string_view sealed) {
  if (sealed.size() < crypto_box_SEALBYTES)
    return Status::Corruption("a sealed box is too short").WithReason("E_DECRYPT");
  SecretBytes out(sealed.size() - crypto_box_SEALBYTES);
  if (crypto_box_seal_open(out.data(), U(sealed), sealed.size(), key.public_key().data(),
                           key.secret().data()) != 0) {
    return Status::Corruption("a sealed box does not open with this node's key")
        .WithReason("E_DECRYPT");
  }
  return out;
}

std::string AeadSeal(const uint8_t* key32, std::string_view associated,
                     std::string_view plaintext) {
  EnsureSodium();
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::string out(kNonce + plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(o, kNonce);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(o + kNonce, &len, U(plaintext), plaintext.size(),
                                             U(associated), associated.size(), nullptr, o, key32);
  out.resize(kNonce + len);
  return out;
}

Result<std::string> AeadOpen(const uint8_t* key32, std::string_view associated,
                             std::string_view sealed) {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  if (sealed.size() < kAeadOverhead)
    return Status::Corruption("the encrypted body is too short").WithReason("E_DECRYPT");
  std::string out(sealed.size() - kAeadOverhead, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &len, nullptr, U(sealed.substr(kNonce)),
          sealed.size() - kNonce, U(associated), associated.size(), U(sealed), key32) != 0) {
    return Status::Corruption(
               "the body does not decrypt under the scope key (altered, or the "
               "wrong key)")
        .WithReason("E_DECRYPT");
  }
  out.resize(len);
  return out;
}

void RandomBytes(void* out, size_t n) {
  EnsureSodium();
  randombytes_buf(out, n);
}

}  // namespace tuphap::replication
