// gtest main for rapidcheck properties: a larger default search than
// rapidcheck's (100 cases of size <= 100) unless RC_PARAMS says otherwise.
#include <gtest/gtest.h>

#include <cstdlib>

int main(int argc, char** argv) {
  setenv("RC_PARAMS", "max_success=300 max_size=150", /*overwrite=*/0);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
