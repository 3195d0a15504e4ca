// The HELLO of a node holding many feeds (issue 17, item 6): the bytes of
// the full form (version 1) and of the summary form (version 2), and the
// bytes of the HEADS that expand the buckets that differ when a share of
// the feeds moved on at one side.
//
//   hello_bench [--feeds N] [--differ PERCENT ...]   (default 100,000; 0.1 1 10)
//
// The heads are synthetic (N feeds of 25,000 origins x 4 scopes); the
// summary, the buckets and the HEADS frames are those the session sends
// (replication/protocol.h, node/sync.cc). Printed per share: the buckets
// that differ, the heads and bytes of HEADS each side sends, and the time
// to summarise N heads.
#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "replication/protocol.h"
#include "tests/bench/bench_util.h"

using namespace tuphap;
using replication::FeedHeadWire;

namespace {

std::vector<FeedHeadWire> Heads(size_t n) {
  std::vector<FeedHeadWire> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    FeedHeadWire h;
    const replication::Hash o = replication::Blake2b256("origin-" + std::to_string(i / 4));
    std::copy(o.begin(), o.end(), h.origin.bytes.begin());
    h.scope = std::to_string(10000 + i % 4 * 1000 + i / 4 % 997);
    h.seq = 1 + i % 5000;
    h.hash = replication::Blake2b256("head-" + std::to_string(i));
    out.push_back(std::move(h));
  }
  return out;
}

replication::Hello SummaryHello(const std::vector<FeedHeadWire>& heads, uint32_t bits) {
  replication::Hello h;
  h.version = replication::kSummaryVersion;
  h.node.fill(7);
  h.role = "hub";
  h.summary = replication::Summarise(heads, bits);
  return h;
}

// The HEADS frames one side sends: its heads in the differing buckets.
size_t HeadsBytes(const std::vector<FeedHeadWire>& heads, const std::vector<bool>& differ,
                  uint32_t bits, size_t* count, size_t* frames) {
  size_t bytes = 0;
  replication::HeadsMessage m;
  auto flush = [&] {
    bytes += replication::Encode(m).size();
    ++*frames;
    m.heads.clear();
  };
  for (const auto& h : heads) {
    if (!differ[replication::SummaryBucket(h.origin, h.scope, bits)]) continue;
    m.heads.push_back(h);
    ++*count;
    if (m.heads.size() == replication::kMaxHeadsMessageHeads) flush();
  }
  m.last = true;
  flush();
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  size_t feeds = 100000;
  std::vector<double> shares;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--feeds" && i + 1 < argc) {
      feeds = std::stoul(argv[++i]);
    } else if (a == "--differ" && i + 1 < argc) {
      shares.push_back(std::stod(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: hello_bench [--feeds N] [--differ PERCENT ...]\n");
      return 2;
    }
  }
  if (shares.empty()) shares = {0.1, 1, 10};
  const std::vector<FeedHeadWire> mine = Heads(feeds);

  replication::Hello full;
  full.node.fill(7);
  full.role = "hub";
  full.heads = mine;
  const size_t full_bytes = replication::Encode(full).size();
  const uint32_t bits = replication::SummaryBits(feeds);
  bench::Stopwatch sw;
  const replication::Hello hello = SummaryHello(mine, bits);
  const double summarise_s = sw.Seconds();
  const size_t summary_bytes = replication::Encode(hello).size();
  std::printf(
      "hello_bench: %zu feeds: full HELLO (version 1) %zu bytes%s; summary HELLO (version 2) "
      "%zu bytes, %u bits (%zu buckets), summarised in %.0f ms\n",
      feeds, full_bytes,
      feeds > replication::kMaxHelloHeads ? " (over the 20,000 heads a version-1 HELLO may name)"
                                          : "",
      summary_bytes, bits, hello.summary->buckets.size(), summarise_s * 1000);

  std::mt19937_64 rng(17);
  for (const double share : shares) {
    // The peer lacks the latest envelope of `share` % of the feeds.
    std::vector<FeedHeadWire> theirs = mine;
    const size_t moved = static_cast<size_t>(feeds * share / 100);
    std::vector<size_t> idx(feeds);
    for (size_t i = 0; i < feeds; ++i) idx[i] = i;
    std::shuffle(idx.begin(), idx.end(), rng);
    for (size_t i = 0; i < moved; ++i) {
      auto& h = theirs[idx[i]];
      h.seq -= std::min<uint64_t>(h.seq - 1, 1);
      h.hash = replication::Blake2b256("older-" + std::to_string(idx[i]));
    }
    const replication::Hello answer = SummaryHello(theirs, bits);
    std::vector<bool> differ(hello.summary->buckets.size());
    size_t nd = 0;
    for (size_t i = 0; i < differ.size(); ++i)
      nd += differ[i] = !(hello.summary->buckets[i] == answer.summary->buckets[i]);
    size_t mine_n = 0, theirs_n = 0, mine_f = 0, theirs_f = 0;
    const size_t mine_b = HeadsBytes(mine, differ, bits, &mine_n, &mine_f);
    const size_t theirs_b = HeadsBytes(theirs, differ, bits, &theirs_n, &theirs_f);
    const size_t answer_bytes = replication::Encode(answer).size();
    std::printf(
        "hello_bench: %.1f %% of feeds differ (%zu): %zu of %zu buckets differ; HEADS %zu heads "
        "in %zu frames, %zu bytes one way, %zu heads in %zu frames, %zu bytes the other; opening "
        "total %zu bytes both ways (full HELLOs: %zu)\n",
        share, moved, nd, differ.size(), mine_n, mine_f, mine_b, theirs_n, theirs_f, theirs_b,
        summary_bytes + answer_bytes + mine_b + theirs_b, 2 * full_bytes);
  }
  return 0;
}
