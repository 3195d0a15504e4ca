// tuphap: the command line of a commune or hub node.
//
// Exit codes: 0 success; 2 bad usage or invalid input; 3 not found (an
// unknown record, no store); 4 refused (permission, state, equivocation);
// 130 interrupted by the operator (work done so far is kept); 1 any other
// failure (I/O, corruption, busy).
#include <cstdlib>
#include <iostream>
#include <new>

#include "cli/commands.h"
#include "cli/i18n.h"
#include "cli/logging.h"
#include "cli/version.h"

namespace {

int ExitCode(const tuphap::Status& s) {
  using tuphap::StatusCode;
  switch (s.code()) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kInvalidArgument:
      return 2;
    case StatusCode::kNotFound:
      return 3;
    case StatusCode::kAlreadyExists:
    case StatusCode::kPermissionDenied:
    case StatusCode::kFailedPrecondition:
      return 4;
    case StatusCode::kCancelled:
      return 130;  // as a shell reports a command ended by Ctrl-C
    default:
      return 1;
  }
}

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::move(fallback);
}

}  // namespace

int main(int argc, char** argv) {
  tuphap::cli::Context ctx;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;
  ctx.data_dir = EnvOr("TUPHAP_DATA", "./tuphap-data");
  ctx.officer = EnvOr("TUPHAP_OFFICER", EnvOr("USER", "officer"));
  ctx.lang = tuphap::domain::LangFromEnvironment();

  CLI::App app{"tuphap: offline-first sync node for commune justice offices"};
  app.set_help_all_flag("--help-all", "Help for every command");
  app.set_version_flag("--version", tuphap::cli::VersionLine(),
                       "print the program, store schema and protocol versions");
  // Global options may come before or after the command name.
  app.fallthrough();
  app.require_subcommand(1);
  app.add_option("--data", ctx.data_dir, "data directory (default $TUPHAP_DATA or ./tuphap-data)");
  app.add_flag("--json", ctx.json, "machine-readable output");
  app.add_option("--officer", ctx.officer,
                 "officer recorded on changes (default $TUPHAP_OFFICER or $USER)");

  app.add_flag("--accept-clock", ctx.accept_clock,
               "this computer's clock is right, although times recorded here earlier are far "
               "ahead of it: go on after them instead of refusing");

  std::string log_level;
  app.add_option("--log-level", log_level,
                 "log on stderr from this level up: trace, debug, info, warn, error, off "
                 "(default info for serve and sync, warn otherwise)")
      ->check(CLI::IsMember(tuphap::cli::LogLevelChoices()));
  app.add_option("--passphrase-file", ctx.passphrase_file,
                 "read the keys' passphrase from FILE (mode 600; one trailing newline is "
                 "dropped) instead of $TUPHAP_PASSPHRASE or the terminal");

  std::string config_path;
  app.add_option("--config", config_path, "config file (default DATA/tuphap.toml when present)");

  tuphap::cli::Action action;
  tuphap::cli::RegisterNodeCommands(app, ctx, &action);
  tuphap::cli::RegisterRecordCommands(app, ctx, &action);
  tuphap::cli::RegisterDemoCommand(app, ctx, &action);
  tuphap::cli::RegisterImportCommand(app, ctx, &action);
  tuphap::cli::RegisterConflictCommands(app, ctx, &action);
  tuphap::cli::RegisterGenerateCommand(app, ctx, &action);
  tuphap::cli::RegisterSchemaCommand(app, ctx, &action);
  tuphap::cli::RegisterSecurityCommands(app, ctx, &action);
  tuphap::cli::RegisterSyncCommands(app, ctx, &action);
  tuphap::cli::RegisterReportCommands(app, ctx, &action);
  tuphap::cli::RegisterPersonCommands(app, ctx, &action);
  tuphap::cli::RegisterOfficerCommands(app, ctx, &action);
  tuphap::cli::RegisterBackupCommands(app, ctx, &action);
  tuphap::cli::TranslateHelp(app, ctx);
  app.failure_message([&ctx](const CLI::App* a, const CLI::Error& e) {
    return tuphap::cli::ParseFailure(ctx, *a, e);
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    bool json = false;
    for (int i = 1; i < argc; ++i) json = json || std::string_view(argv[i]) == "--json";
    if (json && e.get_exit_code() != 0) {
      tuphap::Json j = tuphap::Json::MakeObject();
      tuphap::Json err = tuphap::Json::MakeObject();
      err.Set("code", "usage");
      err.Set("message", tuphap::domain::TranslateMessage(ctx.lang, e.what()));
      j.Set("error", std::move(err));
      std::cerr << j.Dump() << '\n';
      return 2;
    }
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!action) return 2;
  tuphap::Status s;
  // Defence in depth: every input is read with a bound, but an allocation
  // that fails anyway, or an exception a library throws where we did not
  // expect one, ends the command with a message and exit 1, not an abort.
  try {
    if (!log_level.empty()) ctx.log_level = log_level;
    s = tuphap::cli::ApplyConfig(app, config_path, &ctx);
    if (s.ok()) s = tuphap::cli::SetUpLogging(app, ctx);
    if (s.ok()) s = action();
  } catch (const std::bad_alloc&) {
    s = tuphap::Status::ResourceExhausted(
        "out of memory: the command stopped; what was already committed is kept");
  } catch (const std::exception& e) {
    s = tuphap::Status::Internal(std::string("unexpected error: ") + e.what());
  }
  if (!s.ok()) {
    if (ctx.json) {
      tuphap::Json j = tuphap::Json::MakeObject();
      tuphap::Json err = tuphap::Json::MakeObject();
      err.Set("code", tuphap::StatusCodeName(s.code()));
      if (!s.reason().empty()) err.Set("reason", s.reason());
      err.Set("message", tuphap::cli::ErrorMessage(ctx, s));
      j.Set("error", std::move(err));
      std::cerr << j.Dump() << '\n';
    } else {
      std::cerr << tuphap::cli::Tr(ctx, "tuphap: error: ") << tuphap::cli::ErrorMessage(ctx, s);
      if (!s.reason().empty()) std::cerr << " [" << s.reason() << "]";
      std::cerr << '\n';
    }
  }
  return ExitCode(s);
}
