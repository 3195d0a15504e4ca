// The sync wire protocol, versions 1 and 2 (docs/protocol.md): eight
// messages, each one ZeroMQ frame of canonical msgpack. Version 2 adds only
// the summary form of HELLO and the HEADS message that expands it. Decoding checks every length
// against the limits below before allocating, and refuses trailing bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "crdt/replica_id.h"
#include "replication/crypto.h"
#include "replication/hash.h"

namespace tuphap::replication {

inline constexpr uint64_t kProtocolVersion = 1;
// One frame, as received: 8 MiB, as in the first release of version 1,
// whose senders put up to 4 MiB of envelopes in a BATCH. This version sends
// at most kMaxBatchBytes (one envelope of up to 256 KiB always fits).
inline constexpr size_t kMaxFrameBytes = 8 << 20;
inline constexpr uint32_t kMaxBatchEnvelopes = 2000;
inline constexpr size_t kMaxBatchBytes = 1 << 20;  // what a sender puts in one batch
// Heads in one HELLO (every feed the sender holds: a whole province is a
// few thousand) and in one ACK (the feeds of one batch).
inline constexpr uint32_t kMaxHelloHeads = 20000;
inline constexpr uint32_t kMaxAckHeads = kMaxBatchEnvelopes;

// Version 2: a HELLO that would name more than kMaxFullHelloSent heads (a
// hub, a national tier: thousands to 100,000 feeds) carries a summary of
// them instead, 2^bits buckets of (count, digest); the buckets that differ
// are then expanded in HEADS messages. A node with fewer feeds sends the
// version-1 form, byte for byte as before.
inline constexpr uint64_t kSummaryVersion = 2;
// The versions this build speaks, oldest to newest: it answers a HELLO of
// any of them (docs/protocol.md, "Versioning"); `tuphap --version` and
// `status --json` report them.
inline constexpr uint64_t kOldestProtocolVersion = kProtocolVersion;
inline constexpr uint64_t kNewestProtocolVersion = kSummaryVersion;
inline constexpr size_t kMaxFullHelloSent = 512;
inline constexpr uint32_t kMaxSummaryBits = 11;         // 2,048 buckets: a HELLO of about 41 KB
inline constexpr uint32_t kSummaryHeadsPerBucket = 64;  // the sender's aim, on average
// The counts' sum, at most: half again the 100,000 feeds aimed at, and few
// enough that a side's HEADS (a head is at most 95 bytes on the wire) stay
// under the 16 MiB a listener holds unhandled per connection
// (node/transport/net.cc): 150,000 x 95 bytes is 14.3 MB. A commune node's
// summary may count no more than a version-1 HELLO names
// (kMaxHelloHeads): what a commune can make a hub hold stays as before.
inline constexpr uint64_t kMaxSummaryHeads = 150'000;
// Heads in one HEADS frame (about 1.7 MB): as many as a version-1 HELLO, so
// the 100,000 heads of a national tier that all differ take 5 frames.
inline constexpr uint32_t kMaxHeadsMessageHeads = kMaxHelloHeads;

enum class MessageType : uint8_t {
  kHello = 1,
  kBatch = 2,
  kAck = 3,
  kDone = 4,
  kError = 5,
  kQuery = 6,
  kAnswer = 7,
  kHeads = 8,  // version 2
};

// A query's body is at most this long (a reconcile drill-down names ids).
inline constexpr size_t kMaxQueryBytes = 1 << 20;

struct FeedHeadWire {
  crdt::ReplicaId origin;
  std::string scope;
  uint64_t seq = 0;
  Hash hash{};
  friend bool operator==(const FeedHeadWire&, const FeedHeadWire&) = default;
};

// One bucket of a summarised HELLO: how many heads fall in it and the
// first 16 bytes of BLAKE2b-256 over their canonical msgpack (an array of
// the bucket's heads, as on the wire, sorted by origin then scope bytes).
struct BucketSummary {
  uint64_t count = 0;
  std::array<uint8_t, 16> digest{};
  friend bool operator==(const BucketSummary&, const BucketSummary&) = default;
};

struct HeadsSummary {
  uint32_t bits = 0;                   // 0..kMaxSummaryBits
  std::vector<BucketSummary> buckets;  // exactly 2^bits
  friend bool operator==(const HeadsSummary&, const HeadsSummary&) = default;
};

struct Hello {
  uint64_t version = kProtocolVersion;
  PublicKey node{};                 // the sender's Ed25519 key (its certificate names it)
  std::string role;                 // "commune" | "hub"
  std::vector<FeedHeadWire> heads;  // empty in the summary form
  // Version 2 only: the sender's heads summarised (array(6) on the wire).
  std::optional<HeadsSummary> summary;
};

// Version 2: the sender's heads of the buckets in which the two summaries
// differ, in as many frames as needed; the last says so.
struct HeadsMessage {
  bool last = false;
  std::vector<FeedHeadWire> heads;
};

struct Batch {
  uint64_t batch_no = 0;
  std::vector<std::string> envelopes;  // each an envelope's exact bytes
};

struct Ack {
  uint64_t batch_no = 0;
  uint64_t refused = 0;             // envelopes of the batch the receiver refused
  std::vector<FeedHeadWire> heads;  // the receiver's heads of the batch's feeds, after it
  std::string receipt;              // a hub's Ed25519 signature (64 bytes), or empty
};

struct Done {};

struct ErrorMessage {
  std::string code;  // E_... (docs/protocol.md)
  std::string message;
};

// A question outside the sync session (reconcile: node/reconcile.h): the
// listener answers it with one ANSWER of the same number, or an ERROR.
struct Query {
  uint64_t query_no = 0;
  std::string what;  // the question's name, e.g. "recon.roots"
  std::string body;  // its arguments, msgpack defined by the asker's module
};

struct Answer {
  uint64_t query_no = 0;
  std::string body;
};

using Message = std::variant<Hello, Batch, Ack, Done, ErrorMessage, Query, Answer, HeadsMessage>;

std::string Encode(const Message& m);
// The message type a frame announces, read without decoding the rest
// (for routing: a HELLO starts a session, a QUERY is answered outside one).
// Zero when the frame does not start like a message.
uint64_t PeekType(std::string_view frame);
// Whether `frame` announces a message of `type` (PeekType).
bool IsMessage(std::string_view frame, MessageType type);
// InvalidArgument with reason E_PROTOCOL (malformed, limits, trailing bytes)
// or E_UNKNOWN_MESSAGE.
Result<Message> Decode(std::string_view frame);

// The summary form (version 2). The bucket of a feed: the first `bits`
// bits of BLAKE2b-256(origin's 32 bytes || scope's bytes).
uint32_t SummaryBucket(const crdt::ReplicaId& origin, std::string_view scope, uint32_t bits);
// The smallest bits giving at most kSummaryHeadsPerBucket heads per bucket
// on average (or `per_bucket`), at most kMaxSummaryBits.
uint32_t SummaryBits(size_t heads, size_t per_bucket = kSummaryHeadsPerBucket);
// `heads` split into 2^bits buckets, each sorted by (origin, scope) bytes.
std::vector<std::vector<FeedHeadWire>> SplitIntoBuckets(std::vector<FeedHeadWire> heads,
                                                        uint32_t bits);
// One bucket's (count, digest); `sorted` as SplitIntoBuckets leaves it.
BucketSummary SummariseBucket(const std::vector<FeedHeadWire>& sorted);
HeadsSummary Summarise(std::vector<FeedHeadWire> heads, uint32_t bits);

// What a receipt signs: the ack without its signature, canonical bytes.
std::string ReceiptBytes(const Ack& ack);
void SignReceipt(Ack* ack, const SigningKey& key);
bool ReceiptValid(const Ack& ack, const PublicKey& signer);

}  // namespace tuphap::replication
