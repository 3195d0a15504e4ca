#include "cli/logging.h"

#include <CLI/CLI.hpp>

#include "node/domain/catalogue.h"
#include "obs/log.h"

namespace tuphap::cli {

Status SetUpLogging(const CLI::App& app, const Context& ctx) {
  obs::LogLevel level = spdlog::level::warn;
  for (const CLI::App* sub : app.get_subcommands()) {
    if (sub->get_name() == "serve" || sub->get_name() == "sync") level = spdlog::level::info;
  }
  if (ctx.log_level) {
    std::optional<obs::LogLevel> given = obs::ParseLogLevel(*ctx.log_level);
    if (!given)
      return Status::InvalidArgument(
          Tr(ctx, "unknown log level '{0}': trace, debug, info, warn, error or off",
             {*ctx.log_level}));
    level = *given;
  }
  obs::InitLogging(level);
  if (ctx.lang == domain::Lang::kVietnamese) {
    obs::SetLogTranslator(
        [](std::string_view m) { return domain::TranslateMessage(domain::Lang::kVietnamese, m); });
  }
  return Status::Ok();
}

}  // namespace tuphap::cli
