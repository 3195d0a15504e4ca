// What signing, encrypting and the ingest checks cost (issue 4).
//
//   security_bench [--changes N]   (default 100,000)
//
// 1. A commune node, enrolled, writes N changes (one small record each)
//    through the local API in transactions of 1,000: each change is
//    encoded, encrypted (XChaCha20-Poly1305), signed (Ed25519) and stored.
// 2. The hub ingests them in batches of 1,000 envelopes through every
//    check (certificate, signature by runs, chain, authorisation,
//    decryption) and materialises them.
// 3. Bare Ed25519 verification of N digests, the cost a per-change check
//    would pay; the ratio says how much the run verification saves.
#include <sodium.h>

#include <cstdio>
#include <string>

#include "node/node.h"
#include "replication/crypto.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/nodes.h"

using namespace tuphap;

int main(int argc, char** argv) {
  size_t n = 100000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--changes") n = std::stoul(argv[i + 1]);
  }
  if (sodium_init() < 0) return 1;
  bench::ScratchDir dir("security-bench");
  bench::NodePair nodes = bench::HubAndCommune(dir);
  auto* hub = &nodes.hub;
  auto* commune = &nodes.commune;

  // 1. Write.
  const size_t txn = 1000;
  bench::Stopwatch write;
  for (size_t done = 0; done < n;) {
    auto session = (*commune)->BeginSession();
    if (!session.ok()) return 1;
    for (size_t k = 0; k < txn && done < n; ++k, ++done) {
      const std::string id = "R" + std::to_string(done);
      Status s = (*commune)->Append(**session, "22333", "", [&](const node::Node::RecordReader&) {
        return Result<std::vector<crdt::RecordOps>>(std::vector<crdt::RecordOps>{
            {id,
             {{"$type", crdt::Value::String("note"), {}},
              {"name", crdt::Value::String("Nguyễn Thị Hồng " + id), {}},
              {"note", crdt::Value::String("một ghi chú ngắn cho bản ghi " + id), {}}}}});
      });
      if (!s.ok()) {
        std::fprintf(stderr, "append: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    if (!(*session)->Commit().ok()) return 1;
  }
  const double write_s = write.Seconds();

  // 2. Ingest at the hub.
  std::vector<store::Store::Incoming> all;
  const store::FeedKey feed{(*commune)->info().id, "22333"};
  for (uint64_t seq = 1; seq <= n; ++seq) {
    auto env = (*commune)->store().GetEnvelope(feed, seq);
    if (!env.ok() || !env->has_value()) return 1;
    all.push_back({std::move(**env), std::nullopt});
  }
  size_t signatures = 0, refused = 0, materialised = 0;
  bench::Stopwatch ingest;
  for (size_t i = 0; i < all.size(); i += txn) {
    std::vector<store::Store::Incoming> batch(
        std::make_move_iterator(all.begin() + static_cast<long>(i)),
        std::make_move_iterator(all.begin() + static_cast<long>(std::min(all.size(), i + txn))));
    auto r = (*hub)->Ingest(batch);
    if (!r.ok()) {
      std::fprintf(stderr, "ingest: %s\n", r.status().ToString().c_str());
      return 1;
    }
    signatures += r->signatures_checked;
    refused += r->refused;
    materialised += r->materialised;
  }
  const double ingest_s = ingest.Seconds();

  // 3. Bare Ed25519 verification, one per change.
  replication::SigningKey key = replication::SigningKey::Generate();
  std::vector<std::pair<std::string, replication::Signature>> signed_digests;
  for (size_t i = 0; i < std::min<size_t>(n, 20000); ++i) {
    std::string d(32, '\0');
    replication::RandomBytes(d.data(), d.size());
    signed_digests.emplace_back(d, key.Sign(replication::kSignEnvelope, d));
  }
  bench::Stopwatch verify;
  size_t ok = 0;
  for (const auto& [d, sig] : signed_digests) {
    ok += replication::VerifySignature(
        key.public_key(), replication::kSignEnvelope, d,
        std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
  }
  const double verify_each_s = verify.Seconds() / static_cast<double>(signed_digests.size());
  if (ok != signed_digests.size()) return 1;

  const double ingest_rate = static_cast<double>(n) / ingest_s;
  const double verify_rate = 1.0 / verify_each_s;
  std::printf("security_bench: %zu changes, 1 commune node -> hub, batches of %zu\n", n, txn);
  std::printf("  write (encode+encrypt+sign+store): %.2f s, %.0f changes/s, %.1f us/change\n",
              write_s, static_cast<double>(n) / write_s, write_s * 1e6 / static_cast<double>(n));
  std::printf(
      "  hub ingest (all checks + apply):   %.2f s, %.0f changes/s, %zu signatures "
      "verified, %zu refused, %zu materialised\n",
      ingest_s, ingest_rate, signatures, refused, materialised);
  std::printf(
      "  bare Ed25519 verify:               %.1f us each = %.0f changes/s if every change "
      "were verified\n",
      verify_each_s * 1e6, verify_rate);
  std::printf(
      "  ratio ingest / verify-every-change: %.2f (goal >= 5, issue 17; issue 4 asked for 3)\n",
      ingest_rate / verify_rate);
  return refused == 0 && materialised == n ? 0 : 1;
}
