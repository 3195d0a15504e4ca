#include "cli/i18n.h"

#include <CLI/CLI.hpp>

#include "node/domain/catalogue.h"

namespace tuphap::cli {
namespace {

void TranslateApp(CLI::App* app, const Context& ctx) {
  if (!app->get_description().empty()) {
    app->description(domain::TranslateMessage(ctx.lang, app->get_description()));
  }
  for (CLI::Option* o : app->get_options()) {
    if (!o->get_description().empty()) {
      o->description(domain::TranslateMessage(ctx.lang, o->get_description()));
    }
    if (o->get_group() == "Options") o->group(Tr(ctx, "Options"));
  }
  for (CLI::App* sub : app->get_subcommands({})) {
    if (sub->get_group() == "Subcommands") sub->group(Tr(ctx, "Subcommands"));
    TranslateApp(sub, ctx);
  }
}

}  // namespace

void TranslateHelp(CLI::App& app, const Context& ctx) {
  if (ctx.lang != domain::Lang::kVietnamese) return;
  TranslateApp(&app, ctx);
  // CLI11 shares one formatter between an app and its commands.
  auto f = app.get_formatter();
  for (const char* label : {"Usage", "OPTIONS", "SUBCOMMAND", "SUBCOMMANDS", "Positionals",
                            "REQUIRED", "Env", "Needs", "Excludes"}) {
    f->label(label, TrCtx(ctx, "help label", label));
  }
}

std::string ParseFailure(const Context& ctx, const CLI::App& app, const CLI::Error& e) {
  std::string out = domain::TranslateMessage(ctx.lang, e.what()) + "\n";
  if (app.get_help_ptr() != nullptr) {
    out += Tr(ctx, "Run with --help or --help-all for more information.") + "\n";
  }
  return out;
}

std::string ErrorMessage(const Context& ctx, const Status& s) {
  return domain::TranslateMessage(ctx.lang, s.message());
}

}  // namespace tuphap::cli
