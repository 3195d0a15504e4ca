// The sync wire protocol, version 1 (docs/protocol.md): five messages, each
// one ZeroMQ frame of canonical msgpack. Decoding checks every length
// against the limits below before allocating, and refuses trailing bytes.
#pragma once

#include <cstdint>
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

enum class MessageType : uint8_t {
  kHello = 1,
  kBatch = 2,
  kAck = 3,
  kDone = 4,
  kError = 5,
  kQuery = 6,
  kAnswer = 7,
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

struct Hello {
  uint64_t version = kProtocolVersion;
  PublicKey node{};  // the sender's Ed25519 key (its certificate names it)
  std::string role;  // "commune" | "hub"
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

using Message = std::variant<Hello, Batch, Ack, Done, ErrorMessage, Query, Answer>;

std::string Encode(const Message& m);
// The message type a frame announces, read without decoding the rest
// (for routing: a HELLO starts a session, a QUERY is answered outside one).
// Zero when the frame does not start like a message.
uint64_t PeekType(std::string_view frame);
// InvalidArgument with reason E_PROTOCOL (malformed, limits, trailing bytes)
// or E_UNKNOWN_MESSAGE.
Result<Message> Decode(std::string_view frame);

// What a receipt signs: the ack without its signature, canonical bytes.
std::string ReceiptBytes(const Ack& ack);
void SignReceipt(Ack* ack, const SigningKey& key);
bool ReceiptValid(const Ack& ack, const PublicKey& signer);

}  // namespace tuphap::replication
