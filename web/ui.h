// The web app beside a node: what `tuphap serve --ui` and `tuphap demo --ui`
// start. The app gets an Office of its own over the node's data directory
// (its own SQLite connection, as a second process would), so the sync loop
// and the pages never share a connection or a thread; the store's locks
// keep them apart exactly as they keep a CLI command and `serve` apart.
#pragma once

#include <memory>
#include <string>

#include "node/node.h"
#include "web/server.h"
#include "web/webapp.h"

namespace tuphap::web {

struct UiOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  // Any address but loopback needs this: the login page is then reachable
  // by anyone on that network (docs/operator-guide.md, "The web app").
  bool expose = false;
  WebOptions web;
};

class Ui {
 public:
  // Opens the data directory, unlocks the keys now (the passphrase is asked
  // at start, never in the middle of a request) and starts serving.
  // InvalidArgument for a non-loopback address without `expose`.
  static Result<std::unique_ptr<Ui>> Start(const std::string& data_dir,
                                           const node::NodeOptions& node_options,
                                           UiOptions options);
  ~Ui();
  // http://ADDRESS:PORT/
  std::string url() const;
  void Stop();

 private:
  Ui() = default;
  std::unique_ptr<WebApp> app_;
  std::unique_ptr<HttpServer> server_;
  std::string address_;
};

// Blocks until SIGINT or SIGTERM arrives (a UI-only `serve`).
void WaitForStopSignal();

}  // namespace tuphap::web
