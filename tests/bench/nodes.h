// A hub of province 56 and one enrolled commune node (22333), made with the
// test keys in a scratch folder, for the benchmarks that need real nodes.
#pragma once

#include <memory>

#include "node/node.h"
#include "tests/bench/bench_util.h"

namespace tuphap::bench {

struct NodePair {
  std::unique_ptr<node::Node> hub;
  std::unique_ptr<node::Node> commune;
};

// Exits the program on failure.
NodePair HubAndCommune(const ScratchDir& dir);

}  // namespace tuphap::bench
