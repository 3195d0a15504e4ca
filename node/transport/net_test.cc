// The listener's bookkeeping of connections by descriptor (Descriptors,
// net.h) through the orders in which ZeroMQ's monitor events and frames
// can be read when a descriptor's number is reused.
#include <gtest/gtest.h>

#include "node/transport/net.h"

namespace tuphap::node::transport {
namespace {

std::string RidOf(Descriptors& d, int fd) {
  Descriptors::Conn* c = d.Find(fd);
  return c == nullptr ? "<none>" : c->rid;
}

TEST(DescriptorsTest, AFirstFrameBindsItsRouteToItsDescriptor) {
  Descriptors d;
  d.Accepted(5, 100, 0);
  EXPECT_EQ(RidOf(d, 5), "");
  d.FirstFrame(5, 100, "r1");
  EXPECT_EQ(RidOf(d, 5), "r1");
  d.FirstFrame(5, 100, "r2");  // one socket, one route
  EXPECT_EQ(RidOf(d, 5), "r1");
  EXPECT_EQ(d.unbound(), 0u);
}

// A connection is lost; while its DISCONNECTED is handled (its last
// frames drained), a new connection on the same descriptor number sends its
// first frame, and its ACCEPTED is read after: the new route belongs to the
// new entry, so the new connection's own loss is reported later.
TEST(DescriptorsTest, AFirstFrameDrainedWhileTheOldConnectionIsLostBindsAtItsAccept) {
  Descriptors d;
  d.Accepted(5, 100, 0);
  d.FirstFrame(5, 100, "old");
  d.FirstFrame(5, 200, "new");  // socket 200 reuses descriptor 5
  EXPECT_EQ(RidOf(d, 5), "old");
  d.Erase(5);  // the DISCONNECTED of "old"
  d.Accepted(5, 200, 1);
  EXPECT_EQ(RidOf(d, 5), "new");
  EXPECT_EQ(d.unbound(), 0u);
}

// A connection that never spoke closes and a new one on its descriptor
// sends its first frame before either event is read: the frame must not
// take the closed connection's entry (whose DISCONNECTED would then end
// the live session).
TEST(DescriptorsTest, AFirstFrameDoesNotTakeTheEntryOfAClosedSocket) {
  Descriptors d;
  d.Accepted(5, 100, 0);
  d.FirstFrame(5, 200, "new");
  EXPECT_EQ(RidOf(d, 5), "") << "bound to the closed socket's entry";
  d.Erase(5);  // the DISCONNECTED of the silent one: nothing to report
  d.Accepted(5, 200, 1);
  EXPECT_EQ(RidOf(d, 5), "new");
}

// A first frame from a socket already closed when it was read is not
// bound to a later socket on the same number; a forgotten route is not
// bound at all.
TEST(DescriptorsTest, ARouteIsBoundOnlyToTheSocketItCameFrom) {
  Descriptors d;
  d.FirstFrame(7, 300, "gone-before-accept");
  d.Accepted(7, 301, 0);  // another socket got the number
  EXPECT_EQ(RidOf(d, 7), "");
  d.FirstFrame(7, 301, "live");
  EXPECT_EQ(RidOf(d, 7), "live");

  d.FirstFrame(9, 400, "closed-here");
  d.RouteGone("closed-here");
  EXPECT_EQ(d.unbound(), 0u);
  d.Accepted(9, 400, 0);
  EXPECT_EQ(RidOf(d, 9), "");
}

}  // namespace
}  // namespace tuphap::node::transport
