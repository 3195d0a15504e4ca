// Power loss for the real binary: a library loaded with LD_PRELOAD into
// `tuphap` that makes a chosen moment of a run a power cut.
//
// Until a file is fsynced, the kernel may lose anything written to it; until
// its directory is fsynced, it may lose the creation, rename or removal of a
// name in it. SIGKILL loses neither (the page cache survives the process),
// so it cannot show that the node syncs what it must. This library keeps,
// for every file under $TUPHAP_POWERLOSS_ROOT, what a power cut would undo:
//  - SQLite's files through a VFS wrapping the default one ("unix"),
//    registered as the default: every xWrite and xTruncate saves the bytes
//    it replaces until the file's next xSync;
//  - every other file (key files, enrolment files, snapshots, bundles)
//    through the C library's open/write/fsync/rename/unlink/mkdir, which
//    this library interposes: the same undo log for data, and a log of
//    name changes not yet made durable by an fsync of their directory.
// It counts these operations. At operation $TUPHAP_POWERLOSS_AT (1-based),
// before performing it, the power fails: every unsynced write is undone
// (mode "torn": then the first part of the last unsynced write is put back,
// a page torn in the middle), every name change not synced is undone, and
// the process ends at once with status 86. A run that never reaches that
// operation loses power just after it exits, so whatever it reported as
// done must have been synced. $TUPHAP_POWERLOSS_COUNT names a file that
// receives the number of operations counted (for choosing crash points).
//
// The model is the strict POSIX one (a file's fsync does not make its name
// durable), which is stricter than ext4's. Shared-memory files (-shm) are
// left alone: SQLite rebuilds them when the first process opens a store.
#include <dlfcn.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace {

constexpr int kPowerLossExit = 86;

template <typename F>
F Next(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

struct Real {
  int (*open)(const char*, int, ...) = Next<int (*)(const char*, int, ...)>("open");
  int (*close)(int) = Next<int (*)(int)>("close");
  ssize_t (*write)(int, const void*, size_t) = Next<ssize_t (*)(int, const void*, size_t)>("write");
  ssize_t (*pwrite)(int, const void*, size_t,
                    off_t) = Next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite64");
  int (*fsync)(int) = Next<int (*)(int)>("fsync");
  int (*fdatasync)(int) = Next<int (*)(int)>("fdatasync");
  int (*ftruncate)(int, off_t) = Next<int (*)(int, off_t)>("ftruncate64");
  int (*rename)(const char*, const char*) = Next<int (*)(const char*, const char*)>("rename");
  int (*unlink)(const char*) = Next<int (*)(const char*)>("unlink");
  int (*mkdir)(const char*, mode_t) = Next<int (*)(const char*, mode_t)>("mkdir");
  int (*link)(const char*, const char*) = Next<int (*)(const char*, const char*)>("link");
};

const Real& R() {
  static const Real real;
  return real;
}

struct Undo {
  off_t offset;
  std::string old;  // the bytes the write replaced (shorter when it wrote past the end)
};

struct Inode {
  std::string path;  // a name it can be reached by now
  off_t synced_size = 0;
  off_t size = 0;
  std::vector<Undo> undo;  // since the last sync, oldest first
};

struct NameOp {
  enum Kind { kCreate, kMkdir, kRename, kUnlink } kind;
  std::string dir;     // the directory whose fsync makes it durable
  std::string a, b;    // create/mkdir/unlink: a; rename: a -> b
  std::string backup;  // a link to what b (rename) or a (unlink) named before
};

struct LastWrite {
  ino_t ino = 0;
  off_t offset = 0;
  std::string bytes;
};

struct State {
  std::mutex mu;
  std::string root;  // empty: track nothing
  long long crash_at = 0;
  bool torn = false;
  long long ops = 0;
  std::string kinds;               // one letter per operation (Step)
  long long commits = 0;           // commits SQLite reported done
  long long unsynced_commits = 0;  // ... of which a power cut then would lose a part
  bool crashing = false;
  int backups = 0;
  std::map<ino_t, Inode> inodes;
  std::map<int, ino_t> fds;  // tracked regular files the C library layer writes
  std::set<int> vfs_fds;     // files SQLite opened: the VFS layer tracks their data
  std::map<int, std::string> dir_fds;
  std::vector<NameOp> pending;
  LastWrite last;
};

State& S() {
  static State* s = new State;  // never destroyed: used up to the last exit handler
  return *s;
}

thread_local bool in_vfs_open = false;

// An absolute, lexically normal path without a trailing slash ("." and
// "dir/" name the folders SQLite and base/file_io open to sync them).
std::string Absolute(const char* path) {
  std::filesystem::path p(path);
  if (!p.is_absolute()) {
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) return path;
    p = std::filesystem::path(cwd) / p;
  }
  std::string out = p.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string Parent(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool Tracked(const State& s, const std::string& path) {
  if (s.root.empty() || s.crashing) return false;
  if (path.compare(0, s.root.size(), s.root) != 0) return false;
  if (path.size() > s.root.size() && path[s.root.size()] != '/') return false;
  return path.size() < 4 || path.compare(path.size() - 4, 4, "-shm") != 0;
}

void PowerLoss(State& s);

// Counts one operation; the power fails before operation number crash_at.
// KIND: 'w' a data write or truncate, 's' an fsync, 'n' a name change (a
// create, rename, unlink or mkdir); the driver places crash points at every
// 's' and 'n' and the operation after it, and samples the many 'w's.
void Step(State& s, char kind) {
  s.kinds.push_back(kind);
  if (++s.ops == s.crash_at) PowerLoss(s);
}

Inode& Track(State& s, ino_t ino, const std::string& path, off_t size) {
  auto [it, fresh] = s.inodes.try_emplace(ino);
  if (fresh) it->second.synced_size = it->second.size = size;
  it->second.path = path;
  return it->second;
}

void SaveBeforeWrite(State& s, ino_t ino, off_t offset, const void* data, size_t n) {
  auto it = s.inodes.find(ino);
  if (it == s.inodes.end()) return;
  Inode& node = it->second;
  Undo u{offset, {}};
  if (offset < node.size) {
    const size_t keep = static_cast<size_t>(std::min<off_t>(node.size - offset, n));
    u.old.resize(keep);
    const int fd = R().open(node.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || pread(fd, u.old.data(), keep, offset) != static_cast<ssize_t>(keep)) {
      std::fprintf(stderr, "powerloss: cannot read %s before a write\n", node.path.c_str());
      std::abort();
    }
    R().close(fd);
  }
  node.undo.push_back(std::move(u));
  node.size = std::max<off_t>(node.size, offset + static_cast<off_t>(n));
  s.last = {ino, offset, std::string(static_cast<const char*>(data), n)};
}

void SaveBeforeTruncate(State& s, ino_t ino, off_t size) {
  auto it = s.inodes.find(ino);
  if (it == s.inodes.end() || size >= it->second.size) {
    if (it != s.inodes.end()) it->second.size = size;
    return;
  }
  Inode& node = it->second;
  Undo u{size, std::string(static_cast<size_t>(node.size - size), '\0')};
  const int fd = R().open(node.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || pread(fd, u.old.data(), u.old.size(), size) != static_cast<ssize_t>(u.old.size())) {
    std::fprintf(stderr, "powerloss: cannot read %s before a truncate\n", node.path.c_str());
    std::abort();
  }
  R().close(fd);
  node.undo.push_back(std::move(u));
  node.size = size;
}

void Synced(State& s, ino_t ino) {
  auto it = s.inodes.find(ino);
  if (it == s.inodes.end()) return;
  it->second.undo.clear();
  it->second.synced_size = it->second.size;
  if (s.last.ino == ino) s.last = {};
}

void DirSynced(State& s, const std::string& dir) {
  std::vector<NameOp> left;
  for (auto& op : s.pending) {
    if (op.dir != dir) {
      left.push_back(std::move(op));
    } else if (!op.backup.empty()) {
      R().unlink(op.backup.c_str());  // what it replaced is gone for good
    }
  }
  s.pending.swap(left);
}

std::string Backup(State& s, const std::string& path) {
  std::string backup = path + ".powerloss-" + std::to_string(++s.backups);
  if (R().link(path.c_str(), backup.c_str()) != 0) return {};
  return backup;
}

void Repoint(State& s, const std::string& from, const std::string& to) {
  for (auto& [ino, node] : s.inodes)
    if (node.path == from) node.path = to;
}

// Undoes what a power cut now would lose: unsynced writes (torn: the last
// one kept in part), then name changes whose directory was not synced.
void LoseUnsynced(State& s, bool torn) {
  s.crashing = true;
  for (auto& [ino, node] : s.inodes) {
    if (node.undo.empty() && node.size == node.synced_size) continue;
    const int fd = R().open(node.path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) continue;  // its name was never made durable; undone below
    for (auto u = node.undo.rbegin(); u != node.undo.rend(); ++u)
      R().pwrite(fd, u->old.data(), u->old.size(), u->offset);
    R().ftruncate(fd, node.synced_size);
    if (torn && s.last.ino == ino && s.last.bytes.size() > 1) {
      // The last write reached the disk in part: a torn page.
      size_t part = s.last.bytes.size() / 2;
      if (part > 512) part -= part % 512;
      R().pwrite(fd, s.last.bytes.data(), part, s.last.offset);
    }
    R().close(fd);
  }
  for (auto op = s.pending.rbegin(); op != s.pending.rend(); ++op) {
    switch (op->kind) {
      case NameOp::kCreate:
        R().unlink(op->a.c_str());
        break;
      case NameOp::kMkdir: {  // the whole folder goes with its name
        std::error_code ec;
        std::filesystem::remove_all(op->a, ec);
        break;
      }
      case NameOp::kRename:
        R().rename(op->b.c_str(), op->a.c_str());
        if (!op->backup.empty()) R().rename(op->backup.c_str(), op->b.c_str());
        break;
      case NameOp::kUnlink:
        if (!op->backup.empty()) R().rename(op->backup.c_str(), op->a.c_str());
        break;
    }
  }
}

void Report(const State& s) {
  if (const char* count = std::getenv("TUPHAP_POWERLOSS_COUNT")) {
    if (FILE* f = std::fopen(count, "w")) {
      std::fprintf(f, "%lld %lld %lld %s\n", s.ops, s.commits, s.unsynced_commits,
                   s.kinds.empty() ? "-" : s.kinds.c_str());
      std::fclose(f);
    }
  }
}

// The power fails now: the process ends at once.
void PowerLoss(State& s) {
  Report(s);
  LoseUnsynced(s, s.torn);
  std::fflush(nullptr);
  _exit(kPowerLossExit);
}

// ---------------------------------------------------------------------------
// The VFS: SQLite's files.

sqlite3_vfs* real_vfs = nullptr;

struct PlFile {
  sqlite3_file base;
  sqlite3_file* real;
  ino_t ino;
  bool tracked;
};

sqlite3_file* RealOf(sqlite3_file* f) { return reinterpret_cast<PlFile*>(f)->real; }

int PlClose(sqlite3_file* f) {
  const int rc = RealOf(f)->pMethods->xClose(RealOf(f));
  return rc;
}
int PlRead(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return RealOf(f)->pMethods->xRead(RealOf(f), buf, n, off);
}
int PlWrite(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  auto* p = reinterpret_cast<PlFile*>(f);
  if (p->tracked) {
    State& s = S();
    std::lock_guard lock(s.mu);
    Step(s, 'w');
    SaveBeforeWrite(s, p->ino, off, buf, static_cast<size_t>(n));
  }
  return p->real->pMethods->xWrite(p->real, buf, n, off);
}
int PlTruncate(sqlite3_file* f, sqlite3_int64 size) {
  auto* p = reinterpret_cast<PlFile*>(f);
  if (p->tracked) {
    State& s = S();
    std::lock_guard lock(s.mu);
    Step(s, 'w');
    SaveBeforeTruncate(s, p->ino, size);
  }
  return p->real->pMethods->xTruncate(p->real, size);
}
int PlSync(sqlite3_file* f, int flags) {
  auto* p = reinterpret_cast<PlFile*>(f);
  if (p->tracked) {
    State& s = S();
    std::lock_guard lock(s.mu);
    Step(s, 's');
  }
  const int rc = p->real->pMethods->xSync(p->real, flags);
  if (rc == SQLITE_OK && p->tracked) {
    State& s = S();
    std::lock_guard lock(s.mu);
    Synced(s, p->ino);
  }
  return rc;
}
int PlFileSize(sqlite3_file* f, sqlite3_int64* size) {
  return RealOf(f)->pMethods->xFileSize(RealOf(f), size);
}
int PlLock(sqlite3_file* f, int level) { return RealOf(f)->pMethods->xLock(RealOf(f), level); }
int PlUnlock(sqlite3_file* f, int level) { return RealOf(f)->pMethods->xUnlock(RealOf(f), level); }
int PlCheckReservedLock(sqlite3_file* f, int* out) {
  return RealOf(f)->pMethods->xCheckReservedLock(RealOf(f), out);
}
int PlFileControl(sqlite3_file* f, int op, void* arg) {
  return RealOf(f)->pMethods->xFileControl(RealOf(f), op, arg);
}
int PlSectorSize(sqlite3_file* f) { return RealOf(f)->pMethods->xSectorSize(RealOf(f)); }
int PlDeviceCharacteristics(sqlite3_file* f) {
  return RealOf(f)->pMethods->xDeviceCharacteristics(RealOf(f));
}
int PlShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return RealOf(f)->pMethods->xShmMap(RealOf(f), page, size, extend, out);
}
int PlShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return RealOf(f)->pMethods->xShmLock(RealOf(f), offset, n, flags);
}
void PlShmBarrier(sqlite3_file* f) { RealOf(f)->pMethods->xShmBarrier(RealOf(f)); }
int PlShmUnmap(sqlite3_file* f, int del) { return RealOf(f)->pMethods->xShmUnmap(RealOf(f), del); }
int PlFetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return RealOf(f)->pMethods->xFetch(RealOf(f), off, n, out);
}
int PlUnfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return RealOf(f)->pMethods->xUnfetch(RealOf(f), off, p);
}

const sqlite3_io_methods kMethods = {3,
                                     PlClose,
                                     PlRead,
                                     PlWrite,
                                     PlTruncate,
                                     PlSync,
                                     PlFileSize,
                                     PlLock,
                                     PlUnlock,
                                     PlCheckReservedLock,
                                     PlFileControl,
                                     PlSectorSize,
                                     PlDeviceCharacteristics,
                                     PlShmMap,
                                     PlShmLock,
                                     PlShmBarrier,
                                     PlShmUnmap,
                                     PlFetch,
                                     PlUnfetch};

int PlOpen(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  auto* p = reinterpret_cast<PlFile*>(f);
  p->real = reinterpret_cast<sqlite3_file*>(p + 1);
  p->tracked = false;
  p->ino = 0;
  in_vfs_open = true;
  const int rc = real_vfs->xOpen(real_vfs, name, p->real, flags, out_flags);
  in_vfs_open = false;
  if (rc != SQLITE_OK) {
    f->pMethods = nullptr;
    return rc;
  }
  f->pMethods = &kMethods;
  if (name != nullptr) {
    State& s = S();
    std::lock_guard lock(s.mu);
    struct stat st;
    const std::string path = Absolute(name);
    if (Tracked(s, path) && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      p->tracked = true;
      p->ino = st.st_ino;
      Track(s, st.st_ino, path, st.st_size);
    }
  }
  (void)vfs;
  return SQLITE_OK;
}

int PlDelete(sqlite3_vfs*, const char* name, int sync_dir) {
  return real_vfs->xDelete(real_vfs, name, sync_dir);
}
int PlAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
  return real_vfs->xAccess(real_vfs, name, flags, out);
}
int PlFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return real_vfs->xFullPathname(real_vfs, name, n, out);
}
void* PlDlOpen(sqlite3_vfs*, const char* name) { return real_vfs->xDlOpen(real_vfs, name); }
void PlDlError(sqlite3_vfs*, int n, char* out) { real_vfs->xDlError(real_vfs, n, out); }
void (*PlDlSym(sqlite3_vfs*, void* h, const char* sym))(void) {
  return real_vfs->xDlSym(real_vfs, h, sym);
}
void PlDlClose(sqlite3_vfs*, void* h) { real_vfs->xDlClose(real_vfs, h); }
int PlRandomness(sqlite3_vfs*, int n, char* out) { return real_vfs->xRandomness(real_vfs, n, out); }
int PlSleep(sqlite3_vfs*, int us) { return real_vfs->xSleep(real_vfs, us); }
int PlCurrentTime(sqlite3_vfs*, double* out) { return real_vfs->xCurrentTime(real_vfs, out); }
int PlGetLastError(sqlite3_vfs*, int n, char* out) {
  return real_vfs->xGetLastError(real_vfs, n, out);
}
int PlCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

sqlite3_vfs pl_vfs;

// SQLite calls this after each commit to a WAL store, before the commit
// returns to the program: from then on the program may tell someone it is
// done, so nothing of it may still be unsynced. (It also does what SQLite's
// own hook, which this one replaces, does: a checkpoint every 1000 frames.)
int WalHook(void*, sqlite3* db, const char* schema, int frames) {
  if (const char* file = sqlite3_db_filename(db, schema); file && *file) {
    State& s = S();
    std::lock_guard lock(s.mu);
    ++s.commits;
    struct stat st;
    const std::string wal = Absolute(file) + "-wal";
    if (Tracked(s, wal) && ::stat(wal.c_str(), &st) == 0) {
      auto it = s.inodes.find(st.st_ino);
      if (it != s.inodes.end() && !it->second.undo.empty()) {
        ++s.unsynced_commits;
        std::fprintf(stderr, "powerloss: a commit to %s returned with unsynced WAL frames\n", file);
      }
    }
  }
  if (frames >= 1000) sqlite3_wal_checkpoint(db, schema);
  return SQLITE_OK;
}

// The WAL hook is set at each commit, not when the connection opens:
// sqlite3_open sets its own after running the automatic extensions.
int CommitHook(void* db) {
  sqlite3_wal_hook(static_cast<sqlite3*>(db), WalHook, nullptr);
  return 0;
}

int HookConnection(sqlite3* db, char**, const sqlite3_api_routines*) {
  sqlite3_commit_hook(db, CommitHook, db);
  return SQLITE_OK;
}

__attribute__((constructor)) void Start() {
  State& s = S();
  if (const char* root = std::getenv("TUPHAP_POWERLOSS_ROOT"); root && *root) s.root = root;
  if (const char* at = std::getenv("TUPHAP_POWERLOSS_AT")) s.crash_at = std::atoll(at);
  if (const char* mode = std::getenv("TUPHAP_POWERLOSS_MODE"))
    s.torn = std::strcmp(mode, "torn") == 0;
  real_vfs = sqlite3_vfs_find(nullptr);
  pl_vfs = *real_vfs;
  pl_vfs.iVersion = 2;  // no xSetSystemCall: SQLite's own calls go through this library
  pl_vfs.szOsFile = static_cast<int>(sizeof(PlFile)) + real_vfs->szOsFile;
  pl_vfs.zName = "tuphap-powerloss";
  pl_vfs.pAppData = nullptr;
  pl_vfs.xOpen = PlOpen;
  pl_vfs.xDelete = PlDelete;
  pl_vfs.xAccess = PlAccess;
  pl_vfs.xFullPathname = PlFullPathname;
  pl_vfs.xDlOpen = PlDlOpen;
  pl_vfs.xDlError = PlDlError;
  pl_vfs.xDlSym = PlDlSym;
  pl_vfs.xDlClose = PlDlClose;
  pl_vfs.xRandomness = PlRandomness;
  pl_vfs.xSleep = PlSleep;
  pl_vfs.xCurrentTime = PlCurrentTime;
  pl_vfs.xGetLastError = PlGetLastError;
  pl_vfs.xCurrentTimeInt64 = PlCurrentTimeInt64;
  sqlite3_vfs_register(&pl_vfs, /*makeDflt=*/1);
  sqlite3_auto_extension(reinterpret_cast<void (*)()>(HookConnection));
}

// The run is over: the power fails just after it, so only what it synced
// stays. (The exit status the run chose is kept.)
__attribute__((destructor)) void Finish() {
  State& s = S();
  std::lock_guard lock(s.mu);
  Report(s);
  if (s.crash_at <= 0 || s.root.empty()) {  // no power loss: the links kept for one go
    s.crashing = true;
    for (const auto& op : s.pending)
      if (!op.backup.empty()) R().unlink(op.backup.c_str());
    return;
  }
  const int saved = errno;
  LoseUnsynced(s, s.torn);
  errno = saved;
}

}  // namespace

// ---------------------------------------------------------------------------
// The C library: every other file.

extern "C" {

static int OpenTracked(const char* path, int flags, mode_t mode) {
  State& s = S();
  const std::string abs = Absolute(path);
  std::unique_lock lock(s.mu);
  if (!Tracked(s, abs)) {
    lock.unlock();
    return R().open(path, flags, mode);
  }
  struct stat before;
  const bool existed = ::stat(abs.c_str(), &before) == 0;
  if (existed && S_ISDIR(before.st_mode)) {
    const int fd = R().open(path, flags, mode);
    if (fd >= 0) s.dir_fds[fd] = abs;
    return fd;
  }
  if (existed && !S_ISREG(before.st_mode)) return R().open(path, flags, mode);
  const bool creates = !existed && (flags & O_CREAT);
  if (creates) Step(s, 'n');
  if (existed && (flags & O_TRUNC) && before.st_size > 0) {
    Step(s, 'w');
    Track(s, before.st_ino, abs, before.st_size);
    SaveBeforeTruncate(s, before.st_ino, 0);
  }
  const int fd = R().open(path, flags, mode);
  if (fd < 0) return fd;
  struct stat st;
  if (fstat(fd, &st) != 0) return fd;
  if (creates) s.pending.push_back({NameOp::kCreate, Parent(abs), abs, {}, {}});
  Inode& node = Track(s, st.st_ino, abs, creates ? 0 : st.st_size);
  if (creates) {  // a new file (its inode number may be a removed file's)
    node.synced_size = node.size = 0;
    node.undo.clear();
  }
  if (in_vfs_open) {
    s.vfs_fds.insert(fd);
  } else {
    s.fds[fd] = st.st_ino;
  }
  return fd;
}

int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  return OpenTracked(path, flags, mode);
}

// The same function under its large-file name (what SQLite calls).
int open64(const char* path, int flags, ...) __attribute__((alias("open")));

int close(int fd) {
  {
    State& s = S();
    std::lock_guard lock(s.mu);
    s.fds.erase(fd);
    s.vfs_fds.erase(fd);
    s.dir_fds.erase(fd);
  }
  return R().close(fd);
}

static bool BeforeWriteAt(int fd, const void* buf, size_t n, off_t offset, bool at_cursor) {
  State& s = S();
  std::lock_guard lock(s.mu);
  auto it = s.fds.find(fd);
  if (it == s.fds.end() || s.crashing) return false;
  Step(s, 'w');
  if (at_cursor) {
    offset = (fcntl(fd, F_GETFL) & O_APPEND) ? s.inodes[it->second].size : lseek(fd, 0, SEEK_CUR);
  }
  SaveBeforeWrite(s, it->second, offset, buf, n);
  return true;
}

ssize_t write(int fd, const void* buf, size_t n) {
  BeforeWriteAt(fd, buf, n, 0, true);
  return R().write(fd, buf, n);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t offset) {
  BeforeWriteAt(fd, buf, n, offset, false);
  return R().pwrite(fd, buf, n, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off_t offset) {
  BeforeWriteAt(fd, buf, n, offset, false);
  return R().pwrite(fd, buf, n, offset);
}

static int SyncFd(int fd, int (*real)(int)) {
  State& s = S();
  std::unique_lock lock(s.mu);
  const auto file = s.fds.find(fd);
  const auto dir = s.dir_fds.find(fd);
  const bool tracked = !s.crashing && (file != s.fds.end() || dir != s.dir_fds.end());
  if (tracked) Step(s, 's');
  lock.unlock();
  const int rc = real(fd);
  if (rc != 0 || !tracked) return rc;
  lock.lock();
  if (auto f = s.fds.find(fd); f != s.fds.end()) Synced(s, f->second);
  if (auto d = s.dir_fds.find(fd); d != s.dir_fds.end()) DirSynced(s, d->second);
  return rc;
}

int fsync(int fd) { return SyncFd(fd, R().fsync); }
int fdatasync(int fd) { return SyncFd(fd, R().fdatasync); }

int ftruncate(int fd, off_t size) {
  {
    State& s = S();
    std::lock_guard lock(s.mu);
    if (auto it = s.fds.find(fd); it != s.fds.end() && !s.crashing) {
      Step(s, 'w');
      SaveBeforeTruncate(s, it->second, size);
    }
  }
  return R().ftruncate(fd, size);
}

int ftruncate64(int fd, off_t size) { return ftruncate(fd, size); }

int rename(const char* from, const char* to) {
  State& s = S();
  const std::string a = Absolute(from), b = Absolute(to);
  std::lock_guard lock(s.mu);
  if (!Tracked(s, a) || !Tracked(s, b)) return R().rename(from, to);
  Step(s, 'n');
  struct stat st;
  const std::string backup = ::stat(b.c_str(), &st) == 0 ? Backup(s, b) : std::string();
  const int rc = R().rename(from, to);
  if (rc != 0) {
    if (!backup.empty()) R().unlink(backup.c_str());
    return rc;
  }
  if (!backup.empty()) Repoint(s, b, backup);
  Repoint(s, a, b);
  s.pending.push_back({NameOp::kRename, Parent(b), a, b, backup});
  return rc;
}

int unlink(const char* path) {
  State& s = S();
  const std::string a = Absolute(path);
  std::lock_guard lock(s.mu);
  if (!Tracked(s, a)) return R().unlink(path);
  Step(s, 'n');
  // A name created since the directory's last sync goes without a trace.
  for (auto op = s.pending.begin(); op != s.pending.end(); ++op) {
    if (op->kind == NameOp::kCreate && op->a == a) {
      s.pending.erase(op);
      for (auto it = s.inodes.begin(); it != s.inodes.end(); ++it) {
        if (it->second.path == a) {
          s.inodes.erase(it);
          break;
        }
      }
      return R().unlink(path);
    }
  }
  const std::string backup = Backup(s, a);
  const int rc = R().unlink(path);
  if (rc != 0) {
    if (!backup.empty()) R().unlink(backup.c_str());
    return rc;
  }
  if (!backup.empty()) Repoint(s, a, backup);
  s.pending.push_back({NameOp::kUnlink, Parent(a), a, {}, backup});
  return rc;
}

int mkdir(const char* path, mode_t mode) {
  State& s = S();
  const std::string a = Absolute(path);
  std::lock_guard lock(s.mu);
  if (!Tracked(s, a)) return R().mkdir(path, mode);
  Step(s, 'n');
  const int rc = R().mkdir(path, mode);
  if (rc == 0) s.pending.push_back({NameOp::kMkdir, Parent(a), a, {}, {}});
  return rc;
}

}  // extern "C"
