// Bundle export: streamed to disk, within the bound the importer enforces.
#include "node/bundle.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "node/test_nodes.h"

namespace tuphap::node {
namespace {

class BundleTest : public NodesTest {
 protected:
  // The names in the test's directory that are not data directories.
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(root_))
      if (!e.is_directory()) out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }
};

// The exporter built the whole bundle in memory and never checked the
// 1 GiB its importer enforces: a bundle nobody could import was written.
TEST_F(BundleTest, AnExportOverTheBoundIsRefusedAndLeavesNoFile) {
  auto hub = Make("hub", Role::kHub);
  auto a = Make("a");
  Enrol(*hub, *a);
  // Enough records for several chunks' worth of bytes.
  const std::string text(2000, 'x');
  for (int i = 0; i < 300; ++i) {
    auto id = a->CreateRecord("R" + std::to_string(i), "note", kCommune,
                              {{"data.text", crdt::Value::String(text)}});
    ASSERT_TRUE(id.ok()) << id.status().ToString();
  }
  const std::string peer = NodeIdText(hub->sign_key());
  const std::string path = Dir("out.tpb");
  auto whole = ExportBundle(*a, peer, /*all=*/true, path);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_GE(whole->envelopes, 300u);
  EXPECT_EQ(whole->bytes, std::filesystem::file_size(path));
  EXPECT_EQ(Files(), std::vector<std::string>{"out.tpb"});
  std::filesystem::remove(path);

  // The same export under a bound below its size: refused, nothing left.
  auto refused = ExportBundle(*a, peer, true, path, whole->bytes - 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().reason(), "E_BUNDLE_TOO_LARGE");
  EXPECT_NE(refused.status().message().find(std::to_string(whole->bytes - 1) + " bytes"),
            std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(Files().empty());
  // A bound the export just fits is enough, and what it wrote imports whole.
  auto fits = ExportBundle(*a, peer, true, path, whole->bytes);
  ASSERT_TRUE(fits.ok()) << fits.status().ToString();
  auto imported = ImportBundle(*hub, path);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->envelopes, fits->envelopes);
  EXPECT_EQ(imported->report.refused, 0u);
  EXPECT_TRUE(hub->GetRecord("R299", kCommune).ok());
}

}  // namespace
}  // namespace tuphap::node
