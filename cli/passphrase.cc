#include "cli/passphrase.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string_view>

#include "node/domain/catalogue.h"
#include "node/domain/messages.h"

namespace tuphap::cli {
namespace {

constexpr size_t kMaxPassphrase = 1024;

// `question` in English; asked in the officer's language (po/vi.po).
Result<replication::SecretBytes> Prompt(const char* question) {
  return ReadHiddenLine(domain::Tr(domain::LangFromEnvironment(), question),
                        Status::FailedPrecondition(
                            "the node's keys need its passphrase: give --passphrase-file FILE, "
                            "set TUPHAP_PASSPHRASE or run the command on a terminal")
                            .WithReason("E_LOCKED"),
                        Status::InvalidArgument("the passphrase is longer than 1024 bytes"));
}

}  // namespace

Result<replication::SecretBytes> ReadHiddenLine(std::string_view question, Status no_terminal,
                                                Status too_long) {
  const int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return no_terminal;
  termios old{};
  const bool tty = tcgetattr(fd, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  (void)!write(fd, question.data(), question.size());
  replication::SecretBytes buf(kMaxPassphrase);
  size_t n = 0;
  bool done = false;
  while (n < buf.size()) {
    char c;
    const ssize_t r = read(fd, &c, 1);
    if (r <= 0 || c == '\n') {
      done = true;
      break;
    }
    buf.data()[n++] = static_cast<uint8_t>(c);
  }
  if (tty) tcsetattr(fd, TCSAFLUSH, &old);
  close(fd);
  if (!done) return too_long;
  return replication::SecretBytes(buf.data(), n);
}

Result<replication::SecretBytes> ReadPassphraseFile(const Context& ctx, const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    return Status::NotFound(Tr(ctx, "cannot open the passphrase file {0}: {1}",
                               {path, domain::TranslateMessageText(ctx.lang, std::strerror(err))}));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Status::InvalidArgument(
        Tr(ctx, "the passphrase file is not a regular file: {0}", {path}));
  }
  // A key's passphrase that other accounts on the machine can read guards
  // nothing; refuse it rather than warn, as ssh does with a private key.
  if ((st.st_mode & 077) != 0) {
    close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::PermissionDenied(Tr(ctx,
                                       "the passphrase file {0} may be read or written by group "
                                       "or others (mode {1}): run chmod 600 {0}",
                                       {path, mode}))
        .WithReason("E_PASSPHRASE_FILE_MODE");
  }
  // One byte more than the limit, plus a trailing CR LF, tells a longer
  // file from one exactly at the limit.
  replication::SecretBytes buf(kMaxPassphrase + 3);
  size_t n = 0;
  while (n < buf.size()) {
    const ssize_t r = read(fd, buf.data() + n, buf.size() - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int err = errno;
      close(fd);
      return Status::IoError(
          Tr(ctx, "cannot read the passphrase file {0}: {1}",
             {path, domain::TranslateMessageText(ctx.lang, std::strerror(err))}));
    }
    if (r == 0) break;
    n += static_cast<size_t>(r);
  }
  close(fd);
  // `echo pass > file` writes one newline after it (a Windows editor "\r\n");
  // it is not part of the passphrase. Only one: anything else is the
  // operator's own.
  if (n > 0 && buf.data()[n - 1] == '\n') {
    --n;
    if (n > 0 && buf.data()[n - 1] == '\r') --n;
  }
  if (n > kMaxPassphrase)
    return Status::InvalidArgument(
        Tr(ctx, "the passphrase in {0} is longer than 1024 bytes", {path}));
  if (n == 0) return Status::InvalidArgument(Tr(ctx, "the passphrase file is empty: {0}", {path}));
  return replication::SecretBytes(buf.data(), n);
}

namespace {

// --passphrase-file, else systemd's credential: the file to read, or none.
std::string PassphraseFile(const Context& ctx) {
  if (!ctx.passphrase_file.empty()) return ctx.passphrase_file;
  // LoadCredential=passphrase:/etc/tuphap/passphrase puts a private copy
  // here, readable by the service alone, instead of an Environment= line
  // that every process of the user can read in /proc/PID/environ.
  if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir != nullptr && *dir != '\0') {
    std::string file = std::string(dir) + "/passphrase";
    std::error_code ec;
    if (std::filesystem::exists(file, ec)) return file;
  }
  return "";
}

}  // namespace

Result<replication::SecretBytes> ReadPassphrase(const Context& ctx) {
  if (std::string file = PassphraseFile(ctx); !file.empty()) return ReadPassphraseFile(ctx, file);
  if (const char* env = std::getenv("TUPHAP_PASSPHRASE"); env != nullptr && *env != '\0')
    return replication::SecretBytes(env, std::strlen(env));
  return Prompt("passphrase of this node's keys: ");
}

Result<replication::SecretBytes> ReadNewPassphrase(const Context& ctx) {
  if (std::string file = PassphraseFile(ctx); !file.empty()) return ReadPassphraseFile(ctx, file);
  if (const char* env = std::getenv("TUPHAP_PASSPHRASE"); env != nullptr && *env != '\0')
    return replication::SecretBytes(env, std::strlen(env));
  TUPHAP_ASSIGN_OR_RETURN(replication::SecretBytes first,
                          Prompt("new passphrase for this node's keys (8 characters or more): "));
  TUPHAP_ASSIGN_OR_RETURN(replication::SecretBytes again, Prompt("the same passphrase again: "));
  if (first.size() != again.size() ||
      sodium_memcmp(first.data(), again.data(), first.size()) != 0) {
    return Status::InvalidArgument("the two passphrases differ; nothing was created");
  }
  return first;
}

node::KdfLimits KdfFromEnvironment() {
  const char* env = std::getenv("TUPHAP_KDF");
  if (env == nullptr || *env == '\0') return {};
  const domain::Lang lang = domain::LangFromEnvironment();
  if (std::string_view(env) != "weak") {
    std::cerr << domain::Tr(lang,
                            "tuphap: warning: ignoring TUPHAP_KDF={0} (only 'weak' is known, and "
                            "only by test builds)",
                            {env})
              << '\n';
    return {};
  }
#if TUPHAP_TEST_KDF
  return node::KdfLimits::Weak();
#else
  // A production build: whatever the environment says, a key file gets the
  // real Argon2id limits (a weak one would make a stolen key file, and a
  // hub's province root key with it, cheap to brute-force). The acceptance
  // scripts that export the variable still run, only slower.
  std::cerr << domain::Tr(lang,
                          "tuphap: warning: ignoring TUPHAP_KDF=weak: only test builds "
                          "(TUPHAP_TEST_KDF) honour it; the keys get the normal Argon2id limits")
            << '\n';
  return {};
#endif
}

}  // namespace tuphap::cli
