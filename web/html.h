// Building pages: escaping, and the parts every page shares. Everything an
// officer or a peer wrote goes through Esc before it reaches a page — in
// text and in attribute values alike.
#pragma once

#include <string>
#include <string_view>

namespace tuphap::web {

// &, <, >, " and ' as entities: safe in text and in quoted attributes.
std::string Esc(std::string_view s);

// An HTML builder: appends escaped text or trusted markup.
class Html {
 public:
  Html& operator<<(std::string_view markup) {  // trusted markup (literals)
    out_ += markup;
    return *this;
  }
  Html& Text(std::string_view text) {  // escaped
    out_ += Esc(text);
    return *this;
  }
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace tuphap::web
