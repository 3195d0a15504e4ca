// `tuphap officer add|list|disable|enable|passwd`: the accounts of the
// people who use the web app (node/app/officers.h). They live in the
// node's store but need none of its private keys, so these commands never
// ask for the key passphrase. A password comes from
// $TUPHAP_OFFICER_PASSWORD or, on a terminal, is asked twice without echo.
#include <sodium.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/passphrase.h"
#include "node/app/officers.h"

namespace tuphap::cli {
namespace {

// One line from the terminal without echo; FailedPrecondition without one.
Result<std::string> AskQuietly(const Context& ctx, const std::string& question) {
  TUPHAP_ASSIGN_OR_RETURN(
      replication::SecretBytes line,
      ReadHiddenLine(
          question,
          Status::FailedPrecondition(Tr(ctx,
                                        "the officer's password: set TUPHAP_OFFICER_PASSWORD or "
                                        "run the command on a terminal")),
          Status::InvalidArgument(Tr(ctx, "the password is longer than 1024 bytes"))));
  return std::string(line.view());
}

Result<std::string> NewPassword(const Context& ctx, const std::string& login) {
  if (const char* env = std::getenv("TUPHAP_OFFICER_PASSWORD"); env != nullptr && *env != '\0')
    return std::string(env);
  TUPHAP_ASSIGN_OR_RETURN(
      std::string first,
      AskQuietly(ctx, Tr(ctx, "new password for {0} (10 characters or more): ", {login})));
  TUPHAP_ASSIGN_OR_RETURN(std::string again, AskQuietly(ctx, Tr(ctx, "the same password again: ")));
  const bool same =
      first.size() == again.size() && sodium_memcmp(first.data(), again.data(), first.size()) == 0;
  sodium_memzero(again.data(), again.size());
  if (!same) {
    sodium_memzero(first.data(), first.size());
    return Status::InvalidArgument(Tr(ctx, "the two passwords differ; nothing was changed"));
  }
  return first;
}

// The node's store and the accounts in it. The key passphrase is refused
// rather than asked: nothing here needs a private key.
struct Accounts {
  std::unique_ptr<app::Office> office;
  std::unique_ptr<app::Officers> officers;
};

Result<Accounts> OpenAccounts(const Context& ctx) {
  node::NodeOptions options = ctx.NodeOptions();
  options.passphrase = []() -> Result<replication::SecretBytes> {
    return Status::Internal("officer accounts asked for the node's private keys");
  };
  Accounts a;
  TUPHAP_ASSIGN_OR_RETURN(a.office, app::Office::Open(ctx.data_dir, options, ctx.lang));
  a.officers = std::make_unique<app::Officers>(
      a.office->node().store(), *a.office->node().options().clock, ctx.lang, KdfFromEnvironment());
  return a;
}

Json OfficerJson(const Context& ctx, const app::Officer& o, int64_t now_ms) {
  Json j = Json::MakeObject();
  j.Set("id", o.id);
  j.Set("login", o.login);
  j.Set("name", o.name);
  j.Set("role", std::string(app::RoleName(o.role)));
  j.Set("disabled", o.disabled);
  j.Set("failures", static_cast<int64_t>(o.failures));
  if (o.locked_until_ms > now_ms) {
    j.Set("locked_until", ctx.JsonTime(o.locked_until_ms));
  } else {
    j.Set("locked_until", Json());
  }
  j.Set("created", ctx.JsonTime(o.created_ms));
  return j;
}

std::string StateText(const Context& ctx, const app::Officer& o, int64_t now_ms) {
  if (o.disabled) return Tr(ctx, "disabled");
  if (o.locked_until_ms > now_ms) {
    return Tr(ctx, "locked until ") + ctx.PersonTime(o.locked_until_ms);
  }
  return Tr(ctx, "active");
}

// One line saying what was done to `login`, or its JSON.
Status Done(const Context& ctx, const std::string& login, const char* what,
            const std::string& text) {
  if (ctx.json) {
    Json j = Json::MakeObject();
    j.Set("login", login);
    j.Set(what, true);
    ctx.PrintJson(j);
  } else {
    *ctx.out << text << '\n';
  }
  return Status::Ok();
}

}  // namespace

void RegisterOfficerCommands(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* officer = app.add_subcommand(
      "officer", "Accounts of the people who use the web app (tuphap serve --ui)");
  officer->require_subcommand(1);

  struct AddArgs {
    std::string login, name, role;
  };
  auto add_args = std::make_shared<AddArgs>();
  CLI::App* add = officer->add_subcommand(
      "add", "Add an account; the password from $TUPHAP_OFFICER_PASSWORD or asked twice");
  add->add_option("login", add_args->login, "login: 2-32 of a-z 0-9 . _ -")->required();
  add->add_option("--name", add_args->name, "the officer's full name, as history shows it")
      ->required();
  add->add_option("--role", add_args->role,
                  "officer (register, amend, search), head (also resolve and revoke), operator "
                  "(hub console)")
      ->required()
      ->check(CLI::IsMember({"officer", "head", "operator"}));
  add->callback([&ctx, action, add_args] {
    *action = [&ctx, add_args]() -> Status {
      const app::Role role = app::ParseRole(add_args->role).value_or(app::Role::kOfficer);
      TUPHAP_ASSIGN_OR_RETURN(Accounts a, OpenAccounts(ctx));
      // The console an operator uses is a hub's alone.
      if (role == app::Role::kOperator && a.office->info().role != node::Role::kHub) {
        return Status::InvalidArgument(
                   Tr(ctx, "role operator is for the hub's console; this is a commune node"))
            .WithReason("role");
      }
      // A malformed login is said before the password is asked for.
      if (Status s = a.officers->Find(add_args->login).status();
          s.code() == StatusCode::kInvalidArgument)
        return s;
      TUPHAP_ASSIGN_OR_RETURN(std::string password, NewPassword(ctx, add_args->login));
      Result<app::Officer> added = a.officers->Add(add_args->login, add_args->name, role, password);
      sodium_memzero(password.data(), password.size());
      if (!added.ok()) return added.status();
      if (ctx.json) {
        ctx.PrintJson(OfficerJson(ctx, *added, a.office->node().options().clock->WallMillis()));
      } else {
        *ctx.out << Tr(ctx, "added officer account ") << added->login << " (" << added->name << ", "
                 << app::RoleName(added->role) << ")\n";
      }
      return Status::Ok();
    };
  });

  CLI::App* list = officer->add_subcommand("list", "Every account, by login");
  list->callback([&ctx, action] {
    *action = [&ctx]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(Accounts a, OpenAccounts(ctx));
      TUPHAP_ASSIGN_OR_RETURN(std::vector<app::Officer> all, a.officers->List());
      const int64_t now = a.office->node().options().clock->WallMillis();
      if (ctx.json) {
        Json j = Json::MakeObject();
        Json rows = Json::MakeArray();
        for (const auto& o : all) rows.Push(OfficerJson(ctx, o, now));
        j.Set("officers", std::move(rows));
        ctx.PrintJson(j);
        return Status::Ok();
      }
      if (all.empty()) {
        *ctx.out << Tr(ctx, "no officer accounts (add one with 'tuphap officer add')") << '\n';
        return Status::Ok();
      }
      Table t({Tr(ctx, "login"), Tr(ctx, "name"), Tr(ctx, "role"), Tr(ctx, "state"),
               Tr(ctx, "created")});
      for (const auto& o : all) {
        t.Add({o.login, o.name, std::string(app::RoleName(o.role)), StateText(ctx, o, now),
               ctx.PersonTime(o.created_ms)});
      }
      t.Print(*ctx.out);
      return Status::Ok();
    };
  });

  auto login = std::make_shared<std::string>();
  CLI::App* disable =
      officer->add_subcommand("disable", "Refuse every login to the account (it stays listed)");
  disable->add_option("login", *login, "the account's login")->required();
  disable->callback([&ctx, action, login] {
    *action = [&ctx, login]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(Accounts a, OpenAccounts(ctx));
      TUPHAP_RETURN_IF_ERROR(a.officers->Disable(*login));
      return Done(ctx, *login, "disabled", Tr(ctx, "disabled officer account {0}", {*login}));
    };
  });
  CLI::App* enable = officer->add_subcommand("enable", "Let a disabled account log in again");
  enable->add_option("login", *login, "the account's login")->required();
  enable->callback([&ctx, action, login] {
    *action = [&ctx, login]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(Accounts a, OpenAccounts(ctx));
      TUPHAP_RETURN_IF_ERROR(a.officers->Enable(*login));
      return Done(ctx, *login, "enabled", Tr(ctx, "enabled officer account {0}", {*login}));
    };
  });
  CLI::App* passwd = officer->add_subcommand(
      "passwd", "Set a new password (also ends a lockout); from $TUPHAP_OFFICER_PASSWORD or asked");
  passwd->add_option("login", *login, "the account's login")->required();
  passwd->callback([&ctx, action, login] {
    *action = [&ctx, login]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(Accounts a, OpenAccounts(ctx));
      // Known before the password is asked, so a mistyped login asks nothing.
      TUPHAP_RETURN_IF_ERROR(a.officers->Find(*login).status());
      TUPHAP_ASSIGN_OR_RETURN(std::string password, NewPassword(ctx, *login));
      const Status s = a.officers->SetPassword(*login, password);
      sodium_memzero(password.data(), password.size());
      TUPHAP_RETURN_IF_ERROR(s);
      return Done(ctx, *login, "password_set", Tr(ctx, "new password set for {0}", {*login}));
    };
  });
}

}  // namespace tuphap::cli
