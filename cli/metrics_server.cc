#include "cli/metrics_server.h"

#include <algorithm>
#include <vector>

#include "obs/log.h"
#include "web/metrics_page.h"

namespace tuphap::cli {

Result<std::unique_ptr<web::HttpServer>> StartMetricsServer(const Context& ctx,
                                                            const std::string& where, bool expose) {
  TUPHAP_ASSIGN_OR_RETURN(auto host_port, web::ParseHostPort(where));
  if (!web::IsLoopback(host_port.first) && !expose) {
    return Status::InvalidArgument(
        Tr(ctx,
           "--metrics {0} is not this computer alone (127.0.0.1): anyone on that network could "
           "read which communes sync and how far each is behind. Give --metrics-expose to mean it "
           "(docs/metrics.md).",
           {where}));
  }
  web::ServerLimits limits;
  limits.max_body = 4096;  // a scrape is a GET
  limits.max_connections = 8;
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<web::HttpServer> server,
                          web::HttpServer::Listen(host_port.first, host_port.second, limits));
  // On loopback, a Host naming anything else is a browser's page of another
  // site resolved to this address (DNS rebinding): refused, as the web app
  // does. An exposed listener answers whatever name the scraper uses.
  std::vector<std::string> hosts;
  if (web::IsLoopback(host_port.first)) {
    const std::string port = std::to_string(server->port());
    hosts = {"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port,
             (host_port.first.find(':') != std::string::npos ? "[" + host_port.first + "]"
                                                             : host_port.first) +
                 ":" + port};
  }
  server->Serve([hosts](const web::Request& r) {
    if (!hosts.empty() && std::find(hosts.begin(), hosts.end(), r.Header("host")) == hosts.end())
      return web::Response::Text(421, "this server does not answer to that host name\n");
    if (auto m = web::MetricsPage(r)) return *m;
    return web::Response::Text(404, "only /metrics here\n");
  });
  const bool v6 = host_port.first.find(':') != std::string::npos;
  obs::Log().info("metrics at http://{}:{}/metrics",
                  v6 ? "[" + host_port.first + "]" : host_port.first, server->port());
  return server;
}

}  // namespace tuphap::cli
