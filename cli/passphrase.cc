#include "cli/passphrase.h"

#include <fcntl.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
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
                            "the node's keys need its passphrase: set TUPHAP_PASSPHRASE or run "
                            "the command on a terminal")
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

Result<replication::SecretBytes> ReadPassphrase() {
  if (const char* env = std::getenv("TUPHAP_PASSPHRASE"); env != nullptr && *env != '\0')
    return replication::SecretBytes(env, std::strlen(env));
  return Prompt("passphrase of this node's keys: ");
}

Result<replication::SecretBytes> ReadNewPassphrase() {
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
