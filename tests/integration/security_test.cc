// The ingest checks of issue 4, each on real nodes (SQLite stores, key
// files, libsodium), each failing if its check is removed: nodes are enrolled
// through the same files an operator carries, and envelopes move between
// stores as a sync would move them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "node/node.h"
#include "node/test_keys.h"
#include "node/test_nodes.h"
#include "replication/change_codec.h"
#include "replication/seal.h"

namespace tuphap::node {
namespace {

namespace fs = std::filesystem;
using store::Store;

constexpr const char* kCommuneA = "22333";  // Phường Bắc Nha Trang, province 56
constexpr const char* kCommuneB = "22366";  // Phường Nha Trang, province 56

class SecurityTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ =
        fs::temp_directory_path() / ("tuphap-sec-" + std::to_string(getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string Dir(const std::string& name) const { return (root_ / name).string(); }

  std::unique_ptr<Node> Open(const std::string& name) {
    auto n = Node::Open(Dir(name), TestOptions());
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return std::move(n).value();
  }
  std::unique_ptr<Node> Hub(const std::string& name = "hub") {
    InitParams p;
    p.role = Role::kHub;
    p.province = "56";
    EXPECT_TRUE(InitForTest(Dir(name), p).ok());
    return Open(name);
  }
  std::unique_ptr<Node> Commune(const std::string& name, const std::string& code) {
    InitParams p;
    p.commune = code;
    EXPECT_TRUE(InitForTest(Dir(name), p).ok());
    return Open(name);
  }
  static uint64_t Refused(Node& n, const std::string& reason) {
    for (const auto& r : *n.store().Refusals())
      if (r.reason == reason) return r.count;
    return 0;
  }
  static std::string Add(Node& n, const std::string& id, const std::string& scope = {},
                         const std::string& name = "An") {
    auto r = n.CreateRecord(id, "note", scope, {{"name", crdt::Value::String(name)}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  }
  static bool Has(Node& n, const std::string& id, const std::string& scope) {
    auto r = n.store().GetRecord(id, scope);
    return r.ok() && r->has_value();
  }
  // A node's own secrets, read from its key file as an attacker holding
  // the laptop and the passphrase would.
  NodeSecrets SecretsOf(const std::string& name) {
    auto s = ReadKeyFile(KeyFilePath(Dir(name)), TestPassphrase());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  fs::path root_;
};

// The data key of (scope, epoch) granted to node `n`, opened with its secrets.
replication::SecretBytes DataKey(Node& n, const NodeSecrets& s, const std::string& scope,
                                 uint32_t epoch) {
  for (const replication::KeyGrant* g : n.trust()->GrantsTo(n.box_key())) {
    if (g->scope != scope || g->epoch != epoch) continue;
    auto key = replication::OpenSealedBox(s.box, g->sealed);
    if (key.ok()) return std::move(*key);
  }
  return {};
}

// A crafted change of node `name` (its real key) for `scope`: what a thief
// holding the laptop and its passphrase can sign.
replication::Envelope Crafted(const NodeSecrets& secrets, const std::string& scope, uint64_t seq,
                              const replication::Hash& prev, const std::string& record_id,
                              const uint8_t* key, uint32_t epoch) {
  crdt::Change c;
  c.origin.bytes = secrets.sign.public_key();
  c.scope = scope;
  c.seq = seq;
  c.hlc = crdt::Hlc::FromParts(static_cast<uint64_t>(SystemClock().WallMillis()), 0);
  c.officer = "intruder";
  c.records = {crdt::RecordOps{record_id, {{"$type", crdt::Value::String("note"), {}}}}};
  replication::EnvelopeHeader h;
  h.origin = c.origin;
  h.scope = scope;
  h.seq = seq;
  h.prev = prev;
  h.hlc = c.hlc;
  return replication::SealBody(h, replication::EncodeChangeBody(c), key, epoch, secrets.sign);
}

replication::Envelope Reassemble(const replication::Envelope& e,
                                 const replication::EnvelopeHeader& header, std::string body,
                                 std::string signature) {
  auto parsed = replication::Envelope::Parse(
      replication::Envelope::Assemble(header, body, signature).bytes());
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  (void)e;
  return std::move(parsed).value();
}

TEST_F(SecurityTest, forged_signature_is_refused_and_counted) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  Enrol(*hub, *a);
  Add(*a, "R1");
  auto envs = Envelopes(*a, kCommuneA);
  ASSERT_EQ(envs.size(), 1u);
  std::string sig(envs[0].signature());
  sig[10] = static_cast<char>(sig[10] ^ 0x01);
  auto forged = Reassemble(envs[0], envs[0].header(), std::string(envs[0].body()), sig);
  auto report = Ingest(*hub, {forged});
  EXPECT_EQ(report.refused, 1u);
  EXPECT_EQ(Refused(*hub, "E_BAD_SIGNATURE"), 1u);
  EXPECT_FALSE(Has(*hub, "R1", kCommuneA));
  // The genuine envelope still goes in afterwards.
  EXPECT_EQ(Ingest(*hub, envs).appended, 1u);
  EXPECT_TRUE(Has(*hub, "R1", kCommuneA));
}

TEST_F(SecurityTest, header_tampered_is_refused) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  Enrol(*hub, *a);
  Add(*a, "R1");
  auto env = Envelopes(*a, kCommuneA).at(0);
  replication::EnvelopeHeader h = env.header();
  h.hlc = crdt::Hlc::FromParts(h.hlc.millis() - 1000, 0);  // backdated
  auto tampered = Reassemble(env, h, std::string(env.body()), std::string(env.signature()));
  EXPECT_EQ(Ingest(*hub, {tampered}).refused, 1u);
  EXPECT_EQ(Refused(*hub, "E_BAD_SIGNATURE"), 1u);
  EXPECT_FALSE(Has(*hub, "R1", kCommuneA));
}

TEST_F(SecurityTest, body_tampered_is_refused) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  Enrol(*hub, *a);
  Add(*a, "R1");
  auto env = Envelopes(*a, kCommuneA).at(0);
  std::string body(env.body());
  body[body.size() / 2] = static_cast<char>(body[body.size() / 2] ^ 0x20);
  auto tampered = Reassemble(env, env.header(), body, std::string(env.signature()));
  EXPECT_EQ(Ingest(*hub, {tampered}).refused, 1u);
  EXPECT_EQ(Refused(*hub, "E_BAD_SIGNATURE"), 1u);
  EXPECT_FALSE(Has(*hub, "R1", kCommuneA));
}

// A batch large enough that the hub opens its bodies on two threads before
// it appends them (Store::Batch::OpenAhead): a signed body sealed under a key that
// is not the commune's does not open there, and the store's own opening
// refuses it with its reason, whichever half it fell in; the others go in,
// those after it wait for the gap, and nothing of the bad one is kept.
TEST_F(SecurityTest, a_body_that_does_not_open_in_a_large_batch_is_refused_and_the_rest_kept) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  Enrol(*hub, *a);
  constexpr size_t kRecords = 2 * Store::kOpenAheadMin;
  for (size_t i = 1; i <= kRecords; ++i) Add(*a, "R" + std::to_string(i));
  std::vector<replication::Envelope> envs = Envelopes(*a, kCommuneA);
  ASSERT_EQ(envs.size(), kRecords);
  NodeSecrets secrets = SecretsOf("a");
  replication::SecretBytes wrong(32);
  replication::RandomBytes(wrong.data(), wrong.size());
  // One in each half of the batch; after the first, the rest wait for the gap.
  const size_t first = 20, second = kRecords - 20;
  std::vector<replication::Envelope> batch = envs;
  for (size_t bad : {first, second}) {
    batch[bad] = Crafted(secrets, kCommuneA, bad + 1, envs[bad - 1].hash(),
                         "BAD-" + std::to_string(bad), wrong.data(), 1);
  }
  const store::ApplyReport report = Ingest(*hub, batch);
  EXPECT_EQ(report.appended, first);
  EXPECT_EQ(report.refused, 2u);
  EXPECT_EQ(report.held, kRecords - first - 2);
  EXPECT_EQ(Refused(*hub, "E_DECRYPT"), 2u);
  EXPECT_TRUE(Has(*hub, "R" + std::to_string(first), kCommuneA));
  EXPECT_FALSE(Has(*hub, "R" + std::to_string(first + 1), kCommuneA));
  for (size_t bad : {first, second})
    EXPECT_FALSE(Has(*hub, "BAD-" + std::to_string(bad), kCommuneA));
  // The genuine envelopes fill the gaps and release the rest.
  const store::ApplyReport again = Ingest(*hub, envs);
  EXPECT_EQ(again.appended + again.released, kRecords - first);
  for (size_t i = 1; i <= kRecords; ++i) EXPECT_TRUE(Has(*hub, "R" + std::to_string(i), kCommuneA));
  for (size_t bad : {first, second})
    EXPECT_FALSE(Has(*hub, "BAD-" + std::to_string(bad), kCommuneA));
}

TEST_F(SecurityTest, signature_by_an_unknown_key_is_refused) {
  auto hub = Hub();
  // A node of the same commune enrolled by another root (a rogue hub).
  auto rogue_hub = Hub("rogue-hub");
  auto rogue = Commune("rogue", kCommuneA);
  Enrol(*rogue_hub, *rogue);
  Add(*rogue, "FAKE");
  auto report = Ingest(*hub, Envelopes(*rogue, kCommuneA));
  EXPECT_EQ(report.refused, 1u);
  EXPECT_EQ(Refused(*hub, "E_UNKNOWN_ORIGIN"), 1u);
  EXPECT_FALSE(Has(*hub, "FAKE", kCommuneA));
  // Its public feed (a certificate from the wrong root) is refused too.
  auto pub = Ingest(*hub, Envelopes(*rogue_hub, "P56"));
  EXPECT_EQ(pub.appended, 0u);
  EXPECT_FALSE(hub->trust()->CertFor(rogue->sign_key()));
}

TEST_F(SecurityTest, revoked_key_past_its_cut_is_refused_and_work_before_the_cut_kept) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  Enrol(*hub, *a);
  for (const char* id : {"R1", "R2", "R3"}) Add(*a, id);
  auto envs = Envelopes(*a, kCommuneA);
  ASSERT_EQ(envs.size(), 3u);
  // The hub has seq 1 when the laptop is reported lost; the officer says
  // seq 2 was made before the loss (offline work): cut at 2.
  EXPECT_EQ(Ingest(*hub, {envs[0]}).appended, 1u);
  auto revoked = hub->RevokeNode(NodeIdText(a->sign_key()), "laptop stolen", 2);
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(revoked->new_epoch, 2u);
  auto report = Ingest(*hub, {envs[1], envs[2]});
  EXPECT_EQ(report.appended, 1u);  // seq 2: before the cut, kept
  EXPECT_EQ(report.refused, 1u);   // seq 3: past it
  EXPECT_EQ(Refused(*hub, "E_REVOKED"), 1u);
  EXPECT_TRUE(Has(*hub, "R2", kCommuneA));
  EXPECT_FALSE(Has(*hub, "R3", kCommuneA));
  // The revocation reaches another node through the public feed, which then
  // refuses the same change.
  auto b = Commune("b", kCommuneB);
  Enrol(*hub, *b);
  Ingest(*b, Envelopes(*hub, "P56"));
  EXPECT_TRUE(b->trust()->IsRevoked(a->sign_key()));
  Ingest(*b, envs);
  EXPECT_EQ(Refused(*b, "E_REVOKED"), 1u);
}

TEST_F(SecurityTest, commune_writing_another_communes_scope_is_not_authorised) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  auto b = Commune("b", kCommuneB);
  Enrol(*hub, *a);
  Enrol(*hub, *b);
  // Node A, with its own valid key, signs a change into commune B's scope.
  NodeSecrets secrets = SecretsOf("a");
  auto env = Crafted(secrets, kCommuneB, 1, {}, "B-FAKE", nullptr, 0);
  auto report = Ingest(*hub, {env});
  EXPECT_EQ(report.refused, 1u);
  EXPECT_EQ(Refused(*hub, "E_NOT_AUTHORISED"), 1u);
  EXPECT_FALSE(Has(*hub, "B-FAKE", kCommuneB));
  // And the local API does not even write it.
  EXPECT_EQ(a->CreateRecord("X", "note", kCommuneB, {}).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(SecurityTest, replay_of_an_old_envelope_has_no_effect) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  Enrol(*hub, *a);
  Add(*a, "R1", {}, "An");
  auto old = Envelopes(*a, kCommuneA);
  ASSERT_TRUE(a->SetFields("R1", {{"name", crdt::Value::String("Anh")}}).ok());
  EXPECT_EQ(Ingest(*hub, Envelopes(*a, kCommuneA)).appended, 2u);
  auto before = hub->Digests(std::string_view(kCommuneA));
  auto replay = Ingest(*hub, old);
  EXPECT_EQ(replay.appended, 0u);
  EXPECT_EQ(replay.duplicates, 1u);
  EXPECT_EQ(hub->Digests(std::string_view(kCommuneA))->front().digest, before->front().digest);
  EXPECT_EQ(hub->GetRecord("R1")->state.Field("name")->Winner()->value, crdt::Value::String("Anh"));
}

TEST_F(SecurityTest, out_of_order_envelope_is_held_then_applied) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  Enrol(*hub, *a);
  for (const char* id : {"R1", "R2", "R3"}) Add(*a, id);
  auto envs = Envelopes(*a, kCommuneA);
  auto first = Ingest(*hub, {envs[2]});
  EXPECT_EQ(first.held, 1u);
  EXPECT_FALSE(Has(*hub, "R3", kCommuneA));
  EXPECT_EQ(*hub->store().HeldCount(), 1u);
  auto rest = Ingest(*hub, {envs[1], envs[0]});
  EXPECT_EQ(rest.refused, 0u);
  for (const char* id : {"R1", "R2", "R3"}) EXPECT_TRUE(Has(*hub, id, kCommuneA)) << id;
  EXPECT_EQ(*hub->store().HeldCount(), 0u);
}

TEST_F(SecurityTest, equivocation_is_detected_and_reported_on_both_forks) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  Enrol(*hub, *a);
  Add(*a, "R1");
  a.reset();
  // A backup of the laptop is restored elsewhere and both copies go on
  // writing with the same key: two different envelopes for seq 2.
  fs::copy(Dir("a"), Dir("a-restored"), fs::copy_options::recursive);
  auto fork1 = Open("a");
  auto fork2 = Open("a-restored");
  Add(*fork1, "FORK-1");
  Add(*fork2, "FORK-2");
  auto one = Envelopes(*fork1, kCommuneA);
  auto two = Envelopes(*fork2, kCommuneA);
  ASSERT_EQ(one.size(), 2u);
  ASSERT_NE(one[1].hash(), two[1].hash());
  // The hub gets fork 1 then fork 2; another node the other way round.
  auto b = Commune("b", kCommuneB);
  Enrol(*hub, *b);
  Ingest(*hub, one);
  auto at_hub = Ingest(*hub, two);
  EXPECT_EQ(at_hub.equivocations, 1u);
  Ingest(*b, two);
  EXPECT_EQ(Ingest(*b, one).equivocations, 1u);
  for (Node* n : {hub.get(), b.get()}) {
    auto s = n->Security();
    ASSERT_TRUE(s.ok());
    ASSERT_EQ(s->equivocations.size(), 1u);
    EXPECT_EQ(s->equivocations[0].seq, 2u);
    // Both envelopes are kept: a portable proof, each signed by the origin.
    auto ours = replication::Envelope::Parse(s->equivocations[0].ours);
    auto theirs = replication::Envelope::Parse(s->equivocations[0].theirs);
    ASSERT_TRUE(ours.ok() && theirs.ok());
    EXPECT_TRUE(replication::SignatureValid(*ours));
    EXPECT_TRUE(replication::SignatureValid(*theirs));
    EXPECT_NE(ours->hash(), theirs->hash());
    EXPECT_EQ(s->quarantined.size(), 1u);
  }
  // Nothing of the second fork is merged at the hub.
  EXPECT_TRUE(Has(*hub, "FORK-1", kCommuneA));
  EXPECT_FALSE(Has(*hub, "FORK-2", kCommuneA));
}

TEST_F(SecurityTest, relay_without_the_scope_key_stores_verifies_and_forwards_unread) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  auto b = Commune("b", kCommuneB);
  Enrol(*hub, *a);
  Enrol(*hub, *b);
  Add(*a, "R1", {}, "Nguyễn Thị Hồng");
  auto envs = Envelopes(*a, kCommuneA);
  // B relays A's changes: it checks and stores them but cannot read them.
  std::string sig(envs[0].signature());
  sig[0] = static_cast<char>(sig[0] ^ 0x80);
  auto forged = Reassemble(envs[0], envs[0].header(), std::string(envs[0].body()), sig);
  EXPECT_EQ(Ingest(*b, {forged}).refused, 1u);  // a relay verifies too
  auto relayed = Ingest(*b, envs);
  EXPECT_EQ(relayed.appended, 1u);
  EXPECT_EQ(relayed.materialised, 0u);
  EXPECT_FALSE(Has(*b, "R1", kCommuneA));
  auto stored = Envelopes(*b, kCommuneA);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].bytes(), envs[0].bytes());  // the exact bytes, still encrypted
  EXPECT_EQ(stored[0].body().find("Hồng"), std::string_view::npos);
  // The hub receives them from the relay and reads them.
  EXPECT_EQ(Ingest(*hub, stored).appended, 1u);
  EXPECT_EQ(hub->GetRecord("R1", kCommuneA)->state.Field("name")->Winner()->value,
            crdt::Value::String("Nguyễn Thị Hồng"));
}

TEST_F(SecurityTest, replacement_node_enrolled_later_reads_the_whole_history) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  Enrol(*hub, *a);
  Add(*a, "OLD-1");
  Add(*a, "OLD-2");
  Ingest(*hub, Envelopes(*a));
  // The laptop is lost: revoked, the commune key rotated; the hub records a
  // correction under the new epoch.
  ASSERT_TRUE(hub->RevokeNode(NodeIdText(a->sign_key()), "lost", std::nullopt).ok());
  ASSERT_TRUE(
      hub->SetFields("OLD-1", {{"name", crdt::Value::String("Bình")}}, "fix", kCommuneA).ok());
  auto replacement = Commune("a2", kCommuneA);
  Enrol(*hub, *replacement);
  EXPECT_EQ(replacement->Security()->key_epochs.at(kCommuneA), 2u);
  auto report = Ingest(*replacement, Envelopes(*hub));
  EXPECT_EQ(report.refused, 0u);
  EXPECT_TRUE(Has(*replacement, "OLD-2", kCommuneA));
  EXPECT_EQ(replacement->GetRecord("OLD-1")->state.Field("name")->Winner()->value,
            crdt::Value::String("Bình"));
  EXPECT_EQ(replacement->Digests(std::string_view(kCommuneA))->front().digest,
            hub->Digests(std::string_view(kCommuneA))->front().digest);
  // It writes under the new epoch; the revoked node holds only epoch 1.
  Add(*replacement, "NEW-1");
  auto head = replacement->store().Head({replacement->info().id, kCommuneA});
  ASSERT_TRUE(head.ok() && head->has_value());
  auto mine = replacement->store().GetEnvelope({replacement->info().id, kCommuneA}, (*head)->seq);
  EXPECT_EQ((*mine)->header().key_epoch, 2u);
}

TEST_F(SecurityTest, wrong_passphrase_fails_cleanly) {
  auto a = Commune("a", kCommuneA);
  Add(*a, "R1");  // a draft: no key needed before enrolment
  a.reset();
  const std::string key_file = KeyFilePath(Dir("a"));
  auto wrong = ReadKeyFile(key_file, replication::SecretBytes("not-the-passphrase", 18));
  EXPECT_EQ(wrong.status().reason(), "E_WRONG_PASSPHRASE");
  NodeOptions o;
  o.passphrase = [] {
    return Result<replication::SecretBytes>(replication::SecretBytes("not-the-passphrase", 18));
  };
  auto n = Node::Open(Dir("a"), o);
  ASSERT_TRUE(n.ok());
  auto request = (*n)->EnrollRequestFile("x");
  EXPECT_EQ(request.status().reason(), "E_WRONG_PASSPHRASE");
  EXPECT_TRUE(Has(**n, "R1", kCommuneA));  // nothing lost
  // No secret in clear in the directory.
  NodeSecrets s = SecretsOf("a");
  std::ifstream in(key_file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find(std::string(s.sign.secret().view().substr(0, 32))), std::string::npos);
}

TEST_F(SecurityTest, truncated_key_file_passphrase_check_fails_cleanly) {
  auto a = Commune("a", kCommuneA);
  a.reset();
  const std::string key_file = KeyFilePath(Dir("a"));
  const auto size = fs::file_size(key_file);
  for (uintmax_t keep : {uintmax_t{0}, uintmax_t{10}, size / 2, size - 1}) {
    fs::copy_file(key_file, key_file + ".bak", fs::copy_options::overwrite_existing);
    fs::resize_file(key_file, keep);
    auto r = ReadKeyFile(key_file, TestPassphrase());
    EXPECT_EQ(r.status().reason(), "E_KEYFILE_DAMAGED") << keep << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(key_file), std::string::npos);
    fs::rename(key_file + ".bak", key_file);
  }
  EXPECT_TRUE(ReadKeyFile(key_file, TestPassphrase()).ok());
}

TEST_F(SecurityTest, unenrolled_node_refuses_to_ingest_and_enrolment_file_is_checked_whole) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  auto b = Commune("b", kCommuneB);
  Enrol(*hub, *a);
  Add(*a, "R1");
  std::vector<Store::Incoming> batch{{Envelopes(*a).at(0), std::nullopt}};
  EXPECT_EQ(b->Ingest(batch).status().reason(), "E_NOT_ENROLLED");
  // An enrolment file with one altered byte is refused as a whole.
  auto request = b->EnrollRequestFile("b");
  auto file = hub->EnrollSign(*request, 30);
  ASSERT_TRUE(file.ok());
  std::string bad = file->file;
  bad[bad.size() - 5] = static_cast<char>(bad[bad.size() - 5] ^ 0x01);
  EXPECT_FALSE(b->EnrollAccept(bad).ok());
  EXPECT_FALSE(b->enrolled());
  EXPECT_TRUE(b->EnrollAccept(file->file).ok());
  EXPECT_TRUE(b->enrolled());
}

TEST_F(SecurityTest, commune_writing_the_public_scope_or_in_clear_is_not_authorised) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  Enrol(*hub, *a);
  NodeSecrets secrets = SecretsOf("a");
  // A forged "certificate" record in the public feed, signed by node A.
  auto pub = Crafted(secrets, "P56", 1, {}, "_cert-fake", nullptr, 0);
  EXPECT_EQ(Ingest(*hub, {pub}).refused, 1u);
  EXPECT_EQ(Refused(*hub, "E_NOT_AUTHORISED"), 1u);
  EXPECT_FALSE(Has(*hub, "_cert-fake", "P56"));
  // Its own commune's record in clear: personal data on relays and sticks.
  auto clear = Crafted(secrets, kCommuneA, 1, {}, "CLEAR", nullptr, 0);
  EXPECT_EQ(Ingest(*hub, {clear}).refused, 1u);
  EXPECT_EQ(Refused(*hub, "E_WRONG_ENCRYPTION"), 1u);
  EXPECT_FALSE(Has(*hub, "CLEAR", kCommuneA));
  // The local API does not amend a public trust record, even on the hub.
  auto cert_record = hub->store().RecordsWithPrefix("P56", "_cert-");
  ASSERT_TRUE(cert_record.ok());
  ASSERT_FALSE(cert_record->empty());
  EXPECT_EQ(hub->Revoke((*cert_record)[0].record_id, "no", "P56").code(),
            StatusCode::kPermissionDenied);
}

TEST_F(SecurityTest, held_envelopes_released_after_a_revocation_are_checked_again) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  auto b = Commune("b", kCommuneB);
  Enrol(*hub, *a);
  Enrol(*hub, *b);
  for (const char* id : {"R1", "R2", "R3", "R4"}) Add(*a, id);
  auto envs = Envelopes(*a, kCommuneA);
  // B receives seq 3-4 first and holds them (it lacks 2)...
  Ingest(*b, {envs[0], envs[2], envs[3]});
  EXPECT_EQ(*b->store().HeldCount(), 2u);
  // ...the hub, holding 1-2, revokes A; B learns it, then gets seq 2.
  Ingest(*hub, {envs[0], envs[1]});
  ASSERT_TRUE(hub->RevokeNode(NodeIdText(a->sign_key()), "stolen", std::nullopt).ok());
  Ingest(*b, Envelopes(*hub, "P56"));
  Ingest(*b, {envs[1]});
  auto head = b->store().Head({a->info().id, kCommuneA});
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->seq, 2u) << "seq 3 and 4 are past the cut: never appended";
  EXPECT_GE(Refused(*b, "E_REVOKED"), 1u);
}

TEST_F(SecurityTest, fork_below_a_revocation_cut_is_never_applied) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  auto b = Commune("b", kCommuneB);
  Enrol(*hub, *a);
  Enrol(*hub, *b);
  for (const char* id : {"R1", "R2", "R3"}) Add(*a, id);
  auto real = Envelopes(*a, kCommuneA);
  Ingest(*hub, real);
  ASSERT_TRUE(hub->RevokeNode(NodeIdText(a->sign_key()), "stolen", std::nullopt).ok());
  // The thief rewrites seq 2-3 from seq 1, which is all B has.
  Ingest(*b, {real[0]});
  Ingest(*b, Envelopes(*hub, "P56"));
  NodeSecrets secrets = SecretsOf("a");
  // The thief has the laptop's data key of epoch 1, from its key file.
  replication::SecretBytes key = DataKey(*a, secrets, kCommuneA, 1);
  ASSERT_EQ(key.size(), 32u);
  std::vector<replication::Envelope> forks;
  replication::Hash prev = real[0].hash();
  for (uint64_t seq : {2u, 3u}) {
    forks.push_back(
        Crafted(secrets, kCommuneA, seq, prev, "FORGED-" + std::to_string(seq), key.data(), 1));
    prev = forks.back().hash();
  }
  auto report = Ingest(*b, forks);
  EXPECT_EQ(report.appended, 0u);
  EXPECT_FALSE(Has(*b, "FORGED-2", kCommuneA));
  EXPECT_FALSE(Has(*b, "FORGED-3", kCommuneA));
  EXPECT_GE(Refused(*b, "E_REVOKED"), 1u);  // seq 3 is not the envelope the cut names
  // When the genuine seq 2 arrives, the held fork is the proof of an
  // equivocation by the stolen key; nothing of the fork was applied.
  Ingest(*b, real);
  auto s = b->Security();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->equivocations.size(), 1u);
  auto head = b->store().Head({a->info().id, kCommuneA});
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->seq, 1u);
  EXPECT_FALSE(Has(*b, "FORGED-2", kCommuneA));
}

TEST_F(SecurityTest, enrolment_from_another_root_or_province_is_refused) {
  auto hub = Hub();
  auto a = Commune("a", kCommuneA);
  Enrol(*hub, *a);
  // A second "hub" of the same province makes its own root: once a root
  // is pinned, its files are refused.
  auto other = Hub("other-hub");
  auto request = a->EnrollRequestFile("again");
  auto file = other->EnrollSign(*request, 30);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(a->EnrollAccept(file->file).status().reason(), "E_BAD_SIGNATURE");
  EXPECT_EQ(NodeIdText(a->trust()->root()), NodeIdText(hub->trust()->root()));
}

TEST_F(SecurityTest, hub_writing_another_provinces_commune_is_not_authorised) {
  auto hub = Hub();
  auto b = Commune("b", kCommuneB);
  Enrol(*hub, *b);
  // The hub of 56, with its real key, signs a record of Phường Ba Đình (Hà Nội).
  NodeSecrets secrets = SecretsOf("hub");
  replication::SecretBytes key(32);
  replication::RandomBytes(key.data(), key.size());
  auto env = Crafted(secrets, "00004", 1, {}, "HN-1", key.data(), 1);
  EXPECT_EQ(Ingest(*b, {env}).refused, 1u);
  EXPECT_EQ(Refused(*b, "E_NOT_AUTHORISED"), 1u);
  EXPECT_EQ(hub->CreateRecord("X", "note", "00004", {}).status().code(),
            StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace tuphap::node
