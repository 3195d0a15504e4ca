// GET /metrics: the node's metrics in the Prometheus text format
// (obs/metrics.h), on the web app's server and on `serve --metrics`'s own.
// Read from memory only: a scrape never waits for the sync loop or SQLite.
#pragma once

#include <optional>

#include "web/http.h"

namespace tuphap::web {

// The answer to `r` when it asks for /metrics; nullopt otherwise.
std::optional<Response> MetricsPage(const Request& r);

}  // namespace tuphap::web
