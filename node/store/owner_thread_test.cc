// A Store is used from the thread that opened it only (store.h): debug
// builds check it at every public call.
#include <gtest/gtest.h>

#include <thread>

#include "node/store/store.h"

namespace tuphap::store {
namespace {

TEST(StoreOwnerThreadTest, ACallFromTheOpeningThreadIsFine) {
  auto store = Store::Open(":memory:", Database::OpenMode::kCreate);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*store)->Heads().ok());
}

// The check is compiled into debug builds only (the sanitizer suite runs
// them); a release build has no such test rather than a skipped one.
#ifndef NDEBUG
TEST(StoreOwnerThreadTest, ACallFromASecondThreadAbortsInDebugBuilds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto store = Store::Open(":memory:", Database::OpenMode::kCreate);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Store& s = **store;
  EXPECT_DEATH(
      {
        std::thread other([&s] { (void)s.Heads(); });
        other.join();
      },
      "thread that opened it");
}
#endif

}  // namespace
}  // namespace tuphap::store
