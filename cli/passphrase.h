// Where the passphrase of a node's key file comes from, first that applies:
// --passphrase-file FILE; the service's credential
// $CREDENTIALS_DIRECTORY/passphrase (systemd's LoadCredential=, see
// packaging/tuphap.service); $TUPHAP_PASSPHRASE; a prompt on the terminal
// (no echo); else a clear error. A file is refused when group or others may
// read or write it, and loses one trailing newline.
#pragma once

#include <string>

#include "base/status.h"
#include "cli/context.h"
#include "node/keys.h"
#include "replication/crypto.h"

namespace tuphap::cli {

// One line from the terminal (/dev/tty) without echo, at most 1024 bytes:
// `no_terminal` when there is none, `too_long` for a longer line.
Result<replication::SecretBytes> ReadHiddenLine(std::string_view question, Status no_terminal,
                                                Status too_long);
// For a command that needs the keys.
Result<replication::SecretBytes> ReadPassphrase(const Context& ctx);
// For `init`: asked twice on a terminal.
Result<replication::SecretBytes> ReadNewPassphrase(const Context& ctx);
// The passphrase kept in `path` (--passphrase-file, a credential).
Result<replication::SecretBytes> ReadPassphraseFile(const Context& ctx, const std::string& path);
// Argon2id limits for a new key file: libsodium's "interactive" ones, or
// the smallest when $TUPHAP_KDF=weak in a build configured with
// -DTUPHAP_TEST_KDF=ON (tests and benchmarks only: it makes a stolen key
// file easy to brute-force). Any other build, or any other value, prints a
// one-line warning on stderr and keeps the interactive limits.
node::KdfLimits KdfFromEnvironment();

}  // namespace tuphap::cli
