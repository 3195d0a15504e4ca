// HTTP requests and responses as the web app sees them: plain values, apart
// from the server that reads them off a socket (server.h), so the app can be
// driven by tests and benchmarks without one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tuphap::web {

// Fields of a query string or an application/x-www-form-urlencoded body, in
// order; a name may repeat.
using FormFields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // as sent: path and query
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  // The peer's address, for the lockout log and the tests; "" in tests.
  std::string remote;

  std::string_view Header(std::string_view name) const;
  std::string Path() const;  // the decoded path, without the query
  FormFields Query() const;  // the query string's fields
  FormFields Form() const;   // an urlencoded body's fields
  // The value of a cookie, "" when absent.
  std::string Cookie(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static Response Redirect(std::string location, int status = 303);
  static Response Text(int status, std::string text);
  Response& With(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// Percent-decoding ('+' as space when `plus_is_space`); invalid escapes are
// kept as written.
std::string UrlDecode(std::string_view s, bool plus_is_space = true);
std::string UrlEncode(std::string_view s);
FormFields ParseFormFields(std::string_view s);
// The first value of `name`, "" when absent.
std::string FieldValue(const FormFields& f, std::string_view name);

// One part of a multipart/form-data body.
struct FormPart {
  std::string name;
  std::string filename;
  std::string data;
};
// The parts of a multipart/form-data body with the boundary from
// `content_type`; nullopt when it is not well formed.
std::optional<std::vector<FormPart>> ParseMultipart(std::string_view content_type,
                                                    std::string_view body);

}  // namespace tuphap::web
