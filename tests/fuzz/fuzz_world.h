// Real nodes for the fuzz targets whose decoders need one (sync sessions,
// reconcile, bundles, enrolment, key files, import lines), made once per
// process: a hub of province 42, a commune node of 18568 enrolled through
// the files an operator carries and synced with the hub, a second commune
// node enrolled and then revoked, and a commune node never enrolled. Every
// seed of those targets is a real output of these nodes (their frames,
// files and answers), recorded while the world was made. The data
// directories live in /dev/shm when it is there, so a target's per-input
// SQLite work does not wait on a disk, and are removed at exit — unless
// TUPHAP_FUZZ_WORLD names a directory: then the world is made there once and
// reopened by every later process (scripts/dev.sh fuzz), so a corpus kept
// from run to run still holds files made by the same nodes and keys.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "node/node.h"
#include "node/trust.h"

namespace tuphap::fuzz {

// Splits a fuzz input into frames, each a 2-byte big-endian length and its
// bytes (a short last frame takes what is left), and back. The sync and
// bundle targets take several frames in one input this way.
std::vector<std::string> SplitFrames(std::string_view in);
std::string JoinFrames(const std::vector<std::string>& frames);

struct World {
  std::string dir;
  ManualClock clock{1'751'328'000'000};
  std::unique_ptr<node::Node> hub;
  std::unique_ptr<node::Node> commune;                   // 18568, enrolled, synced with the hub
  std::unique_ptr<node::Node> revoked;                   // 18073, enrolled then revoked
  std::unique_ptr<node::Node> stranger;                  // 18568, never enrolled
  const replication::SigningKey* root = nullptr;         // the hub's province root key
  const replication::SigningKey* commune_key = nullptr;  // the commune node's signing key
  replication::Certificate commune_cert;

  // Recorded while the world was made.
  std::vector<std::string> dialer_frames;    // what the commune sent the hub in one session
  std::vector<std::string> listener_frames;  // what the hub answered
  std::string request_file;                  // the stranger's enrolment request
  std::string enrolment_file;                // the commune's enrolment file
  std::vector<std::pair<node::TrustKind, std::string>> trust_objects;  // root-signed, all kinds
  std::string bundle_file;  // the commune's changes for the hub, `bundle export --all`
  std::string key_file;     // the commune's key file (weak test KDF)
  std::vector<std::pair<std::string, std::string>> queries;  // reconcile (what, body) a run asked
  std::vector<std::string> import_lines;  // RecordGenerator lines for 18568, bad ones too

  // A path of this world's directory for per-input files.
  std::string Scratch(const std::string& name) const { return dir + "/" + name; }
};

// Writes `bytes` to `path` (a scratch file the decoder under test reads).
void WriteScratch(const std::string& path, std::string_view bytes);

// The world, made at the first call (aborts with a message if it cannot be).
World& TheWorld();

}  // namespace tuphap::fuzz
