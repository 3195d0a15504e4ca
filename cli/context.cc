#include "cli/context.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <ostream>

#include "cli/passphrase.h"
#include "config/config.h"

namespace tuphap::cli {

node::NodeOptions Context::NodeOptions() const {
  node::NodeOptions o;
  o.officer = officer;
  o.max_clock_ahead_ms = max_clock_ahead_ms;
  o.accept_clock_behind = accept_clock;
  o.passphrase = [this] { return ReadPassphrase(*this); };
  return o;
}

namespace {

Status SetZone(Context* ctx) {
  TUPHAP_ASSIGN_OR_RETURN(domain::TimeZone zone, domain::TimeZone::Named(ctx->time_zone));
  ctx->zone = std::make_shared<const domain::TimeZone>(std::move(zone));
  return Status::Ok();
}

}  // namespace

Status ApplyConfig(const CLI::App& app, const std::string& path, Context* ctx) {
  std::string file = path;
  if (file.empty()) {
    file = ctx->data_dir + "/tuphap.toml";
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) file.clear();
  }
  if (file.empty()) return SetZone(ctx);
  TUPHAP_ASSIGN_OR_RETURN(config::Config c, config::LoadConfigFile(file));
  const bool officer_given =
      app.get_option("--officer")->count() > 0 || std::getenv("TUPHAP_OFFICER") != nullptr;
  if (c.officer && !officer_given) ctx->officer = *c.officer;
  if (c.max_clock_ahead_seconds) ctx->max_clock_ahead_ms = *c.max_clock_ahead_seconds * 1000;
  if (c.listen) ctx->listen = c.listen;
  if (c.upstreams) ctx->upstreams = *c.upstreams;
  if (c.ui) ctx->ui = c.ui;
  if (c.metrics) ctx->metrics = c.metrics;
  if (c.time_zone) ctx->time_zone = *c.time_zone;
  if (c.behind_after_hours) ctx->behind_after_hours = *c.behind_after_hours;
  if (c.log_level && !ctx->log_level) ctx->log_level = c.log_level;
  return SetZone(ctx);
}

Result<std::unique_ptr<app::Office>> Context::OpenOffice() const {
  return app::Office::Open(data_dir, NodeOptions(), lang);
}

void Context::PrintJson(const Json& j) const { *out << j.Dump() << '\n'; }

std::string Context::PersonTime(int64_t ms) const {
  if (ms <= 0) return Tr(*this, "never");
  return zone->Human(ms);
}

std::string Context::PersonDate(int64_t ms) const {
  const std::string iso = zone->Date(ms);
  return iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4);
}

Json Context::JsonTime(int64_t ms) const {
  if (ms <= 0) return Json();
  return Json(zone->Iso(ms));
}

void Context::SetHlc(Json* j, const std::string& key, crdt::Hlc hlc) const {
  j->Set(key, zone->IsoMillis(static_cast<int64_t>(hlc.millis())));
  j->Set(key + "_counter", static_cast<int64_t>(hlc.counter()));
}

}  // namespace tuphap::cli
