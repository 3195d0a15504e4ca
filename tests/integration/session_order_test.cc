// The order of messages in a session, as docs/protocol.md states it: at a
// listener a HELLO always starts a new session on its connection and a
// QUERY is answered whether a session runs or not (it does not touch the
// session); an ANSWER inside a session ends it (E_PROTOCOL_ORDER); at a
// dialler a second HELLO from the listener ends the session
// (E_PROTOCOL_ORDER); and a side's DONE may come before its ACKs of the
// other side's batches. The listener is the real `tuphap serve` over real
// CURVE; the dialler cases drive two real nodes' sessions directly.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "node/sync.h"
#include "node/test_nodes.h"
#include "replication/msgpack.h"
#include "replication/protocol.h"
#include "tests/integration/sync_fixture.h"

namespace tuphap {
namespace {

using replication::Decode;
using replication::Encode;
using sync_testing::HubBoxKey;
using sync_testing::SyncTest;

// A raw CURVE client with an enrolled commune's keys that collects every
// frame the listener sends.
class Client {
 public:
  Client(const std::string& data_dir, const std::string& endpoint,
         const replication::PublicKey& server_box)
      : socket_(ctx_, zmq::socket_type::dealer) {
    auto secrets =
        node::ReadKeyFile(node::KeyFilePath(data_dir), sync_testing::Passphrase()).value();
    socket_.set(zmq::sockopt::curve_serverkey, zmq::const_buffer(server_box.data(), 32));
    socket_.set(zmq::sockopt::curve_publickey,
                zmq::const_buffer(secrets.box.public_key().data(), 32));
    socket_.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(secrets.box.secret().data(), 32));
    socket_.set(zmq::sockopt::linger, 0);
    sign_ = secrets.sign.public_key();
    socket_.connect(endpoint);
  }
  void Send(const replication::Message& m) {
    socket_.send(zmq::buffer(Encode(m)), zmq::send_flags::none);
  }
  // Every message until none has come for `quiet_ms` (at most 10 s).
  std::vector<replication::Message> Receive(int quiet_ms = 700) {
    std::vector<replication::Message> out;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < give_up) {
      std::vector<zmq::pollitem_t> items{{socket_.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, std::chrono::milliseconds(quiet_ms));
      zmq::message_t m;
      if (!(items[0].revents & ZMQ_POLLIN) || !socket_.recv(m)) break;
      auto msg = Decode(m.to_string_view());
      EXPECT_TRUE(msg.ok()) << msg.status().ToString();
      if (msg.ok()) out.push_back(std::move(*msg));
    }
    return out;
  }
  replication::Hello MyHello() const {
    replication::Hello h;
    h.node = sign_;
    h.role = "commune";
    return h;
  }

 private:
  zmq::context_t ctx_;
  zmq::socket_t socket_;
  replication::PublicKey sign_{};
};

template <class T>
size_t Count(const std::vector<replication::Message>& frames) {
  size_t n = 0;
  for (const auto& f : frames) n += std::holds_alternative<T>(f);
  return n;
}

class SessionOrderTest : public SyncTest {
 protected:
  void SetUp() override {
    SyncTest::SetUp();
    InitHub();
    EnrolledCommune("c", sync_testing::kCommunes[0]);
    StartHub();
  }
  Client Connect() { return Client(Dir("c"), endpoint_, HubBoxKey(Dir("hub"))); }
};

TEST_F(SessionOrderTest, a_second_hello_on_a_connection_starts_a_new_session_at_the_listener) {
  Client c = Connect();
  c.Send(c.MyHello());
  auto first = c.Receive();
  ASSERT_FALSE(first.empty());
  ASSERT_TRUE(std::holds_alternative<replication::Hello>(first[0]));
  const size_t batches = Count<replication::Batch>(first);
  ASSERT_GT(batches, 0u) << "the hub sends its public feed";
  // Nothing acknowledged: the new session sends it all again, from batch 1.
  c.Send(c.MyHello());
  auto second = c.Receive();
  ASSERT_FALSE(second.empty());
  EXPECT_TRUE(std::holds_alternative<replication::Hello>(second[0]));
  EXPECT_EQ(Count<replication::ErrorMessage>(second), 0u);
  EXPECT_EQ(Count<replication::Batch>(second), batches);
  ASSERT_TRUE(std::holds_alternative<replication::Batch>(second[1]));
  EXPECT_EQ(std::get<replication::Batch>(second[1]).batch_no, 1u);
}

TEST_F(SessionOrderTest, a_query_inside_a_session_is_answered_and_the_session_goes_on) {
  Client c = Connect();
  c.Send(c.MyHello());
  auto opened = c.Receive();
  std::vector<uint64_t> to_ack;
  for (const auto& f : opened) {
    if (auto* b = std::get_if<replication::Batch>(&f)) to_ack.push_back(b->batch_no);
  }
  ASSERT_FALSE(to_ack.empty());
  replication::MsgpackWriter body;
  body.ArrayHeader(3);
  body.Str("01JZSESSIONORDER0000000000");
  body.Str("");
  body.ArrayHeader(1);
  body.Str(sync_testing::kCommunes[0]);
  c.Send(replication::Query{7, "recon.roots", body.Take()});
  auto answered = c.Receive();
  ASSERT_EQ(answered.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<replication::Answer>(answered[0]));
  EXPECT_EQ(std::get<replication::Answer>(answered[0]).query_no, 7u);
  // The session is untouched: acknowledging its batches brings its DONE.
  for (uint64_t no : to_ack) c.Send(replication::Ack{no, 0, {}, ""});
  auto rest = c.Receive();
  EXPECT_EQ(Count<replication::ErrorMessage>(rest), 0u);
  EXPECT_EQ(Count<replication::Done>(rest), 1u);
}

TEST_F(SessionOrderTest, an_answer_inside_a_session_ends_it_with_protocol_order) {
  Client c = Connect();
  c.Send(c.MyHello());
  ASSERT_FALSE(c.Receive().empty());
  c.Send(replication::Answer{1, ""});
  auto reply = c.Receive();
  ASSERT_EQ(reply.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<replication::ErrorMessage>(reply[0]));
  EXPECT_EQ(std::get<replication::ErrorMessage>(reply[0]).code, "E_PROTOCOL_ORDER");
}

// --- sessions driven directly ------------------------------------------------

class DiallerOrderTest : public node::NodesTest {
 protected:
  void SetUp() override {
    NodesTest::SetUp();
    hub_ = Make("hub", node::Role::kHub);
    commune_ = Make("commune");
    node::Enrol(*hub_, *commune_);
    // The commune holds all the hub offers it, and has one change of its own.
    node::Ingest(*commune_, node::Envelopes(*hub_));
    ASSERT_TRUE(commune_->CreateRecord("r1", "note", "", {}).ok());
  }
  std::unique_ptr<node::Node> hub_, commune_;
};

TEST_F(DiallerOrderTest, a_second_hello_from_the_listener_ends_the_dialler_session) {
  node::SyncSession dialler(*commune_, node::SyncSession::Side::kDialer, hub_->box_key());
  node::SyncSession listener(*hub_, node::SyncSession::Side::kListener, commune_->box_key());
  std::vector<std::string> to_hub, to_commune;
  ASSERT_TRUE(listener.OnFrame(*dialler.Start(), &to_commune).ok());
  ASSERT_TRUE(std::holds_alternative<replication::Hello>(*Decode(to_commune[0])));
  ASSERT_TRUE(dialler.OnFrame(to_commune[0], &to_hub).ok());
  const Status s = dialler.OnFrame(to_commune[0], &to_hub);
  EXPECT_EQ(s.reason(), "E_PROTOCOL_ORDER");
  auto last = Decode(to_hub.back());
  ASSERT_TRUE(last.ok() && std::holds_alternative<replication::ErrorMessage>(*last));
  EXPECT_EQ(std::get<replication::ErrorMessage>(*last).code, "E_PROTOCOL_ORDER");
}

TEST_F(DiallerOrderTest, done_may_come_before_the_acks_of_the_other_sides_batches) {
  node::SyncSession dialler(*commune_, node::SyncSession::Side::kDialer, hub_->box_key());
  node::SyncSession listener(*hub_, node::SyncSession::Side::kListener, commune_->box_key());
  std::vector<std::string> to_hub, to_commune;
  ASSERT_TRUE(listener.OnFrame(*dialler.Start(), &to_commune).ok());
  // The hub has nothing the commune lacks: HELLO, then DONE at once —
  // before it has even seen the commune's batch, let alone acknowledged it.
  ASSERT_EQ(to_commune.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<replication::Hello>(*Decode(to_commune[0])));
  EXPECT_TRUE(std::holds_alternative<replication::Done>(*Decode(to_commune[1])));
  for (const auto& f : to_commune) ASSERT_TRUE(dialler.OnFrame(f, &to_hub).ok());
  EXPECT_FALSE(dialler.caught_up()) << "its own batch is not acknowledged yet";
  ASSERT_EQ(to_hub.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<replication::Batch>(*Decode(to_hub[0])));
  to_commune.clear();
  ASSERT_TRUE(listener.OnFrame(to_hub[0], &to_commune).ok());
  ASSERT_EQ(to_commune.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<replication::Ack>(*Decode(to_commune[0])));
  to_hub.clear();
  ASSERT_TRUE(dialler.OnFrame(to_commune[0], &to_hub).ok());
  EXPECT_TRUE(dialler.caught_up());
  ASSERT_EQ(to_hub.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<replication::Done>(*Decode(to_hub[0])));
}

}  // namespace
}  // namespace tuphap
