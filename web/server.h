// The HTTP server under the web app: Boost.Beast over one Asio thread.
// Requests are handled one at a time on that thread, in the order they are
// read — the app behind it is single-threaded (one Office, one SQLite
// connection) and a page takes milliseconds. What a client can make it hold
// is bounded: headers (16 KiB), body (ServerLimits::max_body), connections
// (ServerLimits::max_connections; more are closed at once) and time (a
// request must arrive whole within ServerLimits::read_timeout_s, so a slow
// client cannot keep a connection forever).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "web/http.h"

namespace tuphap::web {

struct ServerLimits {
  size_t max_body = 1 << 20;
  // Paths (prefixes) that take larger bodies, up to max_large_body: the
  // hub's reconcile takes a commune's snapshot as an upload. One such body
  // is read at a time (another meanwhile gets the ordinary limit), so they
  // cost max_large_body of memory at most, whoever sends them.
  std::vector<std::string> large_body_paths;
  size_t max_large_body = 64 << 20;
  size_t max_connections = 64;
  int read_timeout_s = 30;
};

class HttpServer {
 public:
  using Handler = std::function<Response(const Request&)>;
  // Binds `address`:`port` (port 0: the kernel picks one); nothing is
  // accepted before Serve. InvalidArgument for an address that is not an
  // IP literal; Unavailable when it cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Listen(const std::string& address, uint16_t port,
                                                    ServerLimits limits = {});
  // Serves on a thread of its own until Stop; `on_start` runs first on
  // that thread (to hand it what it will use).
  void Serve(Handler handler, std::function<void()> on_start = {});
  ~HttpServer();
  uint16_t port() const;
  // Stops accepting, closes every connection and joins the thread.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "ADDR:PORT" -> (address, port); "[::1]:8080" for IPv6. InvalidArgument
// naming the text otherwise.
Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view text);

// Whether `address` is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.y.z).
bool IsLoopback(std::string_view address);

}  // namespace tuphap::web
