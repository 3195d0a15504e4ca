#include "node/node.h"
#include "node/test_keys.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "node/store/draft_opener.h"

namespace tuphap::node {
namespace {

namespace fs = std::filesystem;
using crdt::Value;

class NodeTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ =
        fs::temp_directory_path() / ("tuphap-node-" + std::to_string(getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<Node> Make(const std::string& name, Role role = Role::kCommune,
                             const char* officer = "Lan") {
    InitParams p;
    p.role = role;
    p.commune = role == Role::kCommune ? "18568" : "";
    p.province = role == Role::kHub ? "42" : "";
    p.now_ms = clock_.WallMillis();
    const std::string dir = (root_ / name).string();
    Status s = InitForTest(dir, p);
    EXPECT_TRUE(s.ok()) << s.ToString();
    NodeOptions o = TestOptions();
    o.officer = officer;
    o.clock = &clock_;
    auto n = Node::Open(dir, o);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return std::move(n).value();
  }

  // Enrols a commune node with the hub, through the files an operator carries.
  static void Enrol(Node& hub, Node& commune) {
    auto request = commune.EnrollRequestFile("test");
    ASSERT_TRUE(request.ok()) << request.status().ToString();
    auto signed_file = hub.EnrollSign(*request, 365);
    ASSERT_TRUE(signed_file.ok()) << signed_file.status().ToString();
    auto accepted = commune.EnrollAccept(signed_file->file);
    ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  }

  // Copies every change of `from`'s store into `to`'s through the ingest
  // checks, as a sync would.
  void CopyChanges(Node& from, Node& to) {
    std::vector<store::Store::Incoming> batch;
    for (const auto& head : *from.store().Heads()) {
      for (uint64_t seq = 1; seq <= head.seq; ++seq) {
        batch.push_back({**from.store().GetEnvelope(head.feed, seq), std::nullopt});
      }
    }
    auto report = to.Ingest(batch);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->refused, 0u);
  }

  fs::path root_;
  ManualClock clock_{1'751'328'000'000};
};

// init publishes a node whole, and never mixes it with what an earlier one
// left: a key file without a store (an init cut short) is kept aside, not
// overwritten; a WAL left by a removed store is refused (SQLite would replay
// it into the new store); a second init while one runs is told so.
TEST_F(NodeTest, InitKeepsOldKeysAsideRefusesALeftoverWalAndRunsOneAtATime) {
  InitParams p;
  p.commune = "18568";
  const std::string dir = (root_ / "n").string();
  fs::create_directories(dir);
  { std::ofstream(KeyFilePath(dir)) << "the keys of an earlier node"; }
  ASSERT_TRUE(InitForTest(dir, p).ok());
  int aside = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename();
    if (name.rfind("keys.replaced-", 0) == 0) {
      ++aside;
      std::ifstream in(e.path());
      std::string text;
      std::getline(in, text);
      EXPECT_EQ(text, "the keys of an earlier node");
    }
    EXPECT_NE(name, ".init") << "the staging folder stayed";
  }
  EXPECT_EQ(aside, 1);
  ASSERT_TRUE(Node::Open(dir, TestOptions()).ok());

  const std::string other = (root_ / "o").string();
  fs::create_directories(other);
  { std::ofstream(StorePath(other) + "-wal") << "frames of a removed store"; }
  Status wal = InitForTest(other, p);
  EXPECT_EQ(wal.code(), StatusCode::kAlreadyExists) << wal.ToString();
  EXPECT_NE(wal.message().find("-wal"), std::string::npos) << wal.ToString();
  EXPECT_FALSE(fs::exists(StorePath(other)));

  const std::string busy = (root_ / "b").string();
  fs::create_directories(busy);
  const int fd = ::open(busy.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // another init holds the folder
  Status locked = InitForTest(busy, p);
  EXPECT_EQ(locked.code(), StatusCode::kAlreadyExists) << locked.ToString();
  EXPECT_NE(locked.message().find("another 'tuphap init'"), std::string::npos);
  ::close(fd);
  EXPECT_TRUE(InitForTest(busy, p).ok());
}

TEST_F(NodeTest, CreateAmendRevokeAndReadBack) {
  auto n = Make("a");
  auto id = n->CreateRecord("", "note", "",
                            {{"title", Value::String("hello")}, {"body", Value::String("x")}});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->size(), 26u);  // a ULID
  clock_.Advance(1000);
  ASSERT_TRUE(n->SetFields(*id, {{"title", Value::String("world")}}).ok());
  auto rec = n->GetRecord(*id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->scope, "18568");
  EXPECT_EQ(rec->state.Type(), "note");
  EXPECT_EQ(rec->state.Field("title")->Winner()->value, Value::String("world"));
  EXPECT_FALSE(rec->state.Field("title")->InConflict());
  ASSERT_TRUE(n->Revoke(*id, "entered twice").ok());
  EXPECT_TRUE(n->GetRecord(*id)->state.Revoked());
  Status again = n->SetFields(*id, {{"title", Value::String("late")}});
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
}

TEST_F(NodeTest, HistoryListsEveryChangeWithOfficerTimeAndOldValue) {
  auto n = Make("a");
  auto id = n->CreateRecord("18568-KS-2025-000001", "birth", "", {{"name", Value::String("An")}});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "18568-KS-2025-000001");
  clock_.Advance(60'000);
  ASSERT_TRUE(n->SetFields(*id, {{"name", Value::String("Anh")}}).ok());
  auto h = n->History(*id);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].officer, "Lan");
  EXPECT_EQ((*h)[0].seq, 1u);
  EXPECT_EQ((*h)[0].ops.size(), 2u);  // $type and name
  EXPECT_EQ((*h)[1].ops[0].field, "name");
  EXPECT_EQ((*h)[1].ops[0].value, Value::String("Anh"));
  ASSERT_EQ((*h)[1].ops[0].old.size(), 1u);
  EXPECT_EQ((*h)[1].ops[0].old[0], Value::String("An"));
  EXPECT_EQ((*h)[1].hlc.millis() - (*h)[0].hlc.millis(), 60'000u);
  EXPECT_EQ((*h)[1].origin, n->info().id);
}

TEST_F(NodeTest, ErrorsAreSpecific) {
  auto n = Make("a");
  EXPECT_EQ(n->GetRecord("NO-SUCH-ID").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(n->SetFields("NO-SUCH-ID", {{"a", Value::String("b")}}).code(), StatusCode::kNotFound);
  EXPECT_EQ(n->CreateRecord("", "note", "22333", {}).status().code(),
            StatusCode::kPermissionDenied);
  auto id = n->CreateRecord("X1", "note", "", {});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(n->CreateRecord("X1", "note", "", {}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(n->SetFields("X1", {{"$type", Value::String("death")}}).code(),
            StatusCode::kInvalidArgument);
  auto missing = Node::Open((root_ / "nowhere").string(), NodeOptions{});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  InitParams p;
  p.commune = "18568";
  EXPECT_EQ(InitForTest((root_ / "a").string(), p).code(), StatusCode::kAlreadyExists);
  p.commune = "1856";
  EXPECT_EQ(InitForTest((root_ / "b").string(), p).code(), StatusCode::kInvalidArgument);
}

TEST_F(NodeTest, HubMustNameTheCommuneScope) {
  auto hub = Make("hub", Role::kHub);
  EXPECT_EQ(hub->CreateRecord("", "note", "", {}).status().code(), StatusCode::kInvalidArgument);
  auto made = hub->CreateRecord("", "note", "18568", {});
  EXPECT_TRUE(made.ok()) << made.status().ToString();
}

TEST_F(NodeTest, ConcurrentEditsOnTwoNodesBecomeAConflictThatAnAmendResolves) {
  auto a = Make("a", Role::kCommune, "Lan");
  auto hub = Make("hub", Role::kHub, "Minh");
  Enrol(*hub, *a);
  auto id = a->CreateRecord("R1", "birth", "", {{"name", Value::String("An")}});
  ASSERT_TRUE(id.ok());
  CopyChanges(*a, *hub);
  clock_.Advance(10);
  ASSERT_TRUE(a->SetFields("R1", {{"name", Value::String("Anh")}}).ok());
  ASSERT_TRUE(hub->SetFields("R1", {{"name", Value::String("Ánh")}}).ok());
  CopyChanges(*a, *hub);
  CopyChanges(*hub, *a);
  for (Node* n : {a.get(), hub.get()}) {
    auto conflicts = n->Conflicts();
    ASSERT_TRUE(conflicts.ok());
    ASSERT_EQ(conflicts->size(), 1u);
    EXPECT_EQ((*conflicts)[0].field, "name");
    EXPECT_EQ((*conflicts)[0].values.entries().size(), 2u);
  }
  EXPECT_EQ(a->Digests(std::nullopt)->front().digest, hub->Digests(std::nullopt)->front().digest);
  ASSERT_TRUE(hub->SetFields("R1", {{"name", Value::String("Anh")}}).ok());
  CopyChanges(*hub, *a);
  EXPECT_TRUE(a->Conflicts()->empty());
  EXPECT_EQ(a->GetRecord("R1")->state.Field("name")->Winner()->value, Value::String("Anh"));
  EXPECT_EQ(a->Digests(std::nullopt)->front().digest, hub->Digests(std::nullopt)->front().digest);
}

TEST_F(NodeTest, HistoryOldValuesAreWhatEachOpReplacedAndReasonsAreKept) {
  auto a = Make("a", Role::kCommune, "Lan");
  auto hub = Make("hub", Role::kHub, "Minh");
  // Written before enrolment: a draft, sealed when the node is enrolled.
  ASSERT_TRUE(a->CreateRecord("R1", "birth", "", {{"name", Value::String("An")}}).ok());
  Enrol(*hub, *a);
  CopyChanges(*a, *hub);
  ASSERT_TRUE(a->SetFields("R1", {{"name", Value::String("Anh")}}, "typo").ok());
  ASSERT_TRUE(hub->SetFields("R1", {{"name", Value::String("Ánh")}}).ok());
  CopyChanges(*hub, *a);
  ASSERT_TRUE(
      a->SetFields("R1", {{"name", Value::String("Anh")}}, "resolved with the family").ok());
  auto h = a->History("R1");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 4u);
  // Both concurrent edits replaced "An" — neither replaced the other.
  EXPECT_EQ((*h)[1].reason, "typo");
  EXPECT_EQ((*h)[1].ops[0].old, std::vector<Value>{Value::String("An")});
  EXPECT_EQ((*h)[2].officer, "Minh");
  EXPECT_EQ((*h)[2].ops[0].old, std::vector<Value>{Value::String("An")});
  // The resolution replaced both.
  EXPECT_EQ((*h)[3].ops[0].old.size(), 2u);
  EXPECT_EQ((*h)[3].reason, "resolved with the family");
}

TEST_F(NodeTest, RefusesWhatPeersWouldRefuseAndWritesNothing) {
  auto n = Make("a");
  EXPECT_EQ(n->CreateRecord(std::string(200, 'x'), "note", "", {}).status().reason(), "E_LIMIT");
  EXPECT_EQ(n->CreateRecord("R1", "note", "", {{std::string(300, 'f'), Value::String("v")}})
                .status()
                .reason(),
            "E_LIMIT");
  EXPECT_EQ(n->CreateRecord("R1", "note", "", {{"a", Value::String("\xff\xfe")}}).status().reason(),
            "E_CHANGE_SHAPE");
  ASSERT_TRUE(n->CreateRecord("R1", "note", "", {}).ok());
  EXPECT_EQ(n->SetFields("R1", {{"a", Value::String("1")}, {"a", Value::String("2")}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(n->store().Heads()->front().seq, 1u);  // only the good change
}

TEST_F(NodeTest, RefusesToStampWhenTheClockWasSetFarBack) {
  auto n = Make("a");
  ASSERT_TRUE(n->CreateRecord("R1", "note", "", {}).ok());
  clock_.SetWall(clock_.WallMillis() - 3 * 86'400'000LL);
  auto r = n->CreateRecord("R2", "note", "", {});
  EXPECT_EQ(r.status().reason(), "E_CLOCK_BEHIND");
  EXPECT_FALSE(n->GetRecord("R2").ok());  // nothing half-written
  // The operator says the clock is right now: stamps go on after the last.
  NodeOptions o = TestOptions();
  o.clock = &clock_;
  o.accept_clock_behind = true;
  auto forced = Node::Open((root_ / "a").string(), o);
  ASSERT_TRUE(forced.ok());
  EXPECT_TRUE((*forced)->CreateRecord("R2", "note", "", {}).ok());
}

// Keys are unlocked before a write transaction opens, never inside one: a
// prompt there would hold every other writer (serve too) on the lock.
TEST_F(NodeTest, WritesUnlockBeforeTheirTransactionAndAFailedUnlockIsNotAskedAgain) {
  auto hub = Make("hub", Role::kHub);
  const std::string dir = (root_ / "hub").string();
  hub.reset();
  int asked = 0;
  bool session_open_when_asked = false;
  Node* opened = nullptr;
  NodeOptions o;
  o.clock = &clock_;
  o.passphrase = [&]() -> Result<replication::SecretBytes> {
    ++asked;
    session_open_when_asked = opened != nullptr && opened->store().session_open();
    return replication::SecretBytes("wrong passphrase", 16);
  };
  auto n = Node::Open(dir, o);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  opened = n->get();
  Status s = (*n)->CreateRecord("", "note", "18568", {{"a", Value::String("x")}}).status();
  EXPECT_EQ(s.reason(), "E_WRONG_PASSPHRASE") << s.ToString();
  EXPECT_FALSE(session_open_when_asked);
  s = (*n)->CreateRecord("", "note", "18568", {{"a", Value::String("y")}}).status();
  EXPECT_EQ(s.reason(), "E_WRONG_PASSPHRASE") << s.ToString();
  EXPECT_EQ(asked, 1) << "a failed unlock is remembered for the process, not asked again";
  EXPECT_FALSE((*n)->store().session_open());
}

TEST_F(NodeTest, AnOpenSessionNeverUnlocks) {
  // A commune before enrolment writes drafts: its sessions need no keys,
  // so none were unlocked when this one began.
  const std::string dir = (root_ / "c").string();
  Make("c").reset();
  int asked = 0;
  NodeOptions o = TestOptions();
  o.clock = &clock_;
  o.passphrase = [&]() -> Result<replication::SecretBytes> {
    ++asked;
    return TestPassphrase();
  };
  auto n = Node::Open(dir, o);
  ASSERT_TRUE(n.ok());
  auto session = (*n)->BeginSession();
  ASSERT_TRUE(session.ok()) << session.status().ToString();
#ifdef NDEBUG
  Status s = (*n)->Unlock();
  EXPECT_EQ(s.reason(), "E_LOCKED") << s.ToString();
#else
  EXPECT_DEATH((void)(*n)->Unlock(), "inside a write transaction");
#endif
  EXPECT_EQ(asked, 0);
  session->reset();
  EXPECT_TRUE((*n)->Unlock().ok());
  EXPECT_EQ(asked, 1);
}

}  // namespace
}  // namespace tuphap::node
