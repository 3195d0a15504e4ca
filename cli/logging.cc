#include "cli/logging.h"

#include <CLI/CLI.hpp>

#include "node/domain/catalogue.h"
#include "obs/log.h"

namespace tuphap::cli {

std::vector<std::string> LogLevelChoices() {
  std::vector<std::string> out;
  for (const auto& [name, level] : obs::kLogLevels) out.emplace_back(name);
  return out;
}

Status SetUpLogging(const CLI::App& app, const Context& ctx) {
  obs::LogLevel level = spdlog::level::warn;
  for (const CLI::App* sub : app.get_subcommands()) {
    if (!ctx.json && (sub->get_name() == "serve" || sub->get_name() == "sync"))
      level = spdlog::level::info;
  }
  if (ctx.log_level) {
    std::optional<obs::LogLevel> given = obs::ParseLogLevel(*ctx.log_level);
    if (!given)
      return Status::InvalidArgument(Tr(ctx, "unknown log level '{0}' (the levels: {1})",
                                        {*ctx.log_level, obs::LogLevelNames(", ")}));
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
