// `serve --metrics ADDRESS:PORT`: /metrics on a small HTTP listener of its
// own (web/server.h's, with only web/metrics_page.h behind it), for a node
// that runs no web app.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "cli/context.h"
#include "web/server.h"

namespace tuphap::cli {

// Starts serving /metrics at `where` (ADDRESS:PORT). A non-loopback
// address needs `expose`: the metrics name the province's communes and how
// far each is behind, which is for the operator, not for the whole network.
Result<std::unique_ptr<web::HttpServer>> StartMetricsServer(const Context& ctx,
                                                            const std::string& where, bool expose);

}  // namespace tuphap::cli
