#include "replication/protocol.h"

#include <algorithm>
#include <cstring>

#include "replication/limits.h"
#include "replication/msgpack.h"

namespace tuphap::replication {
namespace {

constexpr size_t kMaxScope = 16;

void WriteHeads(MsgpackWriter& w, const std::vector<FeedHeadWire>& heads) {
  w.ArrayHeader(static_cast<uint32_t>(heads.size()));
  for (const auto& h : heads) {
    w.ArrayHeader(4);
    w.Bin(h.origin.bytes);
    w.Str(h.scope);
    w.Uint(h.seq);
    w.Bin(h.hash);
  }
}

std::vector<FeedHeadWire> ReadHeads(MsgpackReader& r, uint32_t max_heads) {
  std::vector<FeedHeadWire> out;
  const uint32_t n = r.ReadArrayHeader(max_heads);
  if (!r.ok()) return out;
  out.reserve(std::min<uint32_t>(n, 4096));
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    FeedHeadWire h;
    r.ExpectArray(4);
    r.ReadBinFixed(h.origin.bytes);
    h.scope = std::string(r.ReadStr(kMaxScope));
    h.seq = r.ReadUint();
    r.ReadBinFixed(h.hash);
    out.push_back(std::move(h));
  }
  return out;
}

bool HeadLess(const FeedHeadWire& a, const FeedHeadWire& b) {
  const int c = std::memcmp(a.origin.bytes.data(), b.origin.bytes.data(), a.origin.bytes.size());
  if (c != 0) return c < 0;
  return a.scope < b.scope;  // char_traits<char>: bytes compared unsigned, a prefix first
}

void WriteAckBody(MsgpackWriter& w, const Ack& a) {
  w.Uint(static_cast<uint64_t>(MessageType::kAck));
  w.Uint(a.batch_no);
  w.Uint(a.refused);
  WriteHeads(w, a.heads);
}

}  // namespace

std::string Encode(const Message& m) {
  MsgpackWriter w(256);
  std::visit(
      [&](const auto& msg) {
        using T = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<T, Hello>) {
          w.ArrayHeader(msg.summary ? 6 : 5);
          w.Uint(static_cast<uint64_t>(MessageType::kHello));
          w.Uint(msg.version);
          w.Bin(msg.node);
          w.Str(msg.role);
          WriteHeads(w, msg.heads);
          if (msg.summary) {
            w.ArrayHeader(2);
            w.Uint(msg.summary->bits);
            w.ArrayHeader(static_cast<uint32_t>(msg.summary->buckets.size()));
            for (const auto& b : msg.summary->buckets) {
              w.ArrayHeader(2);
              w.Uint(b.count);
              w.Bin(b.digest);
            }
          }
        } else if constexpr (std::is_same_v<T, HeadsMessage>) {
          w.ArrayHeader(3);
          w.Uint(static_cast<uint64_t>(MessageType::kHeads));
          w.Bool(msg.last);
          WriteHeads(w, msg.heads);
        } else if constexpr (std::is_same_v<T, Batch>) {
          w.ArrayHeader(3);
          w.Uint(static_cast<uint64_t>(MessageType::kBatch));
          w.Uint(msg.batch_no);
          w.ArrayHeader(static_cast<uint32_t>(msg.envelopes.size()));
          for (const auto& e : msg.envelopes) w.Bin(e);
        } else if constexpr (std::is_same_v<T, Ack>) {
          w.ArrayHeader(5);
          WriteAckBody(w, msg);
          w.Bin(msg.receipt);
        } else if constexpr (std::is_same_v<T, Done>) {
          w.ArrayHeader(1);
          w.Uint(static_cast<uint64_t>(MessageType::kDone));
        } else if constexpr (std::is_same_v<T, Query>) {
          w.ArrayHeader(4);
          w.Uint(static_cast<uint64_t>(MessageType::kQuery));
          w.Uint(msg.query_no);
          w.Str(msg.what);
          w.Bin(msg.body);
        } else if constexpr (std::is_same_v<T, Answer>) {
          w.ArrayHeader(3);
          w.Uint(static_cast<uint64_t>(MessageType::kAnswer));
          w.Uint(msg.query_no);
          w.Bin(msg.body);
        } else {
          w.ArrayHeader(3);
          w.Uint(static_cast<uint64_t>(MessageType::kError));
          w.Str(msg.code);
          w.Str(msg.message);
        }
      },
      m);
  return w.Take();
}

uint64_t PeekType(std::string_view frame) {
  MsgpackReader r(frame);
  if (r.ReadArrayHeader(8) == 0 || !r.ok()) return 0;
  const uint64_t type = r.ReadUint();
  return r.ok() ? type : 0;
}

bool IsMessage(std::string_view frame, MessageType type) {
  return PeekType(frame) == static_cast<uint64_t>(type);
}

Result<Message> Decode(std::string_view frame) {
  auto bad = [](const std::string& what) {
    return Status::InvalidArgument("malformed sync message: " + what).WithReason("E_PROTOCOL");
  };
  if (frame.size() > kMaxFrameBytes) return bad("larger than the frame limit");
  MsgpackReader r(frame);
  const uint32_t n = r.ReadArrayHeader(8);
  if (!r.ok() || n == 0) return bad("not a message array");
  const uint64_t type = r.ReadUint();
  if (!r.ok()) return bad("no message type");
  Message out;
  if (type < 1 || type > 8)
    return Status::InvalidArgument("unknown sync message type " + std::to_string(type))
        .WithReason("E_UNKNOWN_MESSAGE");
  switch (static_cast<MessageType>(type)) {
    case MessageType::kHello: {
      // array(5): version 1, every head; array(6): version 2, a summary.
      if (n != 5 && n != 6) return bad("HELLO has 5 or 6 elements");
      Hello h;
      h.version = r.ReadUint();
      if (r.ok() && n == 6 && h.version != kSummaryVersion)
        return bad("a HELLO of 6 elements is version 2");
      r.ReadBinFixed(h.node);
      h.role = std::string(r.ReadStr(16));
      h.heads = ReadHeads(r, n == 6 ? 0 : kMaxHelloHeads);
      if (n == 6 && r.ok()) {
        HeadsSummary sum;
        r.ExpectArray(2);
        const uint64_t bits = r.ReadUint();
        if (r.ok() && bits > kMaxSummaryBits) return bad("summary bits over 11");
        sum.bits = static_cast<uint32_t>(bits);
        const uint32_t buckets = r.ReadArrayHeader(1u << kMaxSummaryBits);
        if (r.ok() && buckets != (1u << sum.bits)) return bad("summary is not 2^bits buckets");
        uint64_t total = 0;
        sum.buckets.reserve(r.ok() ? buckets : 0);
        for (uint32_t i = 0; i < buckets && r.ok(); ++i) {
          BucketSummary b;
          r.ExpectArray(2);
          b.count = r.ReadUint();
          r.ReadBinFixed(b.digest);
          if (r.ok() && (b.count > kMaxSummaryHeads || (total += b.count) > kMaxSummaryHeads))
            return bad("summary counts over 150,000 heads");
          sum.buckets.push_back(b);
        }
        h.summary = std::move(sum);
      }
      out = std::move(h);
      break;
    }
    case MessageType::kHeads: {
      if (n != 3) return bad("HEADS has 3 elements");
      HeadsMessage m;
      m.last = r.ReadBool();
      m.heads = ReadHeads(r, kMaxHeadsMessageHeads);
      out = std::move(m);
      break;
    }
    case MessageType::kBatch: {
      if (n != 3) return bad("BATCH has 3 elements");
      Batch b;
      b.batch_no = r.ReadUint();
      const uint32_t count = r.ReadArrayHeader(kMaxBatchEnvelopes);
      for (uint32_t i = 0; i < count && r.ok(); ++i)
        b.envelopes.emplace_back(r.ReadBin(kDefaultLimits.max_envelope_bytes));
      out = std::move(b);
      break;
    }
    case MessageType::kAck: {
      if (n != 5) return bad("ACK has 5 elements");
      Ack a;
      a.batch_no = r.ReadUint();
      a.refused = r.ReadUint();
      a.heads = ReadHeads(r, kMaxAckHeads);
      a.receipt = std::string(r.ReadBin(64));
      if (r.ok() && !a.receipt.empty() && a.receipt.size() != 64) return bad("receipt size");
      out = std::move(a);
      break;
    }
    case MessageType::kDone:
      if (n != 1) return bad("DONE has 1 element");
      out = Done{};
      break;
    case MessageType::kError: {
      if (n != 3) return bad("ERROR has 3 elements");
      ErrorMessage e;
      e.code = std::string(r.ReadStr(64));
      e.message = std::string(r.ReadStr(4096));
      out = std::move(e);
      break;
    }
    case MessageType::kQuery: {
      if (n != 4) return bad("QUERY has 4 elements");
      Query q;
      q.query_no = r.ReadUint();
      q.what = std::string(r.ReadStr(32));
      q.body = std::string(r.ReadBin(kMaxQueryBytes));
      out = std::move(q);
      break;
    }
    case MessageType::kAnswer: {
      if (n != 3) return bad("ANSWER has 3 elements");
      Answer a;
      a.query_no = r.ReadUint();
      a.body = std::string(r.ReadBin(kMaxFrameBytes));
      out = std::move(a);
      break;
    }
    default:
      return Status::InvalidArgument("unknown sync message type " + std::to_string(type))
          .WithReason("E_UNKNOWN_MESSAGE");
  }
  r.ExpectEnd();
  if (!r.ok()) return bad(r.status().message());
  return out;
}

uint32_t SummaryBucket(const crdt::ReplicaId& origin, std::string_view scope, uint32_t bits) {
  if (bits == 0) return 0;
  Hasher h;
  h.Update(AsBytes(origin.bytes));
  h.Update(scope);
  const Hash d = h.Final();
  const uint32_t first16 = (static_cast<uint32_t>(d[0]) << 8) | d[1];
  return first16 >> (16 - std::min(bits, kMaxSummaryBits));
}

uint32_t SummaryBits(size_t heads, size_t per_bucket) {
  per_bucket = std::max<size_t>(per_bucket, 1);
  uint32_t bits = 0;
  while (bits < kMaxSummaryBits && heads > (per_bucket << bits)) ++bits;
  return bits;
}

std::vector<std::vector<FeedHeadWire>> SplitIntoBuckets(std::vector<FeedHeadWire> heads,
                                                        uint32_t bits) {
  bits = std::min(bits, kMaxSummaryBits);
  std::vector<std::vector<FeedHeadWire>> out(size_t{1} << bits);
  for (auto& h : heads) out[SummaryBucket(h.origin, h.scope, bits)].push_back(std::move(h));
  for (auto& b : out) std::sort(b.begin(), b.end(), HeadLess);
  return out;
}

BucketSummary SummariseBucket(const std::vector<FeedHeadWire>& sorted) {
  MsgpackWriter w(sorted.size() * 90 + 8);
  WriteHeads(w, sorted);
  const Hash d = Blake2b256(w.bytes());
  BucketSummary b;
  b.count = sorted.size();
  std::copy_n(d.begin(), b.digest.size(), b.digest.begin());
  return b;
}

HeadsSummary Summarise(std::vector<FeedHeadWire> heads, uint32_t bits) {
  HeadsSummary s;
  s.bits = std::min(bits, kMaxSummaryBits);
  for (const auto& bucket : SplitIntoBuckets(std::move(heads), s.bits))
    s.buckets.push_back(SummariseBucket(bucket));
  return s;
}

std::string ReceiptBytes(const Ack& ack) {
  MsgpackWriter w(128);
  w.ArrayHeader(4);
  WriteAckBody(w, ack);
  return w.Take();
}

void SignReceipt(Ack* ack, const SigningKey& key) {
  const Signature sig = key.Sign(kSignReceipt, ReceiptBytes(*ack));
  ack->receipt.assign(reinterpret_cast<const char*>(sig.data()), sig.size());
}

bool ReceiptValid(const Ack& ack, const PublicKey& signer) {
  return ack.receipt.size() == 64 &&
         VerifySignature(signer, kSignReceipt, ReceiptBytes(ack), ack.receipt);
}

}  // namespace tuphap::replication
