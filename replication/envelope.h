// Envelope: a change exactly as it is stored and sent.
//
//   envelope = [header: bin, body: bin, signature: bin]
//   header   = [version, origin: bin32, scope: str, seq, prev: bin32, hlc,
//               key_epoch, flags]
//
// The header stays in clear (routing, chain checks) and is the associated
// data of the body's encryption. The *signing digest* is BLAKE2b-256 over
// the exact header and body bytes (each length-framed); the origin's Ed25519
// key signs it. The envelope's *id* (hash()) is BLAKE2b-256 over the digest
// and the signature, so it covers every byte of the envelope. `prev` is the
// id of the feed's previous envelope (zeros for seq 1): each feed (origin,
// scope) is a hash chain, and the signature of the last envelope of a run
// commits to every byte of the run — verifying it and the links
// authenticates the whole run (seal.h). Nothing is ever re-encoded.
//
// Version 0 is a *draft*: body in clear, no signature. A node records its
// own changes as drafts while it has no key for their scope (a commune before
// enrolment); drafts never leave the node and are sealed (version 1) in seq
// order once the key arrives. docs/envelope.md specifies both.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "crdt/hlc.h"
#include "crdt/replica_id.h"
#include "replication/hash.h"
#include "replication/limits.h"

namespace tuphap::replication {

inline constexpr uint32_t kDraftVersion = 0;
inline constexpr uint32_t kSealedVersion = 1;
inline constexpr uint32_t kFlagEncrypted = 1;
inline constexpr size_t kSignatureBytes = 64;

struct EnvelopeHeader {
  uint32_t version = kDraftVersion;
  crdt::ReplicaId origin;
  std::string scope;
  uint64_t seq = 0;
  Hash prev{};
  crdt::Hlc hlc;
  uint32_t key_epoch = 0;
  uint32_t flags = 0;

  friend bool operator==(const EnvelopeHeader&, const EnvelopeHeader&) = default;
};

class Envelope {
 public:
  Envelope() = default;
  const EnvelopeHeader& header() const { return header_; }
  const std::string& bytes() const { return bytes_; }
  const Hash& hash() const { return hash_; }      // the id
  const Hash& digest() const { return digest_; }  // what the signature signs
  std::string_view header_bytes() const { return View(header_off_, header_len_); }
  std::string_view body() const { return View(body_off_, body_len_); }
  std::string_view signature() const { return View(sig_off_, sig_len_); }
  bool is_draft() const { return header_.version == kDraftVersion; }

  // Builds an envelope from its parts (the signature may be empty for a draft).
  static Envelope Assemble(const EnvelopeHeader& header, std::string_view body,
                           std::string_view signature);
  // Parses and checks structure and limits; the bytes are kept as given.
  // InvalidArgument (E_FRAME_MALFORMED or E_LIMIT_SIZE) on bad input.
  static Result<Envelope> Parse(std::string bytes, const Limits& limits = kDefaultLimits);
  // Whether `bytes` are a draft (header version 0), read without hashing:
  // for a node's own stored envelopes, which were parsed when written.
  // InvalidArgument when the outer structure or the version cannot be read.
  static Result<bool> IsDraft(std::string_view bytes);

 private:
  std::string_view View(size_t off, size_t len) const {
    return std::string_view(bytes_).substr(off, len);
  }

  EnvelopeHeader header_;
  std::string bytes_;
  Hash digest_{};
  Hash hash_{};
  size_t header_off_ = 0, header_len_ = 0, body_off_ = 0, body_len_ = 0, sig_off_ = 0, sig_len_ = 0;
};

std::string EncodeHeader(const EnvelopeHeader& header);
// BLAKE2b-256 over length-framed header and body bytes: what is signed.
Hash SigningDigest(std::string_view header_bytes, std::string_view body);
// BLAKE2b-256(digest || signature): the envelope id.
Hash EnvelopeId(const Hash& digest, std::string_view signature);

}  // namespace tuphap::replication
