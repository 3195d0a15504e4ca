// Backup, safe restore and delivery receipts on real nodes, real stores
// and real backup files (node/restore.h): a restored node writes nothing
// until a sync brings its own feed back, then writes without
// equivocation; a damaged backup is refused; a hub restored from an old
// backup of itself is flagged as a rollback and sent again what it lacks.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/file_io.h"
#include "node/restore.h"
#include "node/sync.h"
#include "node/test_nodes.h"

namespace tuphap::node {
namespace {

class RestoreTest : public NodesTest {
 protected:
  // Delivers frames both ways, starting with the dialler's HELLO, until
  // neither side has more to say; both must have caught up.
  static void Sync(Node& dialer_node, Node& listener_node) {
    SyncSession dialer(dialer_node, SyncSession::Side::kDialer, listener_node.box_key());
    SyncSession listener(listener_node, SyncSession::Side::kListener, dialer_node.box_key());
    auto hello = dialer.Start();
    ASSERT_TRUE(hello.ok()) << hello.status().ToString();
    std::vector<std::string> to_listener{*hello}, to_dialer;
    for (int round = 0; round < 200 && !(to_listener.empty() && to_dialer.empty()); ++round) {
      std::vector<std::string> next_listener, next_dialer;
      for (const auto& f : to_listener) {
        Status s = listener.OnFrame(f, &next_dialer);
        ASSERT_TRUE(s.ok()) << s.ToString();
      }
      for (const auto& f : to_dialer) {
        Status s = dialer.OnFrame(f, &next_listener);
        ASSERT_TRUE(s.ok()) << s.ToString();
      }
      to_listener = std::move(next_listener);
      to_dialer = std::move(next_dialer);
    }
    EXPECT_TRUE(dialer.caught_up());
    EXPECT_TRUE(listener.caught_up());
  }
  void Write(Node& n, const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      auto r = n.CreateRecord(prefix + std::to_string(i), "note", "", {});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }
  static uint64_t Head(Node& n, const crdt::ReplicaId& origin, const std::string& scope) {
    auto h = n.store().Head(store::FeedKey{origin, scope});
    return h.ok() && h->has_value() ? (*h)->seq : 0;
  }
  static store::ScopeDigest Digest(Node& n, const std::string& scope) {
    auto d = n.Digests(scope);
    EXPECT_TRUE(d.ok() && d->size() == 1);
    return d.ok() && d->size() == 1 ? d->front() : store::ScopeDigest{};
  }
  static bool IsRestored(Node& n) {
    auto r = n.Restored();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  }
  std::string File(const std::string& name) const { return (root_ / name).string(); }
};

TEST_F(RestoreTest, ARestoredNodeRefusesToWriteUntilItPulledItsFeedBackThenWritesWithoutFork) {
  auto hub = Make("hub", Role::kHub);
  auto a = Make("a");
  Enrol(*hub, *a);
  Write(*a, "OLD-", 3);
  Sync(*a, *hub);
  const uint64_t at_backup = Digest(*hub, kCommune).records;
  auto written = WriteBackup(*a, Dir("a"), File("a.backup"));
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(std::filesystem::status(File("a.backup")).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // 50 more after the backup, synced: the hub holds them, the backup not.
  Write(*a, "NEW-", 50);
  Sync(*a, *hub);
  const crdt::ReplicaId id = a->info().id;
  const uint64_t head_before_disk_died = Head(*a, id, kCommune);
  a.reset();

  auto restored = RestoreBackup(File("a.backup"), Dir("r"), clock_.WallMillis());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  auto r = Open("r");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->info().id, id);
  EXPECT_TRUE(IsRestored(*r));
  EXPECT_LT(Head(*r, id, kCommune), head_before_disk_died);
  // Every path that appends to its own feed is refused, with the reason.
  auto refused = r->CreateRecord("AFTER-RESTORE", "note", "", {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), "E_RESTORED");
  EXPECT_NE(refused.status().message().find("sync"), std::string::npos);
  Status amend = r->SetFields("OLD-0", {{"note", crdt::Value::String("x")}});
  EXPECT_EQ(amend.reason(), "E_RESTORED");
  EXPECT_EQ(r->Revoke("OLD-1", "mistake").reason(), "E_RESTORED");
  EXPECT_EQ(Head(*r, id, kCommune), Head(*hub, id, kCommune) - 50);

  // What the hub announces of the node's feed, before the node holds it:
  // the mark stays.
  auto hub_head = hub->store().Head(store::FeedKey{id, kCommune});
  ASSERT_TRUE(hub_head.ok() && hub_head->has_value());
  replication::FeedHeadWire announced{id, kCommune, (*hub_head)->seq, (*hub_head)->hash};
  replication::Certificate hub_cert;
  hub_cert.role = replication::NodeRole::kHub;
  hub_cert.sign_key = hub->sign_key();
  auto cleared = r->ClearRestoredIfCaughtUp(hub_cert, {announced});
  ASSERT_TRUE(cleared.ok());
  EXPECT_FALSE(*cleared);
  EXPECT_TRUE(IsRestored(*r));
  // Only the hub vouches: a secondary node or a relay that lags behind (here
  // one that holds nothing of this feed) would clear the mark too early.
  replication::Certificate secondary = hub_cert;
  secondary.role = replication::NodeRole::kCommune;
  cleared = r->ClearRestoredIfCaughtUp(secondary, {});
  ASSERT_TRUE(cleared.ok());
  EXPECT_FALSE(*cleared);
  // Nor a hub that announces less than it signed for before the backup (a
  // hub restored in turn): the receipts the backup kept are a floor.
  ASSERT_FALSE(r->store().Receipts()->empty());
  cleared = r->ClearRestoredIfCaughtUp(hub_cert, {});
  ASSERT_TRUE(cleared.ok());
  EXPECT_FALSE(*cleared);
  EXPECT_TRUE(IsRestored(*r));

  // The sync brings the 50 back; the mark goes; the node writes again.
  Sync(*r, *hub);
  EXPECT_EQ(Head(*r, id, kCommune), head_before_disk_died);
  EXPECT_FALSE(IsRestored(*r));
  // Its clock moves past the changes it pulled back (the HLC they carry).
  auto pulled_last = r->store().GetEnvelope({id, kCommune}, head_before_disk_died);
  ASSERT_TRUE(pulled_last.ok() && pulled_last->has_value());
  auto accepted = r->CreateRecord("AFTER-RESTORE", "note", "", {});
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(Head(*r, id, kCommune), head_before_disk_died + 1);
  auto written_now = r->store().GetEnvelope({id, kCommune}, head_before_disk_died + 1);
  ASSERT_TRUE(written_now.ok() && written_now->has_value());
  EXPECT_GT((*written_now)->header().hlc, (*pulled_last)->header().hlc);
  EXPECT_EQ((*written_now)->header().prev, (*pulled_last)->hash());
  Sync(*r, *hub);
  auto security = hub->Security();
  ASSERT_TRUE(security.ok());
  EXPECT_TRUE(security->equivocations.empty());
  EXPECT_TRUE(security->quarantined.empty());
  EXPECT_EQ(Digest(*hub, kCommune).records, at_backup + 51);
  EXPECT_EQ(Digest(*hub, kCommune).digest, Digest(*r, kCommune).digest);
}

TEST_F(RestoreTest, ARestoredNodeWhoseHubKnowsNothingNewerWritesAfterItsFirstSync) {
  auto hub = Make("hub", Role::kHub);
  auto a = Make("a");
  Enrol(*hub, *a);
  Write(*a, "R-", 4);
  Sync(*a, *hub);
  ASSERT_TRUE(WriteBackup(*a, Dir("a"), File("a.backup")).ok());
  a.reset();
  ASSERT_TRUE(RestoreBackup(File("a.backup"), Dir("r"), clock_.WallMillis()).ok());
  auto r = Open("r");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->CreateRecord("X", "note", "", {}).status().reason(), "E_RESTORED");
  Sync(*r, *hub);
  EXPECT_FALSE(IsRestored(*r));
  ASSERT_TRUE(r->CreateRecord("X", "note", "", {}).ok());
  Sync(*r, *hub);
  EXPECT_TRUE(hub->Security()->equivocations.empty());
  EXPECT_EQ(Digest(*hub, kCommune).records, 5u);
}

TEST_F(RestoreTest, ABackupTakenBeforeEnrolmentCannotSealItsDraftsAgain) {
  auto hub = Make("hub", Role::kHub);
  auto a = Make("a");
  Write(*a, "DRAFT-", 3);  // before enrolment: drafts, sealed at enrolment
  ASSERT_TRUE(WriteBackup(*a, Dir("a"), File("a.backup")).ok());
  auto request = a->EnrollRequestFile("test");
  ASSERT_TRUE(request.ok());
  auto enrolment = hub->EnrollSign(*request, 365);
  ASSERT_TRUE(enrolment.ok());
  ASSERT_TRUE(a->EnrollAccept(enrolment->file).ok());
  Sync(*a, *hub);
  a.reset();
  ASSERT_TRUE(RestoreBackup(File("a.backup"), Dir("r"), clock_.WallMillis()).ok());
  auto r = Open("r");
  ASSERT_TRUE(r);
  // Sealing the drafts again (new nonces, new hashes) would fork the feed
  // the hub already holds sealed.
  auto accepted = r->EnrollAccept(enrolment->file);
  ASSERT_FALSE(accepted.ok());
  EXPECT_EQ(accepted.status().reason(), "E_RESTORED");
  EXPECT_NE(accepted.status().message().find("before it was enrolled"), std::string::npos);
  EXPECT_TRUE(hub->Security()->equivocations.empty());
}

TEST_F(RestoreTest, TheStoresCopyStaysInTheDataFolderAndADeadBackupsCopyIsRemoved) {
  auto a = Make("a");
  Write(*a, "R-", 2);
  // The copy a killed backup left behind (a process that has exited).
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ::waitpid(dead, nullptr, 0);
  const std::string left = Dir("a") + "/backup-copy.tmp-" + std::to_string(dead) + "-1";
  ASSERT_TRUE(WriteFileAtomic(left, "records in the clear", 0600).ok());
  ASSERT_TRUE(WriteBackup(*a, Dir("a"), File("a.backup")).ok());
  EXPECT_FALSE(std::filesystem::exists(left));
  // Nothing but the backup beside it, nothing left in the data folder.
  for (const auto& e : std::filesystem::directory_iterator(root_)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
  for (const auto& e : std::filesystem::directory_iterator(Dir("a"))) {
    EXPECT_EQ(e.path().filename().string().find("backup-copy"), std::string::npos) << e.path();
  }
}

TEST_F(RestoreTest, ADamagedOrForeignBackupIsRefusedBeforeAnythingIsPublished) {
  auto hub = Make("hub", Role::kHub);
  auto a = Make("a");
  Enrol(*hub, *a);
  Write(*a, "R-", 2);
  ASSERT_TRUE(WriteBackup(*a, Dir("a"), File("a.backup")).ok());
  auto bytes = ReadFileBounded(File("a.backup"), 64 << 20);
  ASSERT_TRUE(bytes.ok());
  // One byte flipped in the store's copy.
  std::string flipped = *bytes;
  flipped[flipped.size() / 2] ^= 0x20;
  ASSERT_TRUE(WriteFileAtomic(File("flipped"), flipped).ok());
  auto s = RestoreBackup(File("flipped"), Dir("r1"), clock_.WallMillis());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "E_BACKUP_DAMAGED");
  EXPECT_NE(s.status().message().find("checksum"), std::string::npos) << s.status().message();
  EXPECT_FALSE(std::filesystem::exists(StorePath(Dir("r1"))));
  EXPECT_FALSE(std::filesystem::exists(KeyFilePath(Dir("r1"))));
  // Cut short, and a length that claims more than the file holds.
  ASSERT_TRUE(WriteFileAtomic(File("short"), bytes->substr(0, bytes->size() - 100)).ok());
  EXPECT_EQ(RestoreBackup(File("short"), Dir("r2"), 0).status().reason(), "E_BACKUP_DAMAGED");
  std::string huge = *bytes;
  for (int i = 0; i < 8; ++i) huge[16 + 2 + 4 + i] = '\xff';  // the keys section's length
  ASSERT_TRUE(WriteFileAtomic(File("huge"), huge).ok());
  EXPECT_EQ(RestoreBackup(File("huge"), Dir("r3"), 0).status().reason(), "E_BACKUP_DAMAGED");
  ASSERT_TRUE(WriteFileAtomic(File("junk"), std::string(4096, 'x')).ok());
  EXPECT_EQ(RestoreBackup(File("junk"), Dir("r4"), 0).status().reason(), "E_BACKUP_DAMAGED");
  // A folder that holds a node is never overwritten.
  auto over = RestoreBackup(File("a.backup"), Dir("hub"), 0);
  EXPECT_EQ(over.status().code(), StatusCode::kAlreadyExists);
  // The good file restores.
  EXPECT_TRUE(RestoreBackup(File("a.backup"), Dir("r5"), 0).ok());
}

TEST_F(RestoreTest, TheHubsReceiptsAreKeptAndAHubRestoredFromAnOldBackupIsARollback) {
  auto hub = Make("hub", Role::kHub);
  auto a = Make("a");
  Enrol(*hub, *a);
  Write(*a, "R-", 3);
  Sync(*a, *hub);
  const crdt::ReplicaId id = a->info().id;
  auto receipts = a->store().Receipts();
  ASSERT_TRUE(receipts.ok());
  ASSERT_EQ(receipts->size(), 1u);
  EXPECT_EQ(receipts->front().feed.scope, kCommune);
  EXPECT_EQ(receipts->front().seq, Head(*a, id, kCommune));
  EXPECT_EQ(receipts->front().hub.bytes, hub->sign_key());
  // The receipt proves itself to a third party: the hub's key verifies
  // its signature over the ACK body kept with it.
  EXPECT_TRUE(replication::VerifySignature(hub->sign_key(), replication::kSignReceipt,
                                           receipts->front().body, receipts->front().signature));
  const uint64_t signed_at_backup = receipts->front().seq;
  ASSERT_TRUE(WriteBackup(*hub, Dir("hub"), File("hub.backup")).ok());
  Write(*a, "S-", 5);
  Sync(*a, *hub);
  const uint64_t signed_last = Head(*a, id, kCommune);
  ASSERT_EQ(a->store().Receipts()->front().seq, signed_last);
  // The hub's disk dies; it comes back from the old backup.
  const replication::PublicKey hub_key = hub->sign_key();
  hub.reset();
  ASSERT_TRUE(RestoreBackup(File("hub.backup"), Dir("hub2"), clock_.WallMillis()).ok());
  auto hub2 = Open("hub2");
  ASSERT_TRUE(hub2);
  EXPECT_TRUE(IsRestored(*hub2));
  EXPECT_EQ(Head(*hub2, id, kCommune), signed_at_backup);
  Sync(*a, *hub2);
  auto rollbacks = a->store().HubRollbacks();
  ASSERT_TRUE(rollbacks.ok());
  ASSERT_EQ(rollbacks->size(), 1u);
  EXPECT_EQ(rollbacks->front().hub.bytes, hub_key);
  EXPECT_EQ(rollbacks->front().signed_seq, signed_last);
  EXPECT_EQ(rollbacks->front().announced_seq, signed_at_backup);
  EXPECT_EQ(Refused(a->Security()->refusals, "E_HUB_ROLLBACK"), 1u);
  // The same rollback announced again (a hub that stays behind, session
  // after session) is one event, not a row and a refusal per session.
  replication::Certificate hub2_cert;
  hub2_cert.role = replication::NodeRole::kHub;
  hub2_cert.sign_key = hub_key;
  ASSERT_TRUE(a->CheckHubRollback(hub2_cert,
                                  {replication::FeedHeadWire{id, kCommune, signed_at_backup, {}}})
                  .ok());
  EXPECT_EQ(a->store().HubRollbacks()->size(), 1u);
  // Nor a hub that catches up in steps, below the same receipt each time.
  ASSERT_TRUE(a->CheckHubRollback(
                   hub2_cert, {replication::FeedHeadWire{id, kCommune, signed_at_backup + 1, {}}})
                  .ok());
  EXPECT_EQ(a->store().HubRollbacks()->size(), 1u);
  EXPECT_EQ(Refused(a->Security()->refusals, "E_HUB_ROLLBACK"), 1u);
  // The commune sent again what the hub lacked.
  EXPECT_EQ(Head(*hub2, id, kCommune), signed_last);
  EXPECT_EQ(Digest(*hub2, kCommune).digest, Digest(*a, kCommune).digest);
  // A restored hub stays marked after a commune's sync: its own feeds (the
  // public feed's certificates) went to every commune, and one session
  // cannot show it holds their latest. Its operator resumes writes once
  // the communes have synced.
  EXPECT_TRUE(IsRestored(*hub2));
  const Status enrol = hub2->EnrollSign(a->EnrollRequestFile("again").value(), 30).status();
  EXPECT_EQ(enrol.reason(), "E_RESTORED");
  // A hub is told what a hub does: not "sync with the hub".
  EXPECT_NE(enrol.message().find("resume-writes"), std::string::npos) << enrol.message();
  auto resumed = hub2->ResumeWrites();
  ASSERT_TRUE(resumed.ok() && *resumed);
  EXPECT_FALSE(IsRestored(*hub2));
  // A second sync with the hub caught up flags nothing more.
  Sync(*a, *hub2);
  EXPECT_EQ(a->store().HubRollbacks()->size(), 1u);
}

}  // namespace
}  // namespace tuphap::node
