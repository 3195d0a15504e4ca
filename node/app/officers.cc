#include "node/app/officers.h"

#include <sodium.h>

#include <utility>

#include "base/utf8.h"
#include "node/domain/catalogue.h"
#include "node/domain/time_zone.h"
#include "node/domain/vn_text.h"
#include "replication/hash.h"

namespace tuphap::app {
namespace {

enum class Text {
  kLoginShape,
  kNameEmpty,
  kNameLong,
  kNameChars,
  kPasswordShort,
  kPasswordLong,
  kPasswordUtf8,
  kLoginTaken,
  kUnknownLogin,
  kWrongCredentials,
  kDisabled,
  kLocked,
  kStoredRole,
};

struct Wording {
  Text text;
  const char* en;
};

// The officer-facing sentences of accounts (domain::Tr placeholders); their
// Vietnamese is in po/vi.po.
constexpr Wording kWordings[] = {
    {Text::kLoginShape, "login '{0}' is not 2 to 32 small ASCII letters, digits, '.', '_' or '-'"},
    {Text::kNameEmpty, "the officer's name is empty"},
    {Text::kNameLong, "the officer's name is longer than {0} characters"},
    {Text::kNameChars,
     "the officer's name is not valid UTF-8 text or holds a control character (at byte {0})"},
    {Text::kPasswordShort, "the password is shorter than {0} bytes"},
    {Text::kPasswordLong, "the password is longer than {0} bytes"},
    {Text::kPasswordUtf8, "the password is not valid UTF-8 text"},
    {Text::kLoginTaken, "the login '{0}' is already taken"},
    {Text::kUnknownLogin, "no officer account has the login '{0}'"},
    {Text::kWrongCredentials, "wrong login or password"},
    {Text::kDisabled, "this account is disabled; ask the node's administrator"},
    {Text::kLocked,
     "this account is locked after {0} wrong passwords in a row, until {1}; try again then, or ask "
     "the node's administrator to set a new password"},
    {Text::kStoredRole, "the account '{0}' has an unknown role '{1}' in the store"},
};

std::string Say(domain::Lang lang, Text text, std::initializer_list<std::string_view> args = {}) {
  for (const Wording& w : kWordings) {
    if (w.text == text) return domain::Tr(lang, w.en, args);
  }
  return "?";
}

// A lock-out's end in the one form people read times in
// (domain::TimeZone::Human): the accounts are not told the node's zone, so
// Vietnam's, which is the default zone of a node.
std::string VietnamTime(int64_t unix_ms) {
  static const auto* zone = [] {
    Result<domain::TimeZone> z = domain::TimeZone::Named("Asia/Ho_Chi_Minh");
    return z.ok() ? new domain::TimeZone(std::move(*z)) : nullptr;
  }();
  if (zone == nullptr) return std::to_string(unix_ms / 1000) + " (Unix)";
  return zone->Human(unix_ms);
}

bool IsControl(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp < 0xA0); }

std::string Trimmed(std::string_view s) {
  const size_t b = s.find_first_not_of(' ');
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(' ') - b + 1));
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOfficer:
      return "officer";
    case Role::kHead:
      return "head";
    case Role::kOperator:
      return "operator";
  }
  return "officer";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kOfficer, Role::kHead, Role::kOperator}) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

Officers::Officers(store::Store& store, const Clock& clock, domain::Lang lang, node::KdfLimits kdf)
    : store_(store),
      clock_(clock),
      lang_(lang),
      kdf_(kdf == node::KdfLimits{} ? node::KdfLimits::Interactive() : kdf) {
  replication::EnsureSodium();
}

std::optional<std::string> Officers::NormalLogin(std::string_view login) {
  if (login.size() < kMinLogin || login.size() > kMaxLogin) return std::nullopt;
  std::string out(login);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return std::nullopt;
  }
  return out;
}

Result<std::string> Officers::CheckedLogin(std::string_view login) const {
  std::optional<std::string> normal = NormalLogin(login);
  if (!normal) {
    // The login as typed goes into the message: only its valid UTF-8 part.
    std::string shown(login.substr(0, 64));
    if (const size_t bad = FindInvalidUtf8(shown); bad != std::string::npos) shown.resize(bad);
    return Status::InvalidArgument(Say(lang_, Text::kLoginShape, {shown})).WithReason("login");
  }
  return *normal;
}

Result<std::string> Officers::CheckedPassword(std::string_view password) const {
  auto bad = [&](Text t, size_t n = 0) {
    return Status::InvalidArgument(Say(lang_, t, {std::to_string(n)})).WithReason("password");
  };
  // Bounded before normalising: NFC of a huge input is work for nothing.
  if (password.size() > kMaxPassword) return bad(Text::kPasswordLong, kMaxPassword);
  if (!IsValidUtf8(password)) return bad(Text::kPasswordUtf8);
  // The same password typed with another input method (composed or
  // decomposed accents) must match: hashed in NFC.
  std::string nfc = domain::ToNfc(password);
  if (nfc.size() > kMaxPassword) return bad(Text::kPasswordLong, kMaxPassword);
  if (nfc.size() < kMinPassword) return bad(Text::kPasswordShort, kMinPassword);
  return nfc;
}

Result<std::string> Officers::Hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), kdf_.ops, kdf_.mem) != 0) {
    return Status::ResourceExhausted("not enough memory to hash a password with Argon2id (" +
                                     std::to_string(kdf_.mem >> 20) + " MiB)");
  }
  return std::string(out);
}

Status Officers::LockedError(int64_t until_ms) const {
  return Status::PermissionDenied(
             Say(lang_, Text::kLocked, {std::to_string(kMaxFailures), VietnamTime(until_ms)}))
      .WithReason("locked");
}

Status Officers::WrongCredentials() const {
  return Status::PermissionDenied(Say(lang_, Text::kWrongCredentials)).WithReason("credentials");
}

Status Officers::UnknownLogin(std::string_view login) const {
  return Status::NotFound(Say(lang_, Text::kUnknownLogin, {login}));
}

Result<Officer> Officers::Converted(const store::Store::OfficerRow& row) const {
  std::optional<Role> role = ParseRole(row.role);
  if (!role) return Status::Corruption(Say(lang_, Text::kStoredRole, {row.login, row.role}));
  Officer o;
  o.id = row.id;
  o.login = row.login;
  o.name = row.name;
  o.role = *role;
  o.disabled = row.disabled;
  o.created_ms = row.created_ms;
  o.failures = row.failures;
  o.locked_until_ms = row.locked_until_ms;
  o.changed_ms = row.changed_ms;
  return o;
}

Result<Officer> Officers::Add(std::string_view login, std::string_view name, Role role,
                              std::string_view password) {
  TUPHAP_ASSIGN_OR_RETURN(std::string normal, CheckedLogin(login));
  if (const size_t bad = FindInvalidUtf8(name); bad != std::string_view::npos) {
    return Status::InvalidArgument(Say(lang_, Text::kNameChars, {std::to_string(bad)}))
        .WithReason("name");
  }
  const std::string nfc = Trimmed(domain::ToNfc(name));
  if (nfc.empty()) return Status::InvalidArgument(Say(lang_, Text::kNameEmpty)).WithReason("name");
  if (CountCodePoints(nfc) > kMaxName) {
    return Status::InvalidArgument(Say(lang_, Text::kNameLong, {std::to_string(kMaxName)}))
        .WithReason("name");
  }
  for (size_t at = 0; at < nfc.size();) {
    const size_t here = at;
    if (IsControl(NextCodePoint(nfc, &at))) {
      return Status::InvalidArgument(Say(lang_, Text::kNameChars, {std::to_string(here)}))
          .WithReason("name");
    }
  }
  TUPHAP_ASSIGN_OR_RETURN(std::string checked, CheckedPassword(password));
  TUPHAP_ASSIGN_OR_RETURN(std::string hash, Hash(checked));
  store::Store::OfficerRow row;
  row.login = normal;
  row.name = nfc;
  row.role = std::string(RoleName(role));
  row.password_hash = std::move(hash);
  row.created_ms = clock_.WallMillis();
  Result<int64_t> id = store_.AddOfficer(row);
  if (!id.ok()) {
    // Two processes may add one login at once: the UNIQUE index decides.
    if (id.status().code() == StatusCode::kAlreadyExists)
      return Status::AlreadyExists(Say(lang_, Text::kLoginTaken, {normal}));
    return id.status();
  }
  return Get(*id);
}

Result<std::vector<Officer>> Officers::List() {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::Store::OfficerRow> rows, store_.Officers());
  std::vector<Officer> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    TUPHAP_ASSIGN_OR_RETURN(Officer o, Converted(row));
    out.push_back(std::move(o));
  }
  return out;
}

Result<Officer> Officers::Find(std::string_view login) {
  TUPHAP_ASSIGN_OR_RETURN(std::string normal, CheckedLogin(login));
  TUPHAP_ASSIGN_OR_RETURN(std::optional<store::Store::OfficerRow> row, store_.FindOfficer(normal));
  if (!row) return UnknownLogin(normal);
  return Converted(*row);
}

Result<Officer> Officers::Get(int64_t id) {
  TUPHAP_ASSIGN_OR_RETURN(std::optional<store::Store::OfficerRow> row, store_.OfficerById(id));
  if (!row) return Status::NotFound(Say(lang_, Text::kUnknownLogin, {"#" + std::to_string(id)}));
  return Converted(*row);
}

Status Officers::Disable(std::string_view login) {
  TUPHAP_ASSIGN_OR_RETURN(std::string normal, CheckedLogin(login));
  TUPHAP_ASSIGN_OR_RETURN(bool found, store_.SetOfficerDisabled(normal, true, clock_.WallMillis()));
  return found ? Status::Ok() : UnknownLogin(normal);
}

Status Officers::Enable(std::string_view login) {
  TUPHAP_ASSIGN_OR_RETURN(std::string normal, CheckedLogin(login));
  TUPHAP_ASSIGN_OR_RETURN(bool found,
                          store_.SetOfficerDisabled(normal, false, clock_.WallMillis()));
  return found ? Status::Ok() : UnknownLogin(normal);
}

Status Officers::SetPassword(std::string_view login, std::string_view password) {
  TUPHAP_ASSIGN_OR_RETURN(std::string normal, CheckedLogin(login));
  TUPHAP_ASSIGN_OR_RETURN(std::string checked, CheckedPassword(password));
  // Known before hashing, so a typing mistake in the login costs no hash.
  TUPHAP_ASSIGN_OR_RETURN(std::optional<store::Store::OfficerRow> row, store_.FindOfficer(normal));
  if (!row) return UnknownLogin(normal);
  TUPHAP_ASSIGN_OR_RETURN(std::string hash, Hash(checked));
  TUPHAP_ASSIGN_OR_RETURN(bool found, store_.SetOfficerPassword(normal, hash, clock_.WallMillis()));
  return found ? Status::Ok() : UnknownLogin(normal);
}

Result<Officer> Officers::Verify(std::string_view login, std::string_view password) {
  // A password that could never have been set is simply wrong; it is still
  // counted as a failure.
  Result<std::string> checked = CheckedPassword(password);
  const std::string_view given =
      checked.ok() ? std::string_view(*checked) : password.substr(0, kMaxPassword);
  std::optional<store::Store::OfficerRow> row;
  if (std::optional<std::string> normal = NormalLogin(login)) {
    TUPHAP_ASSIGN_OR_RETURN(row, store_.FindOfficer(*normal));
  }
  if (!row) {
    // As long as checking a real account's password takes.
    TUPHAP_RETURN_IF_ERROR(Hash(given).status());
    return WrongCredentials();
  }
  const int64_t now = clock_.WallMillis();
  const bool right =
      crypto_pwhash_str_verify(row->password_hash.c_str(), given.data(), given.size()) == 0 &&
      checked.ok();
  // A lock is said only to whoever knows the password: to anyone else a
  // locked account answers as an unknown login does, after as long a hash,
  // so locking does not tell which logins exist.
  if (row->locked_until_ms > now) {
    return right ? LockedError(row->locked_until_ms) : WrongCredentials();
  }
  if (!right) {
    // A disabled account cannot be got into, so its failures are not kept.
    if (row->disabled) return WrongCredentials();
    TUPHAP_RETURN_IF_ERROR(store_
                               .AddOfficerFailure(row->login, kMaxFailures,
                                                  std::chrono::milliseconds(kLockout).count(), now)
                               .status());
    return WrongCredentials();
  }
  if (row->disabled) {
    return Status::PermissionDenied(Say(lang_, Text::kDisabled)).WithReason("disabled");
  }
  TUPHAP_ASSIGN_OR_RETURN(bool cleared,
                          store_.ClearOfficerFailures(row->id, row->password_hash, now));
  if (!cleared) {
    // Changed since it was read: disabled, locked by failures racing with
    // this one, a new password, or gone.
    TUPHAP_ASSIGN_OR_RETURN(std::optional<store::Store::OfficerRow> again,
                            store_.OfficerById(row->id));
    if (again && again->disabled)
      return Status::PermissionDenied(Say(lang_, Text::kDisabled)).WithReason("disabled");
    if (again && again->locked_until_ms > now) return LockedError(again->locked_until_ms);
    return WrongCredentials();
  }
  row->failures = 0;
  row->locked_until_ms = 0;
  return Converted(*row);
}

}  // namespace tuphap::app
