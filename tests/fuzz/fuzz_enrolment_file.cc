// Enrolment files (node/authority.cc, Node::EnrollAccept): the hub's answer
// to a request, which a commune node's operator carries back. The node
// under test was never enrolled and the seed file is the real one made for
// another node of its commune: every byte is decoded and every object
// checked against the file's root, and the node must still refuse it and
// stay unenrolled, with nothing kept (no root pinned). Never a crash.
#include <cstdlib>

#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/fuzz_world.h"

using namespace tuphap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::World& w = fuzz::TheWorld();
  auto accepted =
      w.stranger->EnrollAccept(std::string_view(reinterpret_cast<const char*>(data), size));
  FUZZ_FAIL_IF(accepted.ok() || w.stranger->enrolled());
  auto pinned = w.stranger->store().GetMeta("root_key");
  FUZZ_FAIL_IF(!pinned.ok() || pinned->has_value());  // kept something of a refused file
  return 0;
}

std::vector<std::string> FuzzSeeds() { return {fuzz::TheWorld().enrolment_file}; }
