// Every refused envelope is counted by reason where the operator looks
// (`tuphap status`: Node::Security; `tuphap report status`:
// report::StatusOf) and in the ACK the sender reads: envelopes of a
// quarantined origin, and envelopes that do not even parse, in a BATCH or
// in a bundle.
#include <gtest/gtest.h>
#include <sodium.h>

#include <filesystem>

#include "base/file_io.h"
#include "node/bundle.h"
#include "node/report/reports.h"
#include "node/sync.h"
#include "node/test_nodes.h"
#include "replication/msgpack.h"

namespace tuphap::node {
namespace {

class RefusalsTest : public NodesTest {
 protected:
  // Delivers frames both ways, starting with the dialler's HELLO, until
  // neither side has more to say. Returns the ACKs the listener sent.
  static std::vector<replication::Ack> Run(SyncSession& dialer, SyncSession& listener) {
    std::vector<replication::Ack> acks;
    auto hello = dialer.Start();
    EXPECT_TRUE(hello.ok()) << hello.status().ToString();
    std::vector<std::string> to_listener{*hello}, to_dialer;
    for (int round = 0; round < 100 && !(to_listener.empty() && to_dialer.empty()); ++round) {
      std::vector<std::string> next_listener, next_dialer;
      for (const auto& f : to_listener) {
        Status s = listener.OnFrame(f, &next_dialer);
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
      for (const auto& f : to_dialer) {
        Status s = dialer.OnFrame(f, &next_listener);
        EXPECT_TRUE(s.ok()) << s.ToString();
        auto m = replication::Decode(f);
        if (m.ok() && std::holds_alternative<replication::Ack>(*m))
          acks.push_back(std::get<replication::Ack>(*m));
      }
      to_listener = std::move(next_listener);
      to_dialer = std::move(next_dialer);
    }
    return acks;
  }
  static uint64_t RefusedIn(const std::vector<replication::Ack>& acks) {
    uint64_t n = 0;
    for (const auto& a : acks) n += a.refused;
    return n;
  }
  // What `tuphap status` and `tuphap report status` list for `reason`.
  static std::pair<uint64_t, uint64_t> Shown(Node& n, const std::string& reason) {
    auto security = n.Security();
    EXPECT_TRUE(security.ok()) << security.status().ToString();
    auto report = report::StatusOf(n);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return {security.ok() ? Refused(security->refusals, reason) : 0,
            report.ok() ? Refused(report->refusals, reason) : 0};
  }
  static bool Has(Node& n, const std::string& id) {
    auto r = n.store().GetRecord(id, kCommune);
    return r.ok() && r->has_value();
  }
};

TEST_F(RefusalsTest, AQuarantinedOriginsEnvelopesAreRefusedInTheAckAndShownInStatus) {
  auto hub = Make("hub", Role::kHub);
  auto a = Make("a");
  Enrol(*hub, *a);
  ASSERT_TRUE(a->CreateRecord("R1", "note", "", {}).ok());
  a.reset();
  // A restored backup writes on with the same key: two seq 2.
  std::filesystem::copy(Dir("a"), Dir("a-restored"), std::filesystem::copy_options::recursive);
  auto fork1 = Open("a");
  auto fork2 = Open("a-restored");
  ASSERT_TRUE(fork1->CreateRecord("FORK-1", "note", "", {}).ok());
  ASSERT_TRUE(fork2->CreateRecord("FORK-2", "note", "", {}).ok());
  Ingest(*hub, Envelopes(*fork1, kCommune));
  ASSERT_EQ(Ingest(*hub, Envelopes(*fork2, kCommune)).equivocations, 1u);
  ASSERT_EQ(hub->Security()->quarantined.size(), 1u);
  // The first copy goes on and syncs: its new change is refused, and says so.
  ASSERT_TRUE(fork1->CreateRecord("LATER", "note", "", {}).ok());
  SyncSession dialer(*fork1, SyncSession::Side::kDialer, hub->box_key());
  SyncSession listener(*hub, SyncSession::Side::kListener, fork1->box_key());
  const auto acks = Run(dialer, listener);
  EXPECT_GT(RefusedIn(acks), 0u);
  EXPECT_GT(listener.stats().quarantined, 0u);
  EXPECT_EQ(listener.stats().refused_here, RefusedIn(acks));
  EXPECT_EQ(dialer.stats().refused_by_peer, RefusedIn(acks));
  EXPECT_FALSE(Has(*hub, "LATER"));
  const auto [status, report] = Shown(*hub, "E_QUARANTINED");
  EXPECT_EQ(status, listener.stats().quarantined);
  EXPECT_EQ(report, listener.stats().quarantined);
}

TEST_F(RefusalsTest, MalformedEnvelopesInABatchAreRefusedInTheAckAndShownInStatus) {
  auto hub = Make("hub", Role::kHub);
  auto a = Make("a");
  Enrol(*hub, *a);
  ASSERT_TRUE(a->CreateRecord("R1", "note", "", {}).ok());
  ASSERT_TRUE(a->CreateRecord("R2", "note", "", {}).ok());
  SyncSession dialer(*a, SyncSession::Side::kDialer, hub->box_key());
  SyncSession listener(*hub, SyncSession::Side::kListener, a->box_key());
  EXPECT_EQ(RefusedIn(Run(dialer, listener)), 0u);
  ASSERT_TRUE(Has(*hub, "R1"));
  // A batch of two envelopes that do not parse and one already held.
  replication::Batch batch;
  batch.batch_no = 1000;
  batch.envelopes = {"not an envelope", std::string(3, '\x93'),
                     Envelopes(*a, kCommune).front().bytes()};
  std::vector<std::string> out;
  Status s = listener.OnFrame(replication::Encode(batch), &out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::optional<replication::Ack> ack;
  for (const auto& f : out) {
    auto m = replication::Decode(f);
    if (m.ok() && std::holds_alternative<replication::Ack>(*m))
      ack = std::get<replication::Ack>(*m);
  }
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->batch_no, 1000u);
  EXPECT_EQ(ack->refused, 2u);
  EXPECT_EQ(Shown(*hub, "E_MALFORMED"), std::make_pair(uint64_t{2}, uint64_t{2}));
  auto refusals = hub->store().Refusals();
  ASSERT_TRUE(refusals.ok());
  for (const auto& r : *refusals) {
    if (r.reason == "E_MALFORMED") {
      EXPECT_EQ(r.last_origin, crdt::ReplicaId{});  // no origin to name
    }
  }
}

// A bundle from `from` to `to` whose one chunk holds `envelopes` as given:
// ExportBundle writes only envelopes that parse, a hostile sender need not.
std::string CraftBundle(Node& from, Node& to, const std::vector<std::string>& envelopes) {
  auto secrets = from.UnlockedSecrets();
  EXPECT_TRUE(secrets.ok());
  uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
  crypto_secretstream_xchacha20poly1305_keygen(key);
  crypto_secretstream_xchacha20poly1305_state st;
  uint8_t stream_header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  crypto_secretstream_xchacha20poly1305_init_push(&st, stream_header, key);
  auto bytes = [](const uint8_t* p, size_t n) {
    return std::string_view(reinterpret_cast<const char*>(p), n);
  };
  replication::MsgpackWriter hw;
  hw.ArrayHeader(6);
  hw.Str("tuphap-bundle");
  hw.Uint(1);
  hw.Bin(from.sign_key());
  hw.Bin(to.box_key());
  hw.Bin(replication::SealTo(to.box_key(), bytes(key, sizeof key)));
  hw.Bin(bytes(stream_header, sizeof stream_header));
  const std::string header = hw.Take();
  const replication::Signature sig = (*secrets)->sign.Sign("tuphap/bundle/v1", header);
  replication::MsgpackWriter cw;
  cw.ArrayHeader(static_cast<uint32_t>(envelopes.size()));
  for (const auto& e : envelopes) cw.Bin(e);
  const std::string plain = cw.Take();
  std::string chunk(plain.size() + crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
  unsigned long long chunk_len = 0;
  crypto_secretstream_xchacha20poly1305_push(
      &st, reinterpret_cast<unsigned char*>(chunk.data()), &chunk_len,
      reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
      reinterpret_cast<const unsigned char*>(header.data()), header.size(),
      crypto_secretstream_xchacha20poly1305_TAG_FINAL);
  chunk.resize(chunk_len);
  std::string file;
  for (std::string_view frame :
       {std::string_view(header), bytes(sig.data(), sig.size()), std::string_view(chunk)}) {
    for (int i = 3; i >= 0; --i)
      file.push_back(static_cast<char>((frame.size() >> (8 * i)) & 0xff));
    file += frame;
  }
  return file;
}

TEST_F(RefusalsTest, MalformedEnvelopesInABundleAreRefusedAndShownInStatus) {
  auto hub = Make("hub", Role::kHub);
  auto a = Make("a");
  Enrol(*hub, *a);
  ASSERT_TRUE(hub->CreateRecord("H1", "note", kCommune, {}).ok());
  const std::string path = Dir("crafted.tpb");
  ASSERT_TRUE(WriteFileAtomic(
                  path, CraftBundle(*hub, *a, {"junk", Envelopes(*hub, kCommune).front().bytes()}))
                  .ok());
  auto imported = ImportBundle(*a, path);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->envelopes, 2u);
  EXPECT_EQ(imported->report.appended, 1u);
  EXPECT_EQ(imported->report.refused, 1u);
  EXPECT_EQ(imported->report.refusals.at("E_MALFORMED"), 1u);
  EXPECT_TRUE(Has(*a, "H1"));
  EXPECT_EQ(Shown(*a, "E_MALFORMED"), std::make_pair(uint64_t{1}, uint64_t{1}));
}

}  // namespace
}  // namespace tuphap::node
