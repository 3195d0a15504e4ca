#include "node/bundle.h"

#include <sodium.h>

#include "base/file_io.h"
#include "replication/msgpack.h"
#include "replication/protocol.h"

namespace tuphap::node {
namespace {

constexpr std::string_view kMagic = "tuphap-bundle";
constexpr uint64_t kFormat = 1;
// A bundle's chunk limits are its own (a file has no link to be cut): at
// most 1,000 envelopes and 4 MiB written, 8 MiB accepted.
constexpr size_t kChunkEnvelopes = 1000;
constexpr size_t kChunkBytes = 4 << 20;
constexpr size_t kMaxChunk = 8 << 20;
// The sender signs the header (the recipient's key, the sealed stream key):
// the bundle says truly who made it.
constexpr std::string_view kSignBundle = "tuphap/bundle/v1";
static_assert(kSignBundle.size() == 16);

void PutU32(std::string* out, uint32_t n) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((n >> (8 * i)) & 0xff));
}

Status Damaged(const std::string& path, const std::string& what) {
  return Status::Corruption("bundle " + path + " is " + what + "; nothing was applied")
      .WithReason("E_BUNDLE_DAMAGED");
}

std::string_view Bytes(const uint8_t* p, size_t n) { return {reinterpret_cast<const char*>(p), n}; }

}  // namespace

Result<BundleExport> ExportBundle(Node& node, const std::string& peer, bool all,
                                  const std::string& path, size_t max_bytes) {
  TUPHAP_RETURN_IF_ERROR(node.ReloadTrust());
  if (!node.enrolled())
    return Status::FailedPrecondition("this node is not enrolled: it has nothing it may send");
  TUPHAP_ASSIGN_OR_RETURN(std::string fp, ParseNodeIdText(peer));
  const replication::Certificate* cert = node.trust()->CertByFingerprint(fp);
  if (cert == nullptr) return Status::NotFound("no enrolled node " + peer + " is known here");
  if (node.trust()->IsRevoked(cert->sign_key))
    return Status::PermissionDenied("node " + peer + " is revoked: nothing is sent to it")
        .WithReason("E_REVOKED");
  TUPHAP_ASSIGN_OR_RETURN(const NodeSecrets* secrets, node.UnlockedSecrets());
  std::map<store::FeedKey, uint64_t> known;
  if (!all) {
    TUPHAP_ASSIGN_OR_RETURN(known, node.PeerHeads(cert->sign_key));
  }
  // The stream key, sealed to the recipient.
  uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
  crypto_secretstream_xchacha20poly1305_keygen(key);
  crypto_secretstream_xchacha20poly1305_state st;
  uint8_t ss_header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  crypto_secretstream_xchacha20poly1305_init_push(&st, ss_header, key);
  replication::MsgpackWriter hw;
  hw.ArrayHeader(6);
  hw.Str(kMagic);
  hw.Uint(kFormat);
  hw.Bin(node.sign_key());
  hw.Bin(cert->box_key);
  hw.Bin(replication::SealTo(cert->box_key, Bytes(key, sizeof key)));
  hw.Bin(Bytes(ss_header, sizeof ss_header));
  sodium_memzero(key, sizeof key);
  const std::string header = hw.Take();
  const replication::Signature sig = secrets->sign.Sign(kSignBundle, header);

  BundleExport out;
  out.peer = NodeIdText(cert->sign_key);
  // Streamed to a temporary file a chunk at a time, so memory holds one
  // chunk whatever the bundle's size; published only when whole and
  // within the bound the importer enforces (a bundle nobody may import is
  // refused here, and no partial file is left).
  // What earlier exports killed part way left beside it goes first.
  RemoveStaleTemporaries(path);
  TUPHAP_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(path));
  auto write_frame = [&](std::string_view frame) -> Status {
    if (file.size() + 4 + frame.size() > max_bytes) {
      return Status::ResourceExhausted(
                 "the bundle for " + out.peer + " would be larger than the " +
                 std::to_string(max_bytes) + " bytes a node accepts in one bundle (" +
                 std::to_string(out.envelopes) +
                 " changes in so far); nothing was written: sync over the network, or export "
                 "only what the node lacks (without --all)")
          .WithReason("E_BUNDLE_TOO_LARGE");
    }
    std::string prefix;
    PutU32(&prefix, static_cast<uint32_t>(frame.size()));
    TUPHAP_RETURN_IF_ERROR(file.Append(prefix));
    return file.Append(frame);
  };
  TUPHAP_RETURN_IF_ERROR(write_frame(header));
  TUPHAP_RETURN_IF_ERROR(write_frame(Bytes(sig.data(), sig.size())));
  auto push_chunk = [&](const std::vector<std::string>& envs, bool final) -> Status {
    replication::MsgpackWriter w;
    w.ArrayHeader(static_cast<uint32_t>(envs.size()));
    for (const auto& e : envs) w.Bin(e);
    const std::string plain = w.Take();
    std::string c(plain.size() + crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
    unsigned long long clen = 0;
    crypto_secretstream_xchacha20poly1305_push(
        &st, reinterpret_cast<unsigned char*>(c.data()), &clen,
        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
        reinterpret_cast<const unsigned char*>(header.data()), header.size(),
        final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    c.resize(clen);
    return write_frame(c);
  };
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::FeedHead> heads, node.store().Heads());
  std::vector<std::string> chunk;
  size_t chunk_bytes = 0;
  for (const auto& head : heads) {
    if (head.seq == 0 || !node.Offers(*cert, head.feed.scope)) continue;
    auto it = known.find(head.feed);
    for (uint64_t seq = (it == known.end() ? 0 : it->second) + 1; seq <= head.seq; ++seq) {
      TUPHAP_ASSIGN_OR_RETURN(std::optional<replication::Envelope> env,
                              node.store().GetEnvelope(head.feed, seq));
      if (!env || env->is_draft()) break;
      chunk_bytes += env->bytes().size();
      chunk.push_back(env->bytes());
      ++out.envelopes;
      if (chunk.size() >= kChunkEnvelopes || chunk_bytes >= kChunkBytes) {
        TUPHAP_RETURN_IF_ERROR(push_chunk(chunk, false));
        chunk.clear();
        chunk_bytes = 0;
      }
    }
  }
  // The final tag marks the end, even of an empty bundle.
  TUPHAP_RETURN_IF_ERROR(push_chunk(chunk, true));
  out.bytes = file.size();
  TUPHAP_RETURN_IF_ERROR(file.Commit());
  return out;
}

Result<std::string> ReadBundle(Node& node, const std::string& path, const BundleChunk& take,
                               uint64_t* unparsed) {
  if (!node.enrolled())
    return Status::FailedPrecondition("this node is not enrolled: it cannot check a bundle")
        .WithReason("E_NOT_ENROLLED");
  auto read = ReadFileBounded(path, kMaxBundleBytes);
  if (!read.ok()) return read.status();
  std::string file = std::move(*read);
  size_t pos = 0;
  auto next_frame = [&](std::string_view* frame) -> bool {
    if (file.size() - pos < 4) return false;
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<uint8_t>(file[pos + i]);
    if (n > kMaxChunk || file.size() - pos - 4 < n) return false;
    *frame = std::string_view(file).substr(pos + 4, n);
    pos += 4 + n;
    return true;
  };
  std::string_view header;
  if (!next_frame(&header)) return Damaged(path, "too short to be a bundle");
  replication::MsgpackReader r(header);
  r.ExpectArray(6);
  if (r.ok() && r.ReadStr(32) != kMagic) r.Fail("not a tuphap bundle");
  if (r.ok() && r.ReadUint() != kFormat) r.Fail("unknown bundle version");
  replication::PublicKey sender{}, recipient{};
  r.ReadBinFixed(sender);
  r.ReadBinFixed(recipient);
  const std::string_view sealed = r.ReadBin(256);
  uint8_t ss_header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  r.ReadBinFixed(std::span<uint8_t>(ss_header, sizeof ss_header));
  r.ExpectEnd();
  if (!r.ok()) return Damaged(path, "not readable (" + r.status().message() + ")");
  std::string_view signature;
  if (!next_frame(&signature)) return Damaged(path, "truncated after its header");
  TUPHAP_RETURN_IF_ERROR(node.ReloadTrust());
  const replication::Certificate* from = node.trust()->CertFor(sender);
  if (from == nullptr) {
    return Status::PermissionDenied("bundle " + path + " comes from node " + NodeIdText(sender) +
                                    ", which this node does not know; nothing was applied")
        .WithReason("E_UNKNOWN_ORIGIN");
  }
  if (!replication::VerifySignature(sender, kSignBundle, header, signature))
    return Damaged(path, "altered (its header signature does not verify)");
  if (recipient != node.box_key()) {
    return Status::PermissionDenied("bundle " + path +
                                    " is addressed to another node; nothing was applied")
        .WithReason("E_NOT_AUTHORISED");
  }
  TUPHAP_ASSIGN_OR_RETURN(const NodeSecrets* secrets, node.UnlockedSecrets());
  auto key = replication::OpenSealedBox(secrets->box, sealed);
  if (!key.ok() || key->size() != crypto_secretstream_xchacha20poly1305_KEYBYTES)
    return Damaged(path, "altered (its key does not open)");
  const size_t body_start = pos;
  // Two passes: the whole stream is authenticated, to its final tag, before
  // anything is applied; then it is read again and handed over.
  for (int pass = 0; pass < 2; ++pass) {
    crypto_secretstream_xchacha20poly1305_state st;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&st, ss_header, key->data()) != 0)
      return Damaged(path, "altered (bad stream header)");
    pos = body_start;
    bool final = false;
    std::string_view chunk;
    while (!final) {
      const size_t at = pos;
      if (!next_frame(&chunk) || chunk.size() < crypto_secretstream_xchacha20poly1305_ABYTES)
        return Damaged(path, "truncated at byte " + std::to_string(at));
      std::string plain(chunk.size() - crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
      unsigned long long plen = 0;
      unsigned char tag = 0;
      if (crypto_secretstream_xchacha20poly1305_pull(
              &st, reinterpret_cast<unsigned char*>(plain.data()), &plen, &tag,
              reinterpret_cast<const unsigned char*>(chunk.data()), chunk.size(),
              reinterpret_cast<const unsigned char*>(header.data()), header.size()) != 0)
        return Damaged(path, "altered (byte " + std::to_string(at) + " onwards does not verify)");
      plain.resize(plen);
      final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
      replication::MsgpackReader cr(plain);
      const uint32_t n = cr.ReadArrayHeader(replication::kMaxBatchEnvelopes);
      std::vector<std::string_view> raw;
      for (uint32_t i = 0; i < n && cr.ok(); ++i)
        raw.push_back(cr.ReadBin(replication::kDefaultLimits.max_envelope_bytes));
      cr.ExpectEnd();
      if (!cr.ok()) return Damaged(path, "malformed inside (" + cr.status().message() + ")");
      if (pass == 0) continue;
      std::vector<store::Store::Incoming> batch;
      for (std::string_view bytes : raw) {
        auto env = replication::Envelope::Parse(std::string(bytes));
        if (env.ok()) {
          batch.push_back({std::move(*env), std::nullopt});
        } else if (unparsed != nullptr) {
          ++*unparsed;
        }
      }
      TUPHAP_RETURN_IF_ERROR(take(batch));
    }
    if (pos != file.size()) return Damaged(path, "followed by bytes after its end");
  }
  return NodeIdText(sender);
}

Result<BundleImport> ImportBundle(Node& node, const std::string& path) {
  BundleImport out;
  uint64_t malformed = 0;
  auto take = [&](std::vector<store::Store::Incoming>& batch) -> Status {
    out.envelopes += batch.size();
    TUPHAP_ASSIGN_OR_RETURN(store::ApplyReport rep, node.Ingest(batch));
    out.report.AddCounts(rep);
    return Status::Ok();
  };
  TUPHAP_ASSIGN_OR_RETURN(out.sender, ReadBundle(node, path, take, &malformed));
  // Refused like any other envelope, though they never reached the store.
  TUPHAP_RETURN_IF_ERROR(node.store().CountRefusals("E_MALFORMED", malformed));
  out.envelopes += malformed;
  out.report.refused += malformed;
  if (malformed > 0) out.report.refusals["E_MALFORMED"] += malformed;
  return out;
}

}  // namespace tuphap::node
