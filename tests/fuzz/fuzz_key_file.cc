// Key files (node/keys.cc, ReadKeyFile): damage, truncation and hostile
// headers are told apart before any key derivation, and only the real file
// opens. Inputs naming the interactive or moderate KDF limits are skipped
// (each would derive a key for a second or more; limits are checked by
// value, so skipping them loses no decoding). Never a crash; a file that
// opens holds exactly the commune node's keys. Seed: the commune node's
// real key file (written with the weak test KDF).
#include <cstdlib>

#include "node/keys.h"
#include "node/test_keys.h"
#include "replication/msgpack.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/fuzz_world.h"

using namespace tuphap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::World& w = fuzz::TheWorld();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  {
    replication::MsgpackReader r(bytes);
    r.ExpectArray(5);
    r.ReadStr();
    r.ReadUint();
    const uint64_t ops = r.ReadUint();
    const uint64_t mem = r.ReadUint();
    if (r.ok() && node::KdfLimits::Accepted(ops, mem) &&
        !(node::KdfLimits{ops, mem} == node::KdfLimits::Weak()))
      return 0;
  }
  const std::string path = w.Scratch("fuzz.keys");
  fuzz::WriteScratch(path, bytes);
  static const replication::SecretBytes passphrase = node::TestPassphrase();
  auto secrets = node::ReadKeyFile(path, passphrase);
  if (secrets.ok()) {
    FUZZ_FAIL_IF(secrets->sign.public_key() != w.commune->sign_key() ||
                 secrets->box.public_key() != w.commune->box_key() || secrets->root.has_value());
  } else {
    // Every refusal says which of the two it is.
    FUZZ_FAIL_IF(secrets.status().reason() != "E_WRONG_PASSPHRASE" &&
                 secrets.status().reason() != "E_KEYFILE_DAMAGED");
  }
  return 0;
}

std::vector<std::string> FuzzSeeds() { return {fuzz::TheWorld().key_file}; }
