// The queues between the listener's network thread and its worker
// (handoff.h): real ZeroMQ messages, real eventfds.
#include "node/transport/handoff.h"

#include <gtest/gtest.h>
#include <poll.h>

#include "replication/protocol.h"

namespace tuphap::node::transport {
namespace {

zmq::message_t Hello() {
  replication::Hello h;
  h.role = "commune";
  return zmq::message_t(replication::Encode(h));
}

zmq::message_t Batch(uint64_t no) {
  return zmq::message_t(replication::Encode(replication::Batch{no, {}}));
}

uint64_t BatchNo(const zmq::message_t& m) {
  auto msg = replication::Decode(m.to_string_view());
  return msg.ok() ? std::get<replication::Batch>(*msg).batch_no : 0;
}

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

TEST(HandoffTest, a_connections_frames_stay_in_order_and_a_frame_that_is_not_a_batch_goes_first) {
  Handoff h;
  h.PushFrame("a", Batch(1));
  h.PushFrame("a", Batch(2));
  h.PushFrame("b", Batch(7));
  h.PushFrame("c", Hello());
  EXPECT_TRUE(Readable(h.worker_fd()));
  Handoff::Work w = h.Take();
  ASSERT_EQ(w.kind, Handoff::Work::Kind::kFrame);
  EXPECT_EQ(w.rid, "c");  // the HELLO does not wait for the batches before it
  w = h.Take();
  EXPECT_EQ(w.rid, "a");
  EXPECT_EQ(BatchNo(w.frame), 1u);
  w = h.Take();
  EXPECT_EQ(w.rid, "b");  // connections in turn
  w = h.Take();
  EXPECT_EQ(w.rid, "a");
  EXPECT_EQ(BatchNo(w.frame), 2u);
  EXPECT_EQ(h.Take().kind, Handoff::Work::Kind::kNone);
  h.ClearWorkerWake();
  EXPECT_FALSE(Readable(h.worker_fd()));
}

TEST(HandoffTest, a_frame_counts_against_its_connection_until_the_worker_is_done_with_it) {
  Handoff h;
  EXPECT_EQ(h.PushFrame("a", Batch(1)).frames, 1u);
  const Handoff::Pending p = h.PushFrame("a", Batch(2));
  EXPECT_EQ(p.frames, 2u);
  Handoff::Work w = h.Take();
  const size_t bytes = w.frame.size();
  // Taken but not handled yet: still counted.
  EXPECT_EQ(h.PushFrame("a", Batch(3)).frames, 3u);
  h.Done("a", bytes);
  EXPECT_EQ(h.PushFrame("a", Batch(4)).frames, 3u);
  EXPECT_EQ(h.PushFrame("b", Batch(1)).frames, 1u);  // per connection
}

TEST(HandoffTest, a_closed_connections_frames_are_dropped_unread_and_a_lost_ones_are_kept) {
  Handoff h;
  h.PushFrame("a", Batch(1));
  h.PushFrame("a", Batch(2));
  h.PushFrame("b", Batch(1));
  h.PushFrame("b", Batch(2));
  h.PushClosed("a", "flooding");
  h.PushGone("b");
  Handoff::Work w = h.Take();
  ASSERT_EQ(w.kind, Handoff::Work::Kind::kClosed);
  EXPECT_EQ(w.rid, "a");
  EXPECT_EQ(w.why, "flooding");
  w = h.Take();
  ASSERT_EQ(w.kind, Handoff::Work::Kind::kGone);
  EXPECT_EQ(w.rid, "b");
  // The lost connection's whole frames are still there for the worker.
  auto f = h.TakeFrameOf("b");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(BatchNo(*f), 1u);
  f = h.TakeFrameOf("b");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(BatchNo(*f), 2u);
  EXPECT_FALSE(h.TakeFrameOf("b").has_value());
  EXPECT_FALSE(h.TakeFrameOf("a").has_value());  // dropped
  EXPECT_EQ(h.Take().kind, Handoff::Work::Kind::kNone);
  EXPECT_EQ(h.PushFrame("a", Batch(3)).frames, 1u);  // nothing of it counted
}

TEST(HandoffTest, a_lost_connections_end_waits_for_a_frame_that_is_not_a_batch) {
  Handoff h;
  h.PushFrame("a", Batch(1));
  h.PushGone("x");
  h.PushFrame("c", Hello());
  EXPECT_EQ(h.Take().rid, "c");
  EXPECT_EQ(h.Take().kind, Handoff::Work::Kind::kGone);
  EXPECT_EQ(h.Take().rid, "a");
}

zmq::message_t Ack(uint64_t no) {
  replication::Ack a;
  a.batch_no = no;
  return zmq::message_t(replication::Encode(a));
}

TEST(HandoffTest,
     a_held_connection_keeps_its_frames_and_a_worker_in_a_batch_takes_only_light_work) {
  Handoff h;
  h.PushFrame("a", Batch(1));
  h.PushFrame("a", Hello());  // after a's batch: stays behind it
  h.PushFrame("b", Batch(5));
  Handoff::Work w = h.Take();
  ASSERT_EQ(w.rid, "a");
  EXPECT_EQ(BatchNo(w.frame), 1u);
  h.Hold("a", true);  // a's batch is in hand
  // a's HELLO is neither taken nor urgent; b's batch is not light work.
  EXPECT_FALSE(h.has_urgent());
  EXPECT_EQ(h.Take(/*light_only=*/true).kind, Handoff::Work::Kind::kNone);
  h.PushGone("x");  // a lost connection's end is not light work
  EXPECT_EQ(h.Take(/*light_only=*/true).kind, Handoff::Work::Kind::kNone);
  // Light work that is not urgent: an ACK, a connection closed.
  h.PushFrame("e", Ack(3));
  h.PushClosed("d", "flooding");
  EXPECT_FALSE(h.has_urgent());
  EXPECT_EQ(h.Take(true).kind, Handoff::Work::Kind::kClosed);
  w = h.Take(true);
  EXPECT_EQ(w.rid, "e");
  // Urgent: another connection's HELLO, a handshake waiting for trust.
  h.PushFrame("c", Hello());
  EXPECT_TRUE(h.has_urgent());
  w = h.Take(/*light_only=*/true);
  EXPECT_EQ(w.rid, "c");
  EXPECT_FALSE(h.has_urgent());
  h.AskTrust();
  EXPECT_TRUE(h.has_urgent());
  EXPECT_EQ(h.Take(true).kind, Handoff::Work::Kind::kTrust);
  EXPECT_FALSE(h.has_urgent());
  EXPECT_EQ(h.Take(true).kind, Handoff::Work::Kind::kNone);
  // Without light_only, a held connection still waits: the lost one's
  // end, b's batch, then nothing until a is released.
  w = h.Take();
  EXPECT_EQ(w.kind, Handoff::Work::Kind::kGone);
  w = h.Take();
  EXPECT_EQ(w.rid, "b");
  EXPECT_EQ(h.Take().kind, Handoff::Work::Kind::kNone);
  h.Hold("a", false);
  EXPECT_TRUE(h.has_urgent());
  w = h.Take();
  EXPECT_EQ(w.rid, "a");
  EXPECT_EQ(replication::PeekType(w.frame.to_string_view()),
            static_cast<uint64_t>(replication::MessageType::kHello));
}

TEST(HandoffTest, asks_for_trust_wait_as_one_until_taken_and_output_goes_out_in_order) {
  Handoff h;
  h.AskTrust();
  h.AskTrust();
  EXPECT_EQ(h.Take().kind, Handoff::Work::Kind::kTrust);
  EXPECT_EQ(h.Take().kind, Handoff::Work::Kind::kNone);
  h.AskTrust();
  EXPECT_EQ(h.Take().kind, Handoff::Work::Kind::kTrust);

  EXPECT_FALSE(Readable(h.network_fd()));
  std::vector<std::string> frames{"one", "two"};
  h.Send("a", frames);
  EXPECT_TRUE(frames.empty());
  auto trust = std::make_shared<TrustCache>();
  trust->stamp = "s";
  h.PublishTrust(trust);
  EXPECT_TRUE(Readable(h.network_fd()));
  std::vector<Handoff::Out> out = h.TakeOut();
  EXPECT_FALSE(Readable(h.network_fd()));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].rid, "a");
  EXPECT_EQ(out[0].frames, (std::vector<std::string>{"one", "two"}));
  ASSERT_NE(out[1].trust, nullptr);
  EXPECT_EQ(out[1].trust->stamp, "s");
}

}  // namespace
}  // namespace tuphap::node::transport
