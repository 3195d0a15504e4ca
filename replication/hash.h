// BLAKE2b-256 (libsodium crypto_generichash), the hash of envelopes, records
// and digests.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tuphap::replication {

using Hash = std::array<uint8_t, 32>;

// Initialises libsodium once; safe to call from any thread, any number of times.
void EnsureSodium();

Hash Blake2b256(std::string_view bytes);

// Incremental BLAKE2b-256.
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void Update(std::string_view bytes);
  // Length-prefixed so concatenations cannot collide ("ab"+"c" vs "a"+"bc").
  void UpdateFramed(std::string_view bytes);
  Hash Final();

 private:
  alignas(64) unsigned char state_[384];
};

inline std::string_view AsBytes(const Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

}  // namespace tuphap::replication
