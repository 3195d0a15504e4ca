// Bundle files (node/bundle.cc): the hub reads a file the commune node made
// for it. Two modes, by the first input byte:
//  even: the rest is the whole file (length-prefixed header, signature,
//        encrypted chunks): the framing, the header and the checks before
//        decryption meet hostile bytes;
//  odd:  the rest is the plaintext chunks (fuzz_world.h, SplitFrames), which
//        the harness signs and encrypts exactly as the sender does, so the
//        chunk decoding and envelope parsing behind the cryptography meet
//        hostile bytes too.
// Never a crash; a bundle read whole hands over every envelope it holds
// (taken + unparsed = what its chunks list), and nothing is handed over
// from a file that fails. Seeds: a real `bundle export --all` file and its
// real chunks.
#include <sodium.h>

#include <cstdlib>

#include "node/bundle.h"
#include "replication/msgpack.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/fuzz_world.h"

using namespace tuphap;

namespace {

void PutU32(std::string* out, size_t n) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((n >> (8 * i)) & 0xff));
}

// A bundle from the commune node to the hub with these plaintext chunks
// (the last one final), as ExportBundle writes it (docs/protocol.md).
std::string Seal(const std::vector<std::string>& chunks) {
  fuzz::World& w = fuzz::TheWorld();
  uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
  crypto_secretstream_xchacha20poly1305_keygen(key);
  crypto_secretstream_xchacha20poly1305_state st;
  uint8_t ss_header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  crypto_secretstream_xchacha20poly1305_init_push(&st, ss_header, key);
  replication::MsgpackWriter hw;
  hw.ArrayHeader(6);
  hw.Str("tuphap-bundle");
  hw.Uint(1);
  hw.Bin(w.commune->sign_key());
  hw.Bin(w.hub->box_key());
  hw.Bin(replication::SealTo(w.hub->box_key(),
                             std::string_view(reinterpret_cast<char*>(key), sizeof key)));
  hw.Bin(std::string_view(reinterpret_cast<char*>(ss_header), sizeof ss_header));
  const std::string header = hw.Take();
  const replication::Signature sig = w.commune_key->Sign("tuphap/bundle/v1", header);
  std::string file;
  PutU32(&file, header.size());
  file += header;
  PutU32(&file, sig.size());
  file.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    std::string c(chunks[i].size() + crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
    unsigned long long clen = 0;
    crypto_secretstream_xchacha20poly1305_push(
        &st, reinterpret_cast<unsigned char*>(c.data()), &clen,
        reinterpret_cast<const unsigned char*>(chunks[i].data()), chunks[i].size(),
        reinterpret_cast<const unsigned char*>(header.data()), header.size(),
        i + 1 == chunks.size() ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    c.resize(clen);
    PutU32(&file, c.size());
    file += c;
  }
  return file;
}

// The envelopes a plaintext chunk lists, or -1 when it is not a list of bins.
long Listed(std::string_view chunk) {
  replication::MsgpackReader r(chunk);
  const uint32_t n = r.ReadArrayHeader();
  for (uint32_t i = 0; i < n && r.ok(); ++i) r.ReadBin();
  r.ExpectEnd();
  return r.ok() ? static_cast<long>(n) : -1;
}

// The real bundle's plaintext chunks, opened with the hub's key.
std::vector<std::string> RealChunks() {
  fuzz::World& w = fuzz::TheWorld();
  const std::string& f = w.bundle_file;
  std::vector<std::string_view> frames;
  for (size_t pos = 0; pos + 4 <= f.size();) {
    size_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<uint8_t>(f[pos + i]);
    frames.push_back(std::string_view(f).substr(pos + 4, n));
    pos += 4 + n;
  }
  replication::MsgpackReader r(frames.at(0));
  r.ExpectArray(6);
  r.ReadStr();
  r.ReadUint();
  r.ReadBin();
  r.ReadBin();
  const std::string_view sealed = r.ReadBin();
  const std::string_view ss_header = r.ReadBin();
  auto key = replication::OpenSealedBox((*w.hub->UnlockedSecrets())->box, sealed);
  FUZZ_FAIL_IF(!key.ok());
  crypto_secretstream_xchacha20poly1305_state st;
  crypto_secretstream_xchacha20poly1305_init_pull(
      &st, reinterpret_cast<const unsigned char*>(ss_header.data()), key->data());
  std::vector<std::string> out;
  for (size_t i = 2; i < frames.size(); ++i) {
    std::string plain(frames[i].size(), '\0');
    unsigned long long plen = 0;
    unsigned char tag = 0;
    FUZZ_FAIL_IF(crypto_secretstream_xchacha20poly1305_pull(
                     &st, reinterpret_cast<unsigned char*>(plain.data()), &plen, &tag,
                     reinterpret_cast<const unsigned char*>(frames[i].data()), frames[i].size(),
                     reinterpret_cast<const unsigned char*>(frames[0].data()),
                     frames[0].size()) != 0);
    plain.resize(plen);
    out.push_back(plain);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  fuzz::World& w = fuzz::TheWorld();
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool structured = (data[0] & 1) != 0;
  long expected = 0;
  std::string file;
  if (structured) {
    const std::vector<std::string> chunks = fuzz::SplitFrames(rest);
    if (chunks.empty()) return 0;
    for (const auto& c : chunks) {
      const long n = Listed(c);
      expected = expected < 0 || n < 0 ? -1 : expected + n;
    }
    file = Seal(chunks);
  } else {
    file.assign(rest);
  }
  const std::string path = w.Scratch("fuzz.bundle");
  fuzz::WriteScratch(path, file);
  long taken = 0;
  uint64_t unparsed = 0;
  auto read = node::ReadBundle(
      *w.hub, path,
      [&](std::vector<store::Store::Incoming>& chunk) {
        for (const auto& in : chunk) {
          // What is handed over parsed: its bytes say what it is.
          FUZZ_FAIL_IF(replication::Envelope::Parse(in.envelope.bytes()).ok() == false);
        }
        taken += static_cast<long>(chunk.size());
        return Status::Ok();
      },
      &unparsed);
  if (read.ok()) {
    FUZZ_FAIL_IF(structured && expected >= 0 && taken + static_cast<long>(unparsed) != expected);
  } else {
    FUZZ_FAIL_IF(taken > 0);  // handed envelopes over from a bundle that fails
  }
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  const fuzz::World& w = fuzz::TheWorld();
  const std::vector<std::string> chunks = RealChunks();
  return {'\0' + w.bundle_file, '\1' + fuzz::JoinFrames(chunks),
          '\1' + fuzz::JoinFrames({chunks[0], chunks[0]})};
}
