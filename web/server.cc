#include "web/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <exception>
#include <thread>

namespace tuphap::web {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Impl {
  // Declared before the io_context: its destructor destroys pending
  // handlers, whose connections still count themselves out.
  Handler handler;
  ServerLimits limits;
  std::atomic<size_t> connections{0};
  // Requests reading a large body now: one at a time, so the large limit
  // bounds memory once, not once per connection.
  size_t large_bodies = 0;  // the io thread's alone
  std::atomic<bool> stopped{false};
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;

  void Accept();
};

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {
    ++server_->connections;
  }
  ~Connection() {
    EndLarge();
    --server_->connections;
  }

  void Read() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(server_->limits.max_body);
    stream_.expires_after(std::chrono::seconds(server_->limits.read_timeout_s));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void EndLarge() {
    if (large_) --server_->large_bodies;
    large_ = false;
  }

  void OnRead(beast::error_code ec) {
    EndLarge();
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      Respond(Response::Text(413, "request too large\n"), false);
      return;
    }
    if (ec) {
      Close();
      return;
    }
    http::request<http::string_body> raw = parser_->release();
    Request req;
    req.method = std::string(raw.method_string());
    req.target = std::string(raw.target());
    for (const auto& f : raw) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      // A repeated header is not something a browser sends for the ones
      // the app reads; the first one counts.
      req.headers.emplace(std::move(name), std::string(f.value()));
    }
    req.body = std::move(raw.body());
    beast::error_code ignored;
    const auto ep = stream_.socket().remote_endpoint(ignored);
    if (!ignored) req.remote = ep.address().to_string();
    Response resp;
    try {
      resp = server_->handler(req);
    } catch (const std::exception& e) {
      resp = Response::Text(500, std::string("internal error: ") + e.what() + "\n");
    }
    Respond(std::move(resp), raw.keep_alive());
  }

  void Respond(Response r, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->result(static_cast<unsigned>(r.status));
    res->version(11);
    res->set(http::field::server, "tuphap");
    res->set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->insert(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(std::chrono::seconds(server_->limits.read_timeout_s));
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive) {
                          self->Close();
                          return;
                        }
                        self->Read();
                      });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl* server_;
  bool large_ = false;  // reading a large body (counted in large_bodies)
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopped) return;
    if (!ec) {
      if (connections.load() >= limits.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<Connection>(std::move(socket), this)->Read();
      }
    }
    Accept();
  });
}

Result<std::unique_ptr<HttpServer>> HttpServer::Listen(const std::string& address, uint16_t port,
                                                       ServerLimits limits) {
  beast::error_code ec;
  const asio::ip::address addr = asio::ip::make_address(address, ec);
  if (ec) return Status::InvalidArgument("not an IP address: " + address);
  auto impl = std::make_unique<Impl>();
  impl->limits = limits;
  const tcp::endpoint ep(addr, port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + address + ":" + std::to_string(port) + ": " +
                               ec.message());
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::Serve(Handler handler, std::function<void()> on_start) {
  Impl* raw = impl_.get();
  raw->handler = std::move(handler);
  raw->Accept();
  raw->thread = std::thread([raw, on_start = std::move(on_start)] {
    if (on_start) on_start();
    try {
      raw->io.run();
    } catch (...) {
      // A handler's exception is answered with 500 inside; anything else
      // ends the server thread, and Stop still joins it.
    }
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

uint16_t HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::Stop() {
  if (!impl_ || impl_->stopped) return;
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->stopped = true;
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->stopped = true;
}

Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return Status::InvalidArgument("not ADDRESS:PORT: " + std::string(text));
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  std::string_view p = text.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || ptr != p.data() + p.size() || port > 65535)
    return Status::InvalidArgument("not ADDRESS:PORT (port 0-65535): " + std::string(text));
  beast::error_code aec;
  asio::ip::make_address(host, aec);
  if (aec)
    return Status::InvalidArgument("not an IP address: " + host + " (in " + std::string(text) +
                                   ")");
  return std::make_pair(host, static_cast<uint16_t>(port));
}

bool IsLoopback(std::string_view address) {
  beast::error_code ec;
  const asio::ip::address a = asio::ip::make_address(std::string(address), ec);
  if (ec) return false;
  // A server bound to "::" sees an IPv4 client as ::ffff:a.b.c.d.
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
  return a.is_loopback();
}

}  // namespace tuphap::web
