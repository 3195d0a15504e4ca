#include "replication/hash.h"

#include <sodium.h>

#include <cstdlib>
#include <mutex>

namespace tuphap::replication {

static_assert(sizeof(crypto_generichash_state) <= 384, "Hasher state buffer too small");

void EnsureSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // no usable randomness: nothing is safe
  });
}

Hash Blake2b256(std::string_view bytes) {
  Hash h;
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return h;
}

Hasher::Hasher() {
  crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(state_), nullptr, 0, 32);
}

Hasher::~Hasher() { sodium_memzero(state_, sizeof state_); }

void Hasher::Update(std::string_view bytes) {
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(state_),
                            reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

void Hasher::UpdateFramed(std::string_view bytes) {
  unsigned char len[8];
  uint64_t n = bytes.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (56 - 8 * i));
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(state_), len, 8);
  Update(bytes);
}

Hash Hasher::Final() {
  Hash h;
  crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(state_), h.data(), h.size());
  return h;
}

}  // namespace tuphap::replication
