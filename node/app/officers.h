// Officers: the accounts of the people who use the web app — commune
// officers, heads of office, hub operators — kept in the node's own store
// (table officers, local: never synced, so a password hash never leaves the
// office) and managed with `tuphap officer`.
//
// Passwords are hashed with Argon2id (libsodium's crypto_pwhash_str, the
// limits inside the hash text), always outside any write transaction: a
// hash takes a tenth of a second and 64 MiB, and other writers must not
// wait for it.
//
// Errors: InvalidArgument for a malformed login, name or password, with
// reason() "login", "name" or "password" (the form field to mark);
// AlreadyExists for a login taken; NotFound for an unknown one (management
// calls only: Verify never says it). Messages in the language given.
//
// Not thread-safe: one Officers per Store, one Store per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "node/domain/messages.h"
#include "node/keys.h"
#include "node/store/store.h"

namespace tuphap::app {

// officer: register, amend, search; head: also resolve conflicts and
// revoke; operator: the hub console.
enum class Role { kOfficer, kHead, kOperator };
// "officer", "head", "operator": the words stored and typed.
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

struct Officer {
  int64_t id = 0;
  std::string login, name;
  Role role = Role::kOfficer;
  bool disabled = false;
  int64_t created_ms = 0;
  int failures = 0;             // consecutive wrong passwords
  int64_t locked_until_ms = 0;  // locked while later than now; 0: never locked
  // Last disabled, enabled or given a new password: a web session opened
  // before it ends.
  int64_t changed_ms = 0;
};

class Officers {
 public:
  // Consecutive wrong passwords that lock an account, and for how long.
  static constexpr int kMaxFailures = 5;
  static constexpr std::chrono::minutes kLockout{15};
  // Password length in bytes of UTF-8 (after NFC normalisation).
  static constexpr size_t kMinPassword = 10;
  static constexpr size_t kMaxPassword = 128;
  static constexpr size_t kMinLogin = 2, kMaxLogin = 32;
  static constexpr size_t kMaxName = 100;  // code points

  // `kdf`: the Argon2id limits of new hashes ({}: libsodium's interactive
  // ones). Front ends pass what they decide for the node's key file
  // (cli::KdfFromEnvironment), so a test build with TUPHAP_KDF=weak hashes
  // cheaply too.
  Officers(store::Store& store, const Clock& clock, domain::Lang lang, node::KdfLimits kdf = {});

  void set_lang(domain::Lang lang) { lang_ = lang; }

  // A new enabled account. Logins are ASCII [a-z0-9._-], 2 to 32
  // characters (capitals are taken as small letters); the name is the
  // person's as it should show in history (NFC, 1 to 100 characters, no
  // control characters); the password 10 to 128 bytes of UTF-8.
  Result<Officer> Add(std::string_view login, std::string_view name, Role role,
                      std::string_view password);
  Result<std::vector<Officer>> List();  // by login
  Result<Officer> Find(std::string_view login);
  Result<Officer> Get(int64_t id);
  Status Disable(std::string_view login);
  Status Enable(std::string_view login);
  // A new password; also clears failures and a lock.
  Status SetPassword(std::string_view login, std::string_view password);

  // The officer, for the right password of an enabled, unlocked account.
  // An unknown login and a wrong password give the same PermissionDenied
  // (reason "credentials"), and an unknown login still spends one hash so
  // the time taken does not tell them apart either. The right password of
  // a disabled account: reason "disabled" (a wrong one says only that it is
  // wrong). A locked account, to the right password: reason "locked", the
  // message says until when; to a wrong one, the same answer as an unknown
  // login (so a lock tells no one which logins exist). kMaxFailures consecutive wrong
  // passwords lock it for kLockout; a success resets the count, and so
  // does the end of a lock.
  Result<Officer> Verify(std::string_view login, std::string_view password);

 private:
  // The stored form of a login typed by someone; nullopt when no login can
  // have that form.
  static std::optional<std::string> NormalLogin(std::string_view login);
  Result<std::string> CheckedLogin(std::string_view login) const;
  // The password as hashed (NFC), or InvalidArgument.
  Result<std::string> CheckedPassword(std::string_view password) const;
  Result<std::string> Hash(std::string_view password) const;
  Status LockedError(int64_t until_ms) const;
  Status WrongCredentials() const;
  Status UnknownLogin(std::string_view login) const;
  Result<Officer> Converted(const store::Store::OfficerRow& row) const;

  store::Store& store_;
  const Clock& clock_;
  domain::Lang lang_;
  node::KdfLimits kdf_;
};

}  // namespace tuphap::app
