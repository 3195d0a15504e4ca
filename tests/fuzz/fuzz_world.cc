#include "tests/fuzz/fuzz_world.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "base/file_io.h"
#include "node/bundle.h"
#include "node/domain/record_generator.h"
#include "node/reconcile.h"
#include "node/sync.h"
#include "node/test_keys.h"
#include "replication/msgpack.h"

namespace tuphap::fuzz {
namespace {

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "fuzz world: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::abort();
}

template <class T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what, r.status());
  return std::move(r).value();
}

void Must(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what, s);
}

std::unique_ptr<node::Node> MakeNode(World& w, const std::string& name, node::Role role,
                                     const std::string& commune) {
  node::InitParams p;
  p.role = role;
  p.commune = role == node::Role::kCommune ? commune : "";
  p.province = role == node::Role::kHub ? "42" : "";
  p.now_ms = w.clock.WallMillis();
  Must(node::InitForTest(w.dir + "/" + name, p), "init " + name);
  node::NodeOptions o;
  o.clock = &w.clock;
  return Must(node::Node::Open(w.dir + "/" + name, node::TestOptions(std::move(o))),
              "open " + name);
}

void Enrol(node::Node& hub, node::Node& n, std::string* file_out) {
  const std::string request = Must(n.EnrollRequestFile("fuzz"), "enrol request");
  const node::Enrolment e = Must(hub.EnrollSign(request, 365), "enrol sign");
  Must(n.EnrollAccept(e.file), "enrol accept");
  if (file_out != nullptr) *file_out = e.file;
}

// The (kind, bytes) objects of an enrolment file (docs/security.md).
std::vector<std::pair<node::TrustKind, std::string>> EnrolmentObjects(std::string_view file) {
  std::vector<std::pair<node::TrustKind, std::string>> out;
  replication::MsgpackReader r(file);
  r.ExpectArray(4);
  r.ReadStr();
  r.ReadUint();
  r.ReadBin();
  const uint32_t n = r.ReadArrayHeader();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    r.ExpectArray(2);
    auto kind = node::TrustKindFromName(r.ReadStr());
    const std::string_view bytes = r.ReadBin();
    if (kind && r.ok()) out.emplace_back(*kind, std::string(bytes));
  }
  return out;
}

// Delivers frames both ways from the dialler's HELLO until neither side
// has more to say, recording each direction.
void Sync(node::Node& dialer_node, node::Node& listener_node, World& w) {
  node::SyncSession dialer(dialer_node, node::SyncSession::Side::kDialer, listener_node.box_key());
  node::SyncSession listener(listener_node, node::SyncSession::Side::kListener,
                             dialer_node.box_key());
  std::vector<std::string> to_listener{Must(dialer.Start(), "hello")}, to_dialer;
  for (int round = 0; round < 100 && !(to_listener.empty() && to_dialer.empty()); ++round) {
    std::vector<std::string> next_listener, next_dialer;
    for (const auto& f : to_listener) {
      w.dialer_frames.push_back(f);
      Must(listener.OnFrame(f, &next_dialer), "listener frame");
    }
    for (const auto& f : to_dialer) {
      w.listener_frames.push_back(f);
      Must(dialer.OnFrame(f, &next_listener), "dialer frame");
    }
    to_listener = std::move(next_listener);
    to_dialer = std::move(next_dialer);
  }
  if (!dialer.caught_up() || !listener.caught_up()) Die("sync", Status::Internal("not caught up"));
}

// Forwards reconcile queries to a node's responder as the commune, noting each.
class RecordingChannel final : public node::QueryChannel {
 public:
  RecordingChannel(node::Node& answerer, const replication::Certificate& asker, World& w)
      : responder_(answerer, node::ReconcileResponder::Limits::Unlimited()), asker_(asker), w_(w) {}
  Result<std::string> Ask(const std::string& what, std::string body) override {
    w_.queries.emplace_back(what, body);
    return responder_.Answer(asker_, what, body, 0);
  }

 private:
  node::ReconcileResponder responder_;
  const replication::Certificate& asker_;
  World& w_;
};

// What a world recorded when it was made, kept beside its nodes
// (TUPHAP_FUZZ_WORLD) as length-prefixed strings.
class Record {
 public:
  explicit Record(std::string bytes = {}) : bytes_(std::move(bytes)) {}
  void Put(std::string_view s) {
    for (int i = 3; i >= 0; --i) bytes_.push_back(static_cast<char>((s.size() >> (8 * i)) & 0xff));
    bytes_.append(s);
  }
  void Put(const std::vector<std::string>& v) {
    Put(std::to_string(v.size()));
    for (const auto& s : v) Put(s);
  }
  std::string Get() {
    if (pos_ + 4 > bytes_.size()) Die("world record", Status::Corruption("truncated"));
    size_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<uint8_t>(bytes_[pos_ + i]);
    if (pos_ + 4 + n > bytes_.size()) Die("world record", Status::Corruption("truncated"));
    std::string out = bytes_.substr(pos_ + 4, n);
    pos_ += 4 + n;
    return out;
  }
  void Get(std::vector<std::string>* v) {
    const size_t n = std::stoul(Get());
    for (size_t i = 0; i < n; ++i) v->push_back(Get());
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
  size_t pos_ = 0;
};

void Save(const World& w, const std::string& path) {
  Record r;
  r.Put(w.dialer_frames);
  r.Put(w.listener_frames);
  r.Put(w.request_file);
  r.Put(w.enrolment_file);
  std::vector<std::string> objects, queries;
  for (const auto& [kind, bytes] : w.trust_objects)
    objects.push_back(static_cast<char>(kind) + bytes);
  for (const auto& [what, body] : w.queries) {
    queries.push_back(what);
    queries.push_back(body);
  }
  r.Put(objects);
  r.Put(w.bundle_file);
  r.Put(w.key_file);
  r.Put(queries);
  r.Put(w.import_lines);
  WriteScratch(path + ".tmp", r.bytes());
  std::filesystem::rename(path + ".tmp", path);  // the world is whole once this exists
}

void Load(World& w, const std::string& path) {
  Record r(Must(ReadFileBounded(path, 1 << 30), "world record"));
  r.Get(&w.dialer_frames);
  r.Get(&w.listener_frames);
  w.request_file = r.Get();
  w.enrolment_file = r.Get();
  std::vector<std::string> objects, queries;
  r.Get(&objects);
  for (const auto& o : objects)
    w.trust_objects.emplace_back(static_cast<node::TrustKind>(o[0]), o.substr(1));
  w.bundle_file = r.Get();
  w.key_file = r.Get();
  r.Get(&queries);
  for (size_t i = 0; i + 1 < queries.size(); i += 2)
    w.queries.emplace_back(queries[i], queries[i + 1]);
  r.Get(&w.import_lines);
}

std::unique_ptr<node::Node> OpenNode(World& w, const std::string& name) {
  node::NodeOptions o;
  o.clock = &w.clock;
  return Must(node::Node::Open(w.dir + "/" + name, node::TestOptions(std::move(o))),
              "open " + name);
}

void Keys(World& w) {
  Must(w.hub->ReloadTrust(), "hub trust");
  w.root = &*Must(w.hub->UnlockedSecrets(), "hub secrets")->root;
  w.commune_key = &Must(w.commune->UnlockedSecrets(), "commune secrets")->sign;
  w.commune_cert = *w.hub->trust()->CertFor(w.commune->sign_key());
}

void Make(World& w) {
  // A world named by TUPHAP_FUZZ_WORLD is kept and reused (scripts/dev.sh
  // fuzz): the seeds and corpus of every run are made by the same nodes and
  // keys, so what one run found still means the same to the next.
  if (const char* keep = std::getenv("TUPHAP_FUZZ_WORLD"); keep != nullptr && *keep != '\0') {
    w.dir = std::filesystem::absolute(keep).string();
    if (std::filesystem::exists(w.dir + "/world.record")) {
      w.hub = OpenNode(w, "hub");
      w.commune = OpenNode(w, "commune");
      w.revoked = OpenNode(w, "revoked");
      w.stranger = OpenNode(w, "stranger");
      Keys(w);
      Load(w, w.dir + "/world.record");
      return;
    }
    std::filesystem::remove_all(w.dir);
    std::filesystem::create_directories(w.dir);
  } else {
    const char* shm = "/dev/shm";
    const std::string base =
        access(shm, W_OK) == 0 ? shm : std::filesystem::temp_directory_path().string();
    w.dir = base + "/tuphap-fuzz-" + std::to_string(getpid());
    std::filesystem::remove_all(w.dir);
    std::filesystem::create_directories(w.dir);
    std::atexit([] { std::filesystem::remove_all(TheWorld().dir); });
  }

  w.hub = MakeNode(w, "hub", node::Role::kHub, "");
  w.commune = MakeNode(w, "commune", node::Role::kCommune, "18568");
  w.revoked = MakeNode(w, "revoked", node::Role::kCommune, "18073");
  w.stranger = MakeNode(w, "stranger", node::Role::kCommune, "18568");
  Enrol(*w.hub, *w.commune, &w.enrolment_file);
  Enrol(*w.hub, *w.revoked, nullptr);
  w.request_file = Must(w.stranger->EnrollRequestFile("máy xã 2"), "stranger request");
  Keys(w);

  for (int i = 0; i < 6; ++i) {
    Must(w.commune->CreateRecord("R" + std::to_string(i), "note", "18568",
                                 {{"text", crdt::Value::String("ghi chú " + std::to_string(i))}}),
         "record");
  }
  Sync(*w.commune, *w.hub, w);
  // A difference for reconcile to find (so its run asks every kind of
  // query): a correction the hub lacks.
  Must(w.commune->SetFields("R3", {{"text", crdt::Value::String("đã sửa")}}, "sửa sai"),
       "correction");
  const node::RevocationResult revocation =
      Must(w.hub->RevokeNode(w.revoked->info().id.Hex(), "máy bị mất", std::nullopt), "revoke");
  {
    RecordingChannel channel(*w.hub, w.commune_cert, w);
    node::StoreSource ours(w.commune->store(), w.commune->opener(), [&](std::string_view scope) {
      return w.commune->opener().CanRead(scope);
    });
    auto theirs = node::RemoteSource(channel);
    Must(node::Reconcile(ours, *theirs, {"18568"}), "reconcile");
  }

  w.trust_objects = EnrolmentObjects(w.enrolment_file);
  w.trust_objects.emplace_back(node::TrustKind::kRevocation, revocation.revocation.Sign(*w.root));

  const std::string bundle_path = w.dir + "/bundle";
  Must(node::ExportBundle(*w.commune, node::NodeIdText(w.hub->sign_key()), true, bundle_path),
       "bundle export");
  w.bundle_file = Must(ReadFileBounded(bundle_path, node::kMaxBundleBytes), "bundle read");
  w.key_file = Must(ReadFileBounded(node::KeyFilePath(w.dir + "/commune"), node::kMaxKeyFileBytes),
                    "key file read");

  domain::GeneratorOptions g;
  g.seed = 7;
  g.communes = {"18568"};
  g.records = 60;
  g.edits = 10;
  g.bad = 0.3;
  domain::GenerateRecords(g, [&](const std::string& line) { w.import_lines.push_back(line); });
  Save(w, w.dir + "/world.record");
}

}  // namespace

std::vector<std::string> SplitFrames(std::string_view in) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos + 2 <= in.size()) {
    const size_t n = (static_cast<uint8_t>(in[pos]) << 8) | static_cast<uint8_t>(in[pos + 1]);
    pos += 2;
    const size_t take = std::min(n, in.size() - pos);
    out.emplace_back(in.substr(pos, take));
    pos += take;
  }
  return out;
}

std::string JoinFrames(const std::vector<std::string>& frames) {
  std::string out;
  for (const auto& f : frames) {
    const size_t n = std::min<size_t>(f.size(), 0xffff);
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
    out.append(f, 0, n);
  }
  return out;
}

void WriteScratch(const std::string& path, std::string_view bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() ||
      std::fclose(f) != 0) {
    std::fprintf(stderr, "fuzz world: cannot write %s\n", path.c_str());
    std::abort();
  }
}

World& TheWorld() {
  static World* w = [] {
    auto* made = new World;
    Make(*made);
    return made;
  }();
  return *w;
}

}  // namespace tuphap::fuzz
