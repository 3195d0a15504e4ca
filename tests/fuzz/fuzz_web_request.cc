// What the web app decodes from a request's bytes (web/http.cc, format.cc,
// server.cc) and the typed text behind its forms: the path and query
// string, urlencoded and multipart bodies, cookies, dates as officers type
// them (dd/mm/yyyy), node ids as operators type them, ADDRESS:PORT. The
// input is four parts (fuzz_world.h, SplitFrames): target, content type,
// body, cookie header. Never a crash; percent-encoding round-trips; form
// fields re-encoded parse back to the same fields; multipart parts come
// from inside the body; a date accepted is an ISO date (or date-time)
// that parses to itself; a node id accepted names a 10-byte fingerprint.
#include <cstdlib>

#include "node/domain/dates.h"
#include "node/keys.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/fuzz_world.h"  // SplitFrames
#include "web/format.h"
#include "web/http.h"
#include "web/server.h"

using namespace tuphap;

namespace {

std::string Encode(const web::FormFields& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += web::UrlEncode(k) + "=" + web::UrlEncode(v);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = fuzz::SplitFrames(std::string_view(reinterpret_cast<const char*>(data), size));
  parts.resize(4);
  web::Request req;
  req.method = "POST";
  req.target = parts[0];
  req.headers["content-type"] = parts[1];
  req.body = parts[2];
  req.headers["cookie"] = parts[3];

  req.Path();
  for (const web::FormFields& f : {req.Query(), req.Form(), web::ParseFormFields(req.body)}) {
    FUZZ_FAIL_IF(web::ParseFormFields(Encode(f)) != f);
  }
  FUZZ_FAIL_IF(web::UrlDecode(web::UrlEncode(req.body)) != req.body);
  FUZZ_FAIL_IF(req.Cookie("tuphap_session").size() > parts[3].size());
  if (auto mp = web::ParseMultipart(parts[1], req.body)) {
    size_t total = 0;
    for (const auto& p : *mp) total += p.data.size();
    FUZZ_FAIL_IF(total > req.body.size());
  }
  for (const std::string& text : {parts[0], parts[2]}) {
    if (auto iso = web::ParseDisplayDate(text)) {
      // A date or a date-time ("YYYY-MM-DDTHH:MM" is taken as written).
      FUZZ_FAIL_IF(!domain::ParseDateOrNull(*iso) || web::ParseDisplayDate(*iso) != iso);
    }
    domain::Date d;
    FUZZ_FAIL_IF(
        domain::ParseDate(text, text.size() > 10, &d) == domain::DateProblem::kNone &&
        (d.month < 1 || d.month > 12 || d.day < 1 || d.day > domain::DaysInMonth(d.year, d.month)));
    FUZZ_FAIL_IF(auto fp = node::ParseNodeIdText(text); fp.ok() && fp->size() != 10);
    (void)web::ParseHostPort(text);
  }
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  replication::PublicKey key{};
  key[0] = 7;
  const std::string node_id = node::NodeIdText(key);
  const std::string multipart =
      "--XyZ\r\nContent-Disposition: form-data; name=\"snapshot\"; filename=\"xa.db\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\nSQLite format 3\r\n--XyZ\r\n"
      "Content-Disposition: form-data; name=\"csrf\"\r\n\r\nabc123\r\n--XyZ--\r\n";
  return {
      fuzz::JoinFrames({"/records/22333-KS-2025-000001?q=Nguy%E1%BB%85n+V%C4%83n&page=2",
                        "application/x-www-form-urlencoded",
                        "data.child.full_name=Nguy%E1%BB%85n+Th%E1%BB%8B+H%E1%BB%93ng&"
                        "data.child.birth_date=20%2F06%2F2025&csrf=abc&reason=s%E1%BB%ADa+sai",
                        "tuphap_session=0123456789abcdef; lang=vi"}),
      fuzz::JoinFrames({"/hub/reconcile", "multipart/form-data; boundary=XyZ",
                        std::string(multipart.data(), multipart.size()),
                        "tuphap_session=s; other=1"}),
      fuzz::JoinFrames({"127.0.0.1:8080", "text/plain", "05/12/2026", ""}),
      fuzz::JoinFrames({"[::1]:7700", "", "2026-02-29T10:30", node_id}),
      fuzz::JoinFrames({node_id, "", node_id, ""}),
  };
}
