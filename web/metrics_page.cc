#include "web/metrics_page.h"

#include "obs/metrics.h"

namespace tuphap::web {

std::optional<Response> MetricsPage(const Request& r) {
  if (r.Path() != "/metrics") return std::nullopt;
  if (r.method != "GET" && r.method != "HEAD") return Response::Text(405, "GET only\n");
  Response out;
  out.content_type = "text/plain; version=0.0.4; charset=utf-8";
  out.body = obs::Metrics::Get().Text();
  return out;
}

}  // namespace tuphap::web
