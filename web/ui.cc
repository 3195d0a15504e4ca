#include "web/ui.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

namespace tuphap::web {

Result<std::unique_ptr<Ui>> Ui::Start(const std::string& data_dir,
                                      const node::NodeOptions& node_options, UiOptions options) {
  if (!IsLoopback(options.address) && !options.expose) {
    return Status::InvalidArgument(
        "the web app listens on " + options.address +
        ", which is not this computer alone (127.0.0.1): anyone on that network could reach "
        "its login page. Give --ui-expose to mean it (docs/operator-guide.md).");
  }
  TUPHAP_ASSIGN_OR_RETURN(TimeZone tz, TimeZone::Named(options.web.time_zone));
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office,
                          app::Office::Open(data_dir, node_options, options.web.default_lang));
  TUPHAP_RETURN_IF_ERROR(office->Unlock());
  // The worker's own office, for what must not hold up the pages.
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> worker,
                          app::Office::Open(data_dir, node_options, options.web.default_lang));
  TUPHAP_RETURN_IF_ERROR(worker->Unlock());
  std::unique_ptr<Ui> ui(new Ui());
  ui->address_ = options.address;
  ui->app_ =
      std::make_unique<WebApp>(std::move(office), std::move(tz), options.web, std::move(worker));
  WebApp* app = ui->app_.get();
  ServerLimits limits;
  limits.large_body_paths = {"/hub/reconcile"};
  TUPHAP_ASSIGN_OR_RETURN(ui->server_, HttpServer::Listen(options.address, options.port, limits));
  // The names a browser may use for this server; any other is a DNS
  // rebinding attempt (421). Known once bound, set before serving.
  const std::string port = std::to_string(ui->server_->port());
  const bool v6 = options.address.find(':') != std::string::npos;
  app->AllowHost((v6 ? "[" + options.address + "]" : options.address) + ":" + port);
  if (IsLoopback(options.address)) {
    app->AllowHost("localhost:" + port);
    app->AllowHost("127.0.0.1:" + port);
    app->AllowHost("[::1]:" + port);
  }
  // A browser leaves out the default port.
  if (port == "80") {
    app->AllowHost(v6 ? "[" + options.address + "]" : options.address);
    if (IsLoopback(options.address)) {
      for (const char* h : {"localhost", "127.0.0.1", "[::1]"}) app->AllowHost(h);
    }
  }
  ui->server_->Serve([app](const Request& r) { return app->Handle(r); },
                     [app] { app->office().AdoptThread(); });
  return ui;
}

Ui::~Ui() { Stop(); }

std::string Ui::url() const {
  const bool v6 = address_.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + address_ + "]" : address_) + ":" +
         std::to_string(server_->port()) + "/";
}

void Ui::Stop() {
  if (server_) server_->Stop();
}

void WaitForStopSignal() {
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int) {});
  io.run();
}

}  // namespace tuphap::web
