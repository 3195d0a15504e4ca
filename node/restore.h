// Backups and safe restore (docs/operator-guide.md, "Backup and restore").
//
// A backup file holds a consistent copy of a node's store (SQLite's VACUUM
// INTO, one read transaction: `serve` goes on meanwhile), its key file
// exactly as it is (still encrypted under the passphrase) and its config
// file when there is one. Format (all integers big-endian):
//
//   "TUPHAPBK"  8 bytes of magic
//   version     u32 (1)
//   sections    u32, at most kMaxBackupSections
//   per section: name length u16 (1..32), name ("store", "keys", "config"),
//                length u64, the bytes
//   checksum    32 bytes: BLAKE2b-256 of everything before it
//
// Every length is checked against its bound (and the file's size) before
// anything is allocated or written. A restore checks the whole file —
// checksum, the store's integrity_check and that it names a node, the key
// file's structure — before it publishes anything, then publishes the node
// as `init` does (node_dir.h) and marks it restored.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "node/node.h"

namespace tuphap::node {

inline constexpr char kBackupMagic[] = "TUPHAPBK";
inline constexpr uint32_t kBackupVersion = 1;
inline constexpr uint32_t kMaxBackupSections = 8;
inline constexpr size_t kMaxConfigBytes = 1 << 20;

struct BackupSummary {
  uint64_t bytes = 0;        // the backup file's size
  uint64_t store_bytes = 0;  // the store's copy
  bool config = false;
  bool hub = false;  // restore: the node restored is a hub
};

// Writes the backup of the node in `dir` (opened as `node`) to `out`
// atomically (a temporary file beside it, fsynced, renamed), mode 0600.
Result<BackupSummary> WriteBackup(Node& node, const std::string& dir, const std::string& out);

// Restores `file` into `dir`, which must not hold a node. InvalidArgument
// (E_BACKUP_DAMAGED) when the file is damaged or not a backup.
Result<BackupSummary> RestoreBackup(const std::string& file, const std::string& dir,
                                    int64_t now_ms);

// The refusal of a write by a restored node, worded for people: a commune
// syncs with its hub; a hub lets its communes sync, then resumes writes.
Status RestoredRefusal(bool hub);

}  // namespace tuphap::node
