// Bundles: the changes a peer lacks, in a file for a USB stick
// (docs/protocol.md, Bundles). The file is encrypted to the recipient's
// X25519 key with libsodium's secretstream, whose final tag marks the end:
// a truncated file or any altered byte is detected before anything is
// applied. Import goes through the same ingest checks as a sync.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "node/node.h"

namespace tuphap::node {

struct BundleExport {
  std::string peer;  // the recipient's node id text
  uint64_t envelopes = 0;
  uint64_t bytes = 0;
};

// The largest bundle a node imports (it is read into memory whole, so it
// is bounded) and therefore the largest one it writes.
inline constexpr size_t kMaxBundleBytes = size_t{1} << 30;

// `peer`: the recipient's node id text. `all`: every change this node
// offers it, not only those after the heads it last acknowledged. The file
// is streamed to a temporary file beside `path` (memory holds one chunk)
// and renamed into place when whole (fsync, rename, fsync of the
// directory). ResourceExhausted (E_BUNDLE_TOO_LARGE) when it would exceed
// `max_bytes` (tests lower it): then nothing is left at `path`.
Result<BundleExport> ExportBundle(Node& node, const std::string& peer, bool all,
                                  const std::string& path, size_t max_bytes = kMaxBundleBytes);

struct BundleImport {
  std::string sender;  // node id text of the node that made it
  uint64_t envelopes = 0;
  store::ApplyReport report;
};

// Checks a bundle addressed to this node — its sender's signature, then the
// whole encrypted stream to its final tag — and only then hands its
// envelopes to `take`, a chunk at a time. Returns the sender's id text.
// Envelopes that do not parse are left out of the chunks and, when
// `unparsed` is given, counted there.
using BundleChunk = std::function<Status(std::vector<store::Store::Incoming>& chunk)>;
Result<std::string> ReadBundle(Node& node, const std::string& path, const BundleChunk& take,
                               uint64_t* unparsed = nullptr);

// Corruption (E_BUNDLE_DAMAGED) when the file is truncated or altered;
// nothing is applied then.
Result<BundleImport> ImportBundle(Node& node, const std::string& path);

}  // namespace tuphap::node
