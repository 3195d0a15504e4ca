#include "node/node_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "base/clock.h"
#include "base/file_io.h"
#include "node/keys.h"
#include "node/node_info.h"

namespace tuphap::node {

namespace fs = std::filesystem;

std::string ConfigPath(const std::string& dir) { return dir + "/tuphap.toml"; }

Status PublishNodeDir(const std::string& dir,
                      const std::function<Status(const std::string& stage)>& build) {
  std::error_code ec;
  if (fs::exists(StorePath(dir), ec)) {
    return Status::AlreadyExists("a node already lives in " + dir +
                                 " (remove it first to start over)");
  }
  // The folders created here are made durable (an fsync of each one's
  // parent): a power cut after init returned must not take the node away.
  std::vector<fs::path> created;
  for (fs::path p = fs::absolute(dir, ec); !p.empty() && !fs::exists(p, ec); p = p.parent_path())
    created.push_back(p);
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  for (auto p = created.rbegin(); p != created.rend(); ++p)
    TUPHAP_RETURN_IF_ERROR(SyncParentDirectory(p->string()));
  // One init at a time in a folder: a lock on the folder itself (nothing
  // to create or remove), then the checks again, so two inits cannot mix
  // their keys and stores.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return Status::IoError("cannot open " + dir + ": " + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } const dir_lock{dir_fd};
  if (::flock(dir_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      return Status::AlreadyExists("another 'tuphap init' or 'tuphap restore' is running in " +
                                   dir);
    return Status::IoError("cannot lock " + dir + ": " + std::strerror(errno));
  }
  if (fs::exists(StorePath(dir), ec)) {
    return Status::AlreadyExists("a node already lives in " + dir +
                                 " (remove it first to start over)");
  }
  // What a removed store left (its WAL or journal) would be replayed into
  // a new store of the same name: SQLite does not tie them to their file.
  for (const char* suffix : {"-wal", "-journal"}) {
    if (fs::exists(StorePath(dir) + suffix, ec)) {
      return Status::AlreadyExists("the store of an earlier node left " + StorePath(dir) + suffix +
                                   " behind: remove the whole folder " + dir +
                                   " (or choose another) to start over");
    }
  }
  // A key file without a store (an earlier init cut short before it
  // published the store) is kept aside, not overwritten: secret keys are
  // never destroyed by init.
  if (fs::exists(KeyFilePath(dir), ec)) {
    const std::string aside =
        KeyFilePath(dir) + ".replaced-" + std::to_string(SystemClock().WallMillis());
    TUPHAP_RETURN_IF_ERROR(RenameFile(KeyFilePath(dir), aside));
  }
  const std::string stage = (fs::path(dir) / ".init").string();
  fs::remove_all(stage, ec);
  fs::create_directory(stage, ec);
  if (ec) return Status::IoError("cannot create " + stage + ": " + ec.message());
  TUPHAP_RETURN_IF_ERROR(build(stage));
  if (fs::exists(StorePath(stage) + "-wal", ec)) {
    return Status::Internal("the new store in " + stage + " was not checkpointed when closed");
  }
  if (fs::exists(ConfigPath(stage), ec))
    TUPHAP_RETURN_IF_ERROR(PublishFile(ConfigPath(stage), ConfigPath(dir)));
  TUPHAP_RETURN_IF_ERROR(PublishFile(KeyFilePath(stage), KeyFilePath(dir)));
  TUPHAP_RETURN_IF_ERROR(PublishFile(StorePath(stage), StorePath(dir)));
  fs::remove_all(stage, ec);
  return Status::Ok();
}

}  // namespace tuphap::node
