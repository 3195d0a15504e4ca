#include "tests/bench/nodes.h"

#include <cstdio>
#include <cstdlib>

#include "node/test_keys.h"

namespace tuphap::bench {

NodePair HubAndCommune(const ScratchDir& dir) {
  auto die = [](const char* what, const Status& s) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  };
  node::InitParams hp;
  hp.role = node::Role::kHub;
  hp.province = "56";
  node::InitParams cp;
  cp.commune = "22333";
  const std::string hub_dir = dir.File("hub"), commune_dir = dir.File("commune");
  if (Status s = node::InitForTest(hub_dir, hp); !s.ok()) die("init hub", s);
  if (Status s = node::InitForTest(commune_dir, cp); !s.ok()) die("init commune", s);
  auto hub = node::Node::Open(hub_dir, node::TestOptions());
  if (!hub.ok()) die("open hub", hub.status());
  auto commune = node::Node::Open(commune_dir, node::TestOptions());
  if (!commune.ok()) die("open commune", commune.status());
  auto req = (*commune)->EnrollRequestFile("bench");
  if (!req.ok()) die("enroll request", req.status());
  auto file = (*hub)->EnrollSign(*req, 365);
  if (!file.ok()) die("enroll sign", file.status());
  if (auto a = (*commune)->EnrollAccept(file->file); !a.ok()) die("enroll accept", a.status());
  return NodePair{std::move(*hub), std::move(*commune)};
}

}  // namespace tuphap::bench
