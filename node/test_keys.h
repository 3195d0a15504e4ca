// Keys for tests and benchmarks: a fixed passphrase and the smallest
// Argon2id limits, so creating and unlocking a node costs microseconds.
// Never for real nodes.
#pragma once

#include <sodium.h>

#include "node/node.h"

namespace tuphap::node {

inline replication::SecretBytes TestPassphrase() {
  static constexpr char kText[] = "test-passphrase";
  return replication::SecretBytes(kText, sizeof(kText) - 1);
}

inline KdfLimits FastKdf() { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

inline Status InitForTest(const std::string& dir, const InitParams& params) {
  return Node::Init(dir, params, TestPassphrase(), FastKdf());
}

inline NodeOptions TestOptions(NodeOptions o = {}) {
  o.passphrase = [] { return Result<replication::SecretBytes>(TestPassphrase()); };
  return o;
}

}  // namespace tuphap::node
