// Web app benchmark (issue 14, item 10). Prints its figures.
//
//   (1) a commune node with --commune-records generated records (imported
//       with the project's generator and importer, edits among them): the
//       server time of GET /search?q=... for a common surname without
//       accents, a name without accents, full names as written, 12-digit
//       personal IDs and register references, of GET /records/ID for random
//       records, and of the home page; through WebApp::Handle in-process,
//       logged in as an officer (POST /login with the CSRF token, then the
//       cookie and Host header as a browser sends them);
//   (2) the same record pages over the real HTTP server on loopback
//       (Boost.Beast, one keep-alive connection, and a connection per
//       request), timed at the client: what the socket adds;
//   (3) a hub of --province with --hub-records records spread over
//       --hub-communes of its communes (each with one enrolled node): the
//       server time of GET /hub (console), /hub/conflicts and /hub/stats,
//       logged in as an operator.
// Each page's body size in bytes is printed beside its times. The first
// request of each page is left out of the figures (shown apart as "first").
//
// Usage: web_bench [--commune-records N] [--hub-records N] [--hub-communes N]
//                  [--province PP] [--reps N] [--hub-reps N] [--seed S]
//                  [--part all|commune|hub] [--data DIR]
// --data DIR keeps the nodes in DIR and reuses them on a later run (for a
// profiler); otherwise scratch data goes under $TUPHAP_BENCH_DIR (default
// the temp directory) and is removed at exit: about 4.5 GB for the defaults'
// hub. Quick run: --commune-records 5000 --hub-records 20000.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "base/line_reader.h"
#include "node/app/office.h"
#include "node/app/officers.h"
#include "node/domain/importer.h"
#include "node/domain/record_generator.h"
#include "node/domain/reference_data.h"
#include "node/domain/registry.h"
#include "node/node.h"
#include "node/test_keys.h"
#include "tests/bench/bench_util.h"
#include "web/http.h"
#include "web/pages_commune.h"
#include "web/server.h"
#include "web/webapp.h"

using namespace tuphap;

namespace {

struct Args {
  int commune_records = 100'000;
  int hub_records = 1'000'000;
  int hub_communes = 65;
  std::string province = "56";
  int reps = 200;     // requests per commune page kind
  int hub_reps = 20;  // requests per hub page
  uint64_t seed = 1;
  std::string part = "all";
  std::string data;  // keep and reuse the nodes here
};

constexpr const char* kHost = "127.0.0.1:8080";
constexpr const char* kPassword = "bench-password-1";

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

// ------------------------------------------------------------ the nodes

// A node's data directory, made unless it is there already (--data).
std::unique_ptr<node::Node> OpenOrInit(const std::string& dir, const node::InitParams& p,
                                       bool* made) {
  *made = !std::filesystem::exists(node::StorePath(dir));
  if (*made) {
    std::filesystem::remove_all(dir);
    if (Status s = node::InitForTest(dir, p); !s.ok()) Die("init " + dir, s);
  }
  auto n = node::Node::Open(dir, node::TestOptions());
  if (!n.ok()) Die("open " + dir, n.status());
  return std::move(*n);
}

void Enrol(node::Node& hub, node::Node& commune) {
  auto req = commune.EnrollRequestFile("bench");
  if (!req.ok()) Die("enroll request", req.status());
  auto file = hub.EnrollSign(*req, 365);
  if (!file.ok()) Die("enroll sign", file.status());
  if (auto a = commune.EnrollAccept(file->file); !a.ok()) Die("enroll accept", a.status());
}

void Import(node::Node& node, const std::string& file, const char* what) {
  domain::Registry registry(node, domain::Lang::kEnglish);
  auto reader = LineReader::Open(file);
  if (!reader.ok()) Die("open " + file, reader.status());
  bench::Stopwatch w;
  auto s = domain::Import(registry, **reader, domain::ImportOptions{});
  if (!s.ok()) Die("import " + file, s.status());
  std::printf(
      "    imported into the %s: %llu lines, %llu accepted, %llu refused in %.1f s (%.0f "
      "lines/s)\n",
      what, static_cast<unsigned long long>(s->lines), static_cast<unsigned long long>(s->accepted),
      static_cast<unsigned long long>(s->refused), w.Seconds(),
      static_cast<double>(s->lines) / w.Seconds());
  for (const auto& [k, v] : s->by_class)
    std::printf("      refused %s: %llu\n", k.c_str(), static_cast<unsigned long long>(v));
  std::fflush(stdout);
}

// What a search box gets typed, taken from the generated lines as they go by.
struct Samples {
  std::vector<std::string> ids;           // every created record
  std::vector<std::string> full_names;    // a child's name as written
  std::vector<std::string> personal_ids;  // a child's 12-digit ID
};

std::string StringAfter(const std::string& line, size_t from, std::string_view key) {
  const size_t k = line.find(key, from);
  if (k == std::string::npos) return {};
  const size_t start = k + key.size();
  const size_t end = line.find('"', start);
  return end == std::string::npos ? std::string() : line.substr(start, end - start);
}

// Generates `records` create lines (and one edit per hundred: corrections,
// divorces, so that record pages have history) over `communes`; writes them
// to `file` when it is not empty.
void Generate(const Args& a, const std::vector<std::string>& communes, int records,
              const std::string& file, Samples* samples) {
  domain::GeneratorOptions g;
  g.seed = a.seed;
  g.communes = communes;
  g.records = records;
  g.edits = records / 100;
  if (Status s = domain::CheckGeneratorOptions(g); !s.ok()) Die("generator options", s);
  std::ofstream out;
  if (!file.empty()) out.open(file, std::ios::binary);
  bench::Stopwatch w;
  uint64_t lines = 0;
  domain::GenerateRecords(g, [&](const std::string& line) {
    ++lines;
    if (out.is_open()) out << line << '\n';
    if (samples == nullptr || line.find("\"op\":\"create\"") == std::string::npos) return;
    samples->ids.push_back(StringAfter(line, 0, "\"record_id\":\""));
    if (line.find("\"type\":\"birth\"") != std::string::npos && samples->ids.size() % 7 == 0) {
      const size_t child = line.find("\"child\":{");
      if (child == std::string::npos) return;
      const std::string name = StringAfter(line, child, "\"full_name\":\"");
      const std::string id = StringAfter(line, child, "\"personal_id\":\"");
      if (!name.empty()) samples->full_names.push_back(name);
      if (id.size() == 12) samples->personal_ids.push_back(id);
    }
  });
  if (out.is_open()) {
    out.close();
    if (!out) Die("generate", Status::IoError("cannot write " + file));
  }
  std::printf("    generated %llu lines (%d records over %zu communes, seed %llu) in %.1f s\n",
              static_cast<unsigned long long>(lines), records, communes.size(),
              static_cast<unsigned long long>(a.seed), w.Seconds());
  std::fflush(stdout);
}

// ------------------------------------------------------------- requests

struct Client {
  web::WebApp& app;
  std::string cookie;

  web::Response Get(const std::string& target) {
    web::Request r;
    r.method = "GET";
    r.target = target;
    r.headers["host"] = kHost;
    if (!cookie.empty()) r.headers["cookie"] = cookie;
    return app.Handle(r);
  }
  web::Response Post(const std::string& target, const std::string& body) {
    web::Request r;
    r.method = "POST";
    r.target = target;
    r.headers["host"] = kHost;
    r.headers["origin"] = std::string("http://") + kHost;
    r.headers["content-type"] = "application/x-www-form-urlencoded";
    if (!cookie.empty()) r.headers["cookie"] = cookie;
    r.body = body;
    return app.Handle(r);
  }
};

std::string HeaderOf(const web::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

// Logs in as a browser does: the login page's cookie and CSRF token, then
// POST /login; the client keeps the session's cookie.
void LogIn(Client& c, const std::string& login) {
  web::Response page = c.Get("/login");
  std::smatch m;
  if (!std::regex_search(page.body, m, std::regex("name=\"csrf\" value=\"([0-9a-f]+)\"")))
    Die("login page", Status::Internal("no csrf input"));
  const std::string csrf = m[1].str();
  std::string set = HeaderOf(page, "Set-Cookie");
  c.cookie = set.substr(0, set.find(';'));
  web::Response r = c.Post("/login", "csrf=" + csrf + "&login=" + login + "&password=" + kPassword);
  if (r.status != 303)
    Die("login", Status::Internal("POST /login answered " + std::to_string(r.status)));
  set = HeaderOf(r, "Set-Cookie");
  c.cookie = set.substr(0, set.find(';'));
}

void AddOfficer(node::Node& node, const std::string& login, app::Role role) {
  app::Officers officers(node.store(), SystemClock(), domain::Lang::kVietnamese,
                         node::KdfLimits::Weak());
  auto r = officers.Add(login, "Nguyễn Văn Bench", role, kPassword);
  if (!r.ok() && r.status().code() != StatusCode::kAlreadyExists) Die("officer add", r.status());
}

struct Figures {
  std::string label;
  std::vector<double> ms;
  std::vector<double> bytes;
  std::vector<double> links;  // record links on the page (a search's hits)
  double first_ms = 0;
  int not_ok = 0;  // answers other than 200
};

void PrintHeader() {
  std::printf("    %-44s %5s %9s %9s %9s %9s %9s %10s %10s %6s\n", "page", "n", "p50 ms", "p99 ms",
              "mean ms", "max ms", "first ms", "bytes p50", "bytes max", "links");
}

void Print(const Figures& f) {
  double sum = 0;
  for (double m : f.ms) sum += m;
  std::printf("    %-44s %5zu %9.3f %9.3f %9.3f %9.3f %9.3f %10.0f %10.0f %6.0f%s\n",
              f.label.c_str(), f.ms.size(), bench::Percentile(f.ms, 0.5),
              bench::Percentile(f.ms, 0.99),
              f.ms.empty() ? 0.0 : sum / static_cast<double>(f.ms.size()),
              bench::Percentile(f.ms, 1.0), f.first_ms, bench::Percentile(f.bytes, 0.5),
              bench::Percentile(f.bytes, 1.0), bench::Percentile(f.links, 0.5),
              f.not_ok > 0 ? ("  (" + std::to_string(f.not_ok) + " not 200)").c_str() : "");
  std::fflush(stdout);
}

// Times `targets` through WebApp::Handle, after one untimed request of the
// first (its time shown as "first").
Figures Measure(Client& c, const std::string& label, const std::vector<std::string>& targets) {
  static constexpr std::string_view kLink = "class=\"record-link\"";
  Figures f;
  f.label = label;
  for (size_t i = 0; i <= targets.size(); ++i) {
    const std::string& t = targets[i == 0 ? 0 : i - 1];
    bench::Stopwatch w;
    web::Response r = c.Get(t);
    const double ms = w.Seconds() * 1000;
    if (r.status != 200) {
      ++f.not_ok;
      if (f.not_ok == 1)
        std::printf("    note: %s answered %d: %.200s\n", t.c_str(), r.status, r.body.c_str());
    }
    if (i == 0) {
      f.first_ms = ms;
      continue;
    }
    f.ms.push_back(ms);
    f.bytes.push_back(static_cast<double>(r.body.size()));
    size_t links = 0;
    for (size_t at = r.body.find(kLink); at != std::string::npos; at = r.body.find(kLink, at + 1))
      ++links;
    f.links.push_back(static_cast<double>(links));
  }
  Print(f);
  return f;
}

// ------------------------------------------------------ over the socket

int Connect(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) Die("socket", Status::IoError("socket"));
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    Die("connect", Status::IoError("connect to 127.0.0.1:" + std::to_string(port)));
  return fd;
}

// One request and its answer on `fd`; returns the status and the body's size.
std::pair<int, size_t> RoundTrip(int fd, const std::string& request) {
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) Die("send", Status::IoError("send"));
    sent += static_cast<size_t>(n);
  }
  std::string in;
  char buf[65536];
  size_t head_end = std::string::npos, length = 0;
  while (true) {
    if (head_end == std::string::npos) {
      head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string head = in.substr(0, head_end);
        for (char& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        const size_t cl = head.find("\r\ncontent-length:");
        if (cl == std::string::npos) Die("response", Status::Internal("no Content-Length"));
        length = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
      }
    }
    if (head_end != std::string::npos && in.size() >= head_end + 4 + length) break;
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) Die("recv", Status::IoError("the server closed the connection"));
    in.append(buf, static_cast<size_t>(n));
  }
  return {std::atoi(in.c_str() + 9), length};
}

void OverSocket(web::WebApp& app, const std::string& cookie,
                const std::vector<std::string>& targets, const Figures& in_process) {
  auto server = web::HttpServer::Listen("127.0.0.1", 0);
  if (!server.ok()) Die("listen", server.status());
  const uint16_t port = (*server)->port();
  const std::string host = "127.0.0.1:" + std::to_string(port);
  app.AllowHost(host);
  (*server)->Serve([&app](const web::Request& r) { return app.Handle(r); });
  auto request = [&](const std::string& target, bool keep) {
    return "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nCookie: " + cookie +
           "\r\nUser-Agent: web_bench\r\nAccept: text/html\r\nConnection: " +
           (keep ? "keep-alive" : "close") + "\r\n\r\n";
  };
  Figures keep, fresh;
  keep.label = "GET /records/ID, keep-alive connection";
  fresh.label = "GET /records/ID, a connection each";
  const int fd = Connect(port);
  for (size_t i = 0; i <= targets.size(); ++i) {
    bench::Stopwatch w;
    auto [status, size] = RoundTrip(fd, request(targets[i == 0 ? 0 : i - 1], true));
    const double ms = w.Seconds() * 1000;
    if (status != 200) ++keep.not_ok;
    if (i == 0) {
      keep.first_ms = ms;
      continue;
    }
    keep.ms.push_back(ms);
    keep.bytes.push_back(static_cast<double>(size));
  }
  close(fd);
  for (size_t i = 0; i <= targets.size(); ++i) {
    bench::Stopwatch w;
    const int one = Connect(port);
    auto [status, size] = RoundTrip(one, request(targets[i == 0 ? 0 : i - 1], false));
    close(one);
    const double ms = w.Seconds() * 1000;
    if (status != 200) ++fresh.not_ok;
    if (i == 0) {
      fresh.first_ms = ms;
      continue;
    }
    fresh.ms.push_back(ms);
    fresh.bytes.push_back(static_cast<double>(size));
  }
  (*server)->Stop();
  std::printf(
      "(2) the same record pages over the real HTTP server on loopback (timed at the client):\n");
  PrintHeader();
  Print(in_process);
  Print(keep);
  Print(fresh);
  std::printf(
      "    socket cost (p50 over in-process p50): keep-alive +%.3f ms, a connection each +%.3f "
      "ms\n",
      bench::Percentile(keep.ms, 0.5) - bench::Percentile(in_process.ms, 0.5),
      bench::Percentile(fresh.ms, 0.5) - bench::Percentile(in_process.ms, 0.5));
  std::fflush(stdout);
}

// ------------------------------------------------------------ the parts

std::vector<std::string> CommunesOf(const std::string& province, size_t n) {
  std::vector<std::string> out;
  for (const auto* c : domain::ReferenceData::Get().CommunesOf(province)) {
    if (out.size() == n) break;
    out.push_back(c->code);
  }
  if (out.empty()) Die("communes", Status::InvalidArgument("no communes in province " + province));
  return out;
}

void CommunePart(const Args& a, const std::filesystem::path& root) {
  const std::string commune = CommunesOf(a.province, 1)[0];
  std::printf("(1) commune %s (%s) of province %s, %d generated records:\n", commune.c_str(),
              app::Office::CommuneName(commune).c_str(), a.province.c_str(), a.commune_records);
  std::fflush(stdout);
  node::InitParams hp;
  hp.role = node::Role::kHub;
  hp.province = a.province;
  node::InitParams cp;
  cp.commune = commune;
  bool made_hub = false, made = false;
  const std::string dir = (root / "commune").string();
  Samples samples;
  std::unique_ptr<node::Node> node;
  {
    auto hub = OpenOrInit((root / "commune-hub").string(), hp, &made_hub);
    node = OpenOrInit(dir, cp, &made);
    if (made) Enrol(*hub, *node);
  }
  const std::string file = (root / "commune.jsonl").string();
  Generate(a, {commune}, a.commune_records, made ? file : std::string(), &samples);
  if (made) {
    Import(*node, file, "commune");
    std::filesystem::remove(file);
  }
  std::printf("    store file %.1f MB\n",
              static_cast<double>(std::filesystem::file_size(node::StorePath(dir))) / (1 << 20));
  AddOfficer(*node, "lan", app::Role::kOfficer);

  auto office = std::make_unique<app::Office>(std::move(node), domain::Lang::kVietnamese);
  web::WebOptions o;
  o.hosts = {kHost};
  auto tz = web::TimeZone::Named(o.time_zone);
  if (!tz.ok()) Die("time zone", tz.status());
  web::WebApp app(std::move(office), std::move(*tz), o);
  Client c{app, {}};
  LogIn(c, "lan");

  std::mt19937_64 rng(a.seed);
  auto pick = [&](const std::vector<std::string>& from) {
    return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
  };
  auto search = [&](const std::string& q) { return "/search?q=" + web::UrlEncode(q); };
  std::vector<std::string> surname, unaccented, names, ids, refs, records, page5;
  for (int i = 0; i < a.reps; ++i) {
    surname.push_back(search("nguyen"));
    page5.push_back(search("nguyen") + "&page=5");
    unaccented.push_back(search("nguyen thi hong"));
    names.push_back(search(pick(samples.full_names)));
    ids.push_back(search(pick(samples.personal_ids)));
    refs.push_back(search(web::RegisterRef(pick(samples.ids))));
    records.push_back("/records/" + web::UrlEncode(pick(samples.ids)));
  }
  std::printf("    through WebApp::Handle, logged in as an officer (e.g. %s, %s):\n",
              names[0].c_str(), refs[0].c_str());
  PrintHeader();
  Measure(c, "GET /search?q=nguyen", surname);
  Measure(c, "GET /search?q=nguyen&page=5", page5);
  Measure(c, "GET /search?q=nguyen thi hong", unaccented);
  Measure(c, "GET /search?q=<full name as written>", names);
  Measure(c, "GET /search?q=<12-digit personal ID>", ids);
  Measure(c, "GET /search?q=<KS 2026/000123>", refs);
  const Figures rec = Measure(c, "GET /records/ID (random)", records);
  Measure(c, "GET / (home)", std::vector<std::string>(std::max(1, a.reps / 10), "/"));
  Measure(c, "GET /conflicts", std::vector<std::string>(std::max(1, a.reps / 10), "/conflicts"));

  std::vector<std::string> socket_records(records.begin(),
                                          records.begin() + std::min<size_t>(records.size(), 200));
  Figures again = Measure(c, "GET /records/ID, in-process", socket_records);
  (void)again;
  OverSocket(app, c.cookie, socket_records, again);
}

void HubPart(const Args& a, const std::filesystem::path& root) {
  const std::vector<std::string> communes = CommunesOf(a.province, a.hub_communes);
  std::printf(
      "(3) hub of province %s (%s), %d generated records over %zu communes, one enrolled "
      "node each:\n",
      a.province.c_str(), app::Office::ProvinceName(a.province).c_str(), a.hub_records,
      communes.size());
  std::fflush(stdout);
  node::InitParams hp;
  hp.role = node::Role::kHub;
  hp.province = a.province;
  bool made = false;
  const std::string dir = (root / "hub").string();
  auto hub = OpenOrInit(dir, hp, &made);
  if (made) {
    bench::Stopwatch w;
    for (const std::string& code : communes) {
      node::InitParams cp;
      cp.commune = code;
      bool fresh = false;
      // A node left by an earlier run is enrolled at that run's hub.
      std::filesystem::remove_all(root / ("node-" + code));
      auto n = OpenOrInit((root / ("node-" + code)).string(), cp, &fresh);
      Enrol(*hub, *n);
    }
    std::printf("    enrolled %zu commune nodes in %.1f s\n", communes.size(), w.Seconds());
    const std::string file = (root / "hub.jsonl").string();
    Generate(a, communes, a.hub_records, file, nullptr);
    Import(*hub, file, "hub");
    std::filesystem::remove(file);
  }
  std::printf("    store file %.1f MB\n",
              static_cast<double>(std::filesystem::file_size(node::StorePath(dir))) / (1 << 20));
  AddOfficer(*hub, "op", app::Role::kOperator);

  auto office = std::make_unique<app::Office>(std::move(hub), domain::Lang::kVietnamese);
  web::WebOptions o;
  o.hosts = {kHost};
  auto tz = web::TimeZone::Named(o.time_zone);
  if (!tz.ok()) Die("time zone", tz.status());
  web::WebApp app(std::move(office), std::move(*tz), o);
  Client c{app, {}};
  LogIn(c, "op");
  const size_t n = static_cast<size_t>(std::max(1, a.hub_reps));
  std::printf("    through WebApp::Handle, logged in as an operator:\n");
  PrintHeader();
  Measure(c, "GET /hub", std::vector<std::string>(n, "/hub"));
  Measure(c, "GET /hub?format=csv", std::vector<std::string>(n, "/hub?format=csv"));
  Measure(c, "GET /hub/conflicts", std::vector<std::string>(n, "/hub/conflicts"));
  Measure(c, "GET /hub/stats", std::vector<std::string>(n, "/hub/stats"));
  Measure(c, "GET /hub/stats?from=01/01/2026&to=31/03/2026",
          std::vector<std::string>(n, "/hub/stats?from=01%2F01%2F2026&to=31%2F03%2F2026"));
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--commune-records") {
      a.commune_records = std::stoi(v);
    } else if (k == "--hub-records") {
      a.hub_records = std::stoi(v);
    } else if (k == "--hub-communes") {
      a.hub_communes = std::stoi(v);
    } else if (k == "--province") {
      a.province = v;
    } else if (k == "--reps") {
      a.reps = std::stoi(v);
    } else if (k == "--hub-reps") {
      a.hub_reps = std::stoi(v);
    } else if (k == "--seed") {
      a.seed = std::stoull(v);
    } else if (k == "--part") {
      a.part = v;
    } else if (k == "--data") {
      a.data = v;
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "option %s needs a value\n", argv[argc - 1]);
    return 2;
  }
  if (a.reps < 1 || a.commune_records < 100 || a.hub_records < 100) {
    std::fprintf(stderr, "--reps must be at least 1, the record counts at least 100\n");
    return 2;
  }
  bench::PrintRunHeader(argc, argv, sqlite3_libversion());
  std::fflush(stdout);
  std::unique_ptr<bench::ScratchDir> scratch;
  std::filesystem::path root;
  if (a.data.empty()) {
    scratch = std::make_unique<bench::ScratchDir>("tuphap-web-bench");
    root = scratch->path();
  } else {
    root = a.data;
    std::filesystem::create_directories(root);
  }
  if (a.part == "all" || a.part == "commune") CommunePart(a, root);
  if (a.part == "all" || a.part == "hub") HubPart(a, root);
  std::printf("peak memory of this process: %.1f MB\n", bench::PeakRssKb() / 1024.0);
  return 0;
}
