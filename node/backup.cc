// Backup files: write and restore (format: node/restore.h).
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "base/file_io.h"
#include "node/keys.h"
#include "node/node_dir.h"
#include "node/restore.h"
#include "node/store/sqlite.h"

namespace tuphap::node {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChecksumBytes = 32;
constexpr size_t kMaxSectionName = 32;
constexpr size_t kChunk = 1 << 20;

Status Damaged(const std::string& file, const std::string& why) {
  return Status::InvalidArgument(file + " is not a usable tuphap backup: " + why +
                                 ". Nothing was restored; use another copy of the backup")
      .WithReason("E_BACKUP_DAMAGED");
}

void PutBig(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetBig(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

// Appends to the backup file and to its running checksum.
class HashedWriter {
 public:
  explicit HashedWriter(AtomicFile* file) : file_(file) {
    crypto_generichash_init(&state_, nullptr, 0, kChecksumBytes);
  }
  Status Append(std::string_view bytes) {
    crypto_generichash_update(&state_, reinterpret_cast<const unsigned char*>(bytes.data()),
                              bytes.size());
    return file_->Append(bytes);
  }
  Status Section(std::string_view name, uint64_t size) {
    std::string head;
    PutBig(&head, name.size(), 2);
    head += name;
    PutBig(&head, size, 8);
    return Append(head);
  }
  Status Finish() {
    std::array<unsigned char, kChecksumBytes> sum;
    crypto_generichash_final(&state_, sum.data(), sum.size());
    return file_->Append(std::string_view(reinterpret_cast<const char*>(sum.data()), sum.size()));
  }

 private:
  AtomicFile* file_;
  crypto_generichash_state state_;
};

// Reads the backup file in order, summing what it reads.
class HashedReader {
 public:
  HashedReader(const std::string& path, uint64_t size)
      : path_(path), in_(path, std::ios::binary), size_(size) {
    crypto_generichash_init(&state_, nullptr, 0, kChecksumBytes);
  }
  bool open() const { return in_.good(); }
  // What is left before the checksum.
  uint64_t left() const { return size_ - kChecksumBytes - pos_; }
  Status Read(size_t n, std::string* out) {
    if (n > left()) return Damaged(path_, "it is truncated");
    out->resize(n);
    if (!in_.read(out->data(), static_cast<std::streamsize>(n)))
      return Status::IoError("cannot read " + path_);
    crypto_generichash_update(&state_, reinterpret_cast<const unsigned char*>(out->data()), n);
    pos_ += n;
    return Status::Ok();
  }
  Result<uint64_t> Big(int bytes) {
    std::string b;
    TUPHAP_RETURN_IF_ERROR(Read(static_cast<size_t>(bytes), &b));
    return GetBig(reinterpret_cast<const unsigned char*>(b.data()), bytes);
  }
  // Copies `n` bytes to `out` (a chunk at a time).
  Status CopyTo(uint64_t n, std::ofstream& out) {
    std::string chunk;
    while (n > 0) {
      const size_t step = static_cast<size_t>(std::min<uint64_t>(n, kChunk));
      TUPHAP_RETURN_IF_ERROR(Read(step, &chunk));
      if (!out.write(chunk.data(), static_cast<std::streamsize>(step)))
        return Status::IoError("cannot write the restored store");
      n -= step;
    }
    return Status::Ok();
  }
  // The stored checksum matches what was read.
  Result<bool> ChecksumMatches() {
    std::array<unsigned char, kChecksumBytes> sum, stored;
    crypto_generichash_final(&state_, sum.data(), sum.size());
    if (!in_.read(reinterpret_cast<char*>(stored.data()), stored.size()))
      return Status::IoError("cannot read " + path_);
    return sodium_memcmp(sum.data(), stored.data(), sum.size()) == 0;
  }

 private:
  std::string path_;
  std::ifstream in_;
  uint64_t size_;
  uint64_t pos_ = 0;
  crypto_generichash_state state_;
};

// The store in `path` is whole (integrity_check) and names a node.
Status CheckStore(const std::string& file, const std::string& path, int64_t now_ms,
                  BackupSummary* summary) {
  {
    TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db,
                            store::Database::Open(path, store::Database::OpenMode::kExisting));
    TUPHAP_ASSIGN_OR_RETURN(store::Stmt q, db->Prepare("PRAGMA integrity_check"));
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || q.Text(0) != "ok") return Damaged(file, "its store fails SQLite's integrity check");
  }
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> s,
                          store::Store::Open(path, store::Database::OpenMode::kExisting));
  for (const char* key : {"node_id", "role", "box_key"}) {
    TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> v, s->GetMeta(key));
    if (!v) return Damaged(file, "its store holds no node");
    if (std::string_view(key) == "role") summary->hub = *v == RoleName(Role::kHub);
  }
  // The mark that keeps the node from writing until a sync shows it holds
  // its latest changes (restore.h).
  return s->SetMeta(store::kRestoredMetaKey, std::to_string(now_ms));
}

}  // namespace

Result<BackupSummary> WriteBackup(Node& node, const std::string& dir, const std::string& out) {
  RemoveStaleTemporaries(out);
  // The store's consistent copy, in the data folder (the store's own disk,
  // not the backup's USB stick), created empty with mode 0600 first so that
  // VACUUM INTO fills it without ever leaving the records readable by
  // others. Named as AtomicFile names its temporaries, so the next backup
  // removes the copy of a process that died.
  const std::string copy_base = dir + "/backup-copy";
  RemoveStaleTemporaries(copy_base);
  const std::string copy = copy_base + ".tmp-" + std::to_string(::getpid()) + "-1";
  std::error_code ec;
  fs::remove(copy, ec);
  const int fd = ::open(copy.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("cannot create " + copy + ": " + std::strerror(errno));
  ::close(fd);
  struct Remover {
    std::string path;
    ~Remover() {
      std::error_code e;
      fs::remove(path, e);
    }
  } const remove_copy{copy};
  TUPHAP_RETURN_IF_ERROR(node.store().Snapshot(copy).Annotate("copying the store"));
  TUPHAP_ASSIGN_OR_RETURN(std::string keys, ReadFileBounded(KeyFilePath(dir), kMaxKeyFileBytes));
  std::optional<std::string> config;
  if (fs::exists(ConfigPath(dir), ec)) {
    TUPHAP_ASSIGN_OR_RETURN(config, ReadFileBounded(ConfigPath(dir), kMaxConfigBytes));
  }
  BackupSummary summary;
  summary.store_bytes = fs::file_size(copy, ec);
  if (ec) return Status::IoError("cannot read " + copy + ": " + ec.message());
  summary.config = config.has_value();
  // The keys stay as they are on disk (encrypted): a backup is as safe as
  // the data folder, no safer; mode 0600 like the key file.
  TUPHAP_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(out, 0600));
  HashedWriter w(&file);
  std::string head(kBackupMagic, 8);
  PutBig(&head, kBackupVersion, 4);
  PutBig(&head, config ? 3 : 2, 4);
  TUPHAP_RETURN_IF_ERROR(w.Append(head));
  TUPHAP_RETURN_IF_ERROR(w.Section("keys", keys.size()));
  TUPHAP_RETURN_IF_ERROR(w.Append(keys));
  if (config) {
    TUPHAP_RETURN_IF_ERROR(w.Section("config", config->size()));
    TUPHAP_RETURN_IF_ERROR(w.Append(*config));
  }
  TUPHAP_RETURN_IF_ERROR(w.Section("store", summary.store_bytes));
  std::ifstream in(copy, std::ios::binary);
  std::string chunk(kChunk, '\0');
  uint64_t left = summary.store_bytes;
  while (left > 0) {
    const size_t step = static_cast<size_t>(std::min<uint64_t>(left, kChunk));
    if (!in.read(chunk.data(), static_cast<std::streamsize>(step)))
      return Status::IoError("cannot read " + copy);
    TUPHAP_RETURN_IF_ERROR(w.Append(std::string_view(chunk.data(), step)));
    left -= step;
  }
  TUPHAP_RETURN_IF_ERROR(w.Finish());
  summary.bytes = file.size();
  TUPHAP_RETURN_IF_ERROR(file.Commit());
  return summary;
}

Result<BackupSummary> RestoreBackup(const std::string& file, const std::string& dir,
                                    int64_t now_ms) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) return Status::InvalidArgument(file + " is a folder");
  const uint64_t size = fs::file_size(file, ec);
  if (ec) return Status::NotFound("cannot read " + file + ": " + ec.message());
  if (size < 8 + 4 + 4 + kChecksumBytes) return Damaged(file, "it is too short");
  BackupSummary summary;
  summary.bytes = size;
  Status s = PublishNodeDir(dir, [&](const std::string& stage) -> Status {
    HashedReader r(file, size);
    if (!r.open()) return Status::IoError("cannot open " + file);
    std::string magic;
    TUPHAP_RETURN_IF_ERROR(r.Read(8, &magic));
    if (magic != std::string_view(kBackupMagic, 8)) return Damaged(file, "it is not a backup");
    TUPHAP_ASSIGN_OR_RETURN(uint64_t version, r.Big(4));
    if (version != kBackupVersion)
      return Damaged(file, "it is of format " + std::to_string(version) + ", not " +
                               std::to_string(kBackupVersion) + " (a newer tuphap wrote it?)");
    TUPHAP_ASSIGN_OR_RETURN(uint64_t sections, r.Big(4));
    if (sections > kMaxBackupSections) return Damaged(file, "it names too many sections");
    std::set<std::string> seen;
    std::string keys, config;
    for (uint64_t i = 0; i < sections; ++i) {
      TUPHAP_ASSIGN_OR_RETURN(uint64_t name_len, r.Big(2));
      if (name_len == 0 || name_len > kMaxSectionName)
        return Damaged(file, "a section is malformed");
      std::string name;
      TUPHAP_RETURN_IF_ERROR(r.Read(static_cast<size_t>(name_len), &name));
      TUPHAP_ASSIGN_OR_RETURN(uint64_t len, r.Big(8));
      if (len > r.left()) return Damaged(file, "it is truncated");
      if (!seen.insert(name).second) return Damaged(file, "section " + name + " appears twice");
      if (name == "keys") {
        if (len > kMaxKeyFileBytes) return Damaged(file, "its key file is too large");
        TUPHAP_RETURN_IF_ERROR(r.Read(static_cast<size_t>(len), &keys));
      } else if (name == "config") {
        if (len > kMaxConfigBytes) return Damaged(file, "its config file is too large");
        TUPHAP_RETURN_IF_ERROR(r.Read(static_cast<size_t>(len), &config));
      } else if (name == "store") {
        summary.store_bytes = len;
        std::ofstream out(StorePath(stage), std::ios::binary | std::ios::trunc);
        TUPHAP_RETURN_IF_ERROR(r.CopyTo(len, out));
        out.close();
        if (!out) return Status::IoError("cannot write " + StorePath(stage));
      } else {
        return Damaged(file, "it holds an unknown section '" + name + "'");
      }
    }
    if (r.left() != 0) return Damaged(file, "it has bytes after its last section");
    TUPHAP_ASSIGN_OR_RETURN(bool sum_ok, r.ChecksumMatches());
    if (!sum_ok)
      return Damaged(file, "its checksum does not match its contents (it was altered or damaged)");
    if (!seen.count("keys") || !seen.count("store"))
      return Damaged(file, "it lacks the node's keys or its store");
    // Checked before anything is published: the key file's structure (no
    // passphrase needed) and the store.
    TUPHAP_RETURN_IF_ERROR(WriteFileAtomic(KeyFilePath(stage), keys, 0600));
    Status keys_ok = CheckKeyFile(KeyFilePath(stage));
    if (!keys_ok.ok()) return Damaged(file, "its key file: " + keys_ok.message());
    if (seen.count("config")) {
      summary.config = true;
      TUPHAP_RETURN_IF_ERROR(WriteFileAtomic(ConfigPath(stage), config, 0600));
    }
    Status store_ok = CheckStore(file, StorePath(stage), now_ms, &summary);
    if (!store_ok.ok() && store_ok.reason() != "E_BACKUP_DAMAGED")
      return Damaged(file, "its store: " + store_ok.message());
    return store_ok;
  });
  if (!s.ok()) {
    // A refused backup leaves nothing behind but the (empty) staging folder.
    fs::remove_all(fs::path(dir) / ".init", ec);
    return s;
  }
  return summary;
}

}  // namespace tuphap::node
