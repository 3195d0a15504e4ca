// Golden vectors of docs/protocol.md: every sync message, the receipt a hub
// signs, and a bundle file. See golden.h.
#include <gtest/gtest.h>
#include <sodium.h>

#include "replication/msgpack.h"
#include "replication/protocol.h"
#include "tests/golden/golden.h"
#include "tests/golden/objects.h"

namespace tuphap::golden {
namespace {

using replication::FeedHeadWire;
using replication::Message;

constexpr const char* kDoc = "protocol.md";

constexpr const char* kHello =
    "950101c4208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f"
    "5b8fc9b394a7636f6d6d756e659194c4208139770ea87d175f56a35466c34c7e"
    "cccb8d8a91b4ee37a25df60f5b8fc9b394a5313835363802c420123f1b08ce54"
    "45a9c189c0f64fc577e2ee8afb365811b41c6e333f5551651c3d";
constexpr const char* kHelloSummary =
    "960102c420ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d77268793"
    "33dbdabe7ca3687562909201929201c410aa1b1a8acf3fbc08a18f593f1db7b6"
    "009201c4109615eae025c34d31d22d289cccce743e";
constexpr const char* kHeads =
    "9308c39194c4208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25d"
    "f60f5b8fc9b394a5313835363802c420123f1b08ce5445a9c189c0f64fc577e2"
    "ee8afb365811b41c6e333f5551651c3d";
constexpr const char* kBatch =
    "93020191c5011a93c4569801c420ca93ac1705187071d67b83c7ff0efe8108e8"
    "ec4530575d7726879333dbdabe7ca350343201c4200000000000000000000000"
    "000000000000000000000000000000000000000000cf0197be222c0000000000"
    "c47d94a0ad7472757374206f626a65637473909192d9465f636572742d383133"
    "3937373065613837643137356635366133353436366333346337656363636238"
    "64386139316234656533376132356466363066356238666339623339349293a5"
    "2474797065ac74727573745f6f626a6563749093a46b696e64a46365727490c4"
    "407e2893c172dd935e6561cf3f53f84217d02763614cd42715c990a9282f7ae4"
    "f958d88b6c1deb18a2f4cfd35b95651b7a70f555cad7cdea03cd76c7ed966178"
    "02";
constexpr const char* kAck =
    "950301009194c420ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d77"
    "26879333dbdabe7ca350343201c420709b63df93fca3b9b23e1053c0c174a00e"
    "57b12f591f7f194b1144dcfdc3eb74c440d04aa63b67fe1bd96b3c6afd7fbee6"
    "36030e391b03941e66078970dc12517cd1c4df43378b4ed0433c44da4017b57e"
    "671309180aef65060cd567e132f561390e";
constexpr const char* kReceiptBytes =
    "940301009194c420ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d77"
    "26879333dbdabe7ca350343201c420709b63df93fca3b9b23e1053c0c174a00e"
    "57b12f591f7f194b1144dcfdc3eb74";
constexpr const char* kDone = "9104";
constexpr const char* kError =
    "9305a9455f56455253494f4ed93170726f746f636f6c2076657273696f6e2032"
    "206973206e6f742073706f6b656e2068657265202876657273696f6e203129";
constexpr const char* kQuery =
    "940601ab7265636f6e2e726f6f7473c42493ba30314a5a303030303030303030"
    "30303030303030303030303030a091a53138353638";
constexpr const char* kAnswer =
    "930701c41c9192a531383536389201c410333333333333333333333333333333"
    "33";

FeedHeadWire Head(const replication::Envelope& e) {
  return {e.header().origin, e.header().scope, e.header().seq, e.hash()};
}

replication::Hello CommuneHello() {
  replication::Hello h;
  h.node = K().commune.public_key();
  h.role = "commune";
  h.heads = {Head(SealedEnvelope())};
  return h;
}

replication::Ack HubAck() {
  replication::Ack a;
  a.batch_no = 1;
  a.refused = 0;
  a.heads = {Head(ClearEnvelope())};
  replication::SignReceipt(&a, K().hub);
  return a;
}

std::string QueryBody() {
  replication::MsgpackWriter w;
  w.ArrayHeader(3);
  w.Str("01JZ0000000000000000000000");
  w.Str("");
  w.ArrayHeader(1);
  w.Str(kCommune);
  return w.Take();
}

std::string AnswerBody() {
  replication::MsgpackWriter w;
  w.ArrayHeader(1);
  w.ArrayHeader(2);
  w.Str(kCommune);
  w.ArrayHeader(2);
  w.Uint(1);
  w.Bin(Fill(0x33, 16));
  return w.Take();
}

// Decodes the vector and checks it is the message `want` encodes to.
template <class T>
T DecodeAs(const char* hex) {
  auto m = replication::Decode(Unhex(hex));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m.ok() && std::holds_alternative<T>(*m));
  return m.ok() && std::holds_alternative<T>(*m) ? std::get<T>(*m) : T{};
}

// Version 2: the hub's HELLO in the summary form over two heads (the
// commune's feed of the HELLO above and the hub's P42 feed of the ACK
// below) in 2 buckets, and the HEADS expanding the commune's.
replication::Hello HubSummaryHello() {
  replication::Hello h;
  h.version = replication::kSummaryVersion;
  h.node = K().hub.public_key();
  h.role = "hub";
  h.summary = replication::Summarise({Head(SealedEnvelope()), Head(ClearEnvelope())}, 1);
  return h;
}

TEST(ProtocolGolden, SummaryHelloAndHeads) {
  ExpectVector(kDoc, "hello-summary", replication::Encode(HubSummaryHello()), kHelloSummary);
  const auto h = DecodeAs<replication::Hello>(kHelloSummary);
  EXPECT_EQ(h.version, 2u);
  EXPECT_EQ(h.summary, HubSummaryHello().summary);
  const replication::HeadsMessage heads{true, {Head(SealedEnvelope())}};
  ExpectVector(kDoc, "heads", replication::Encode(heads), kHeads);
  EXPECT_EQ(DecodeAs<replication::HeadsMessage>(kHeads).heads, heads.heads);
}

TEST(ProtocolGolden, Hello) {
  ExpectVector(kDoc, "hello", replication::Encode(CommuneHello()), kHello);
  const auto h = DecodeAs<replication::Hello>(kHello);
  EXPECT_EQ(h.version, 1u);
  EXPECT_EQ(h.node, K().commune.public_key());
  EXPECT_EQ(h.role, "commune");
  EXPECT_EQ(h.heads, CommuneHello().heads);
}

TEST(ProtocolGolden, Batch) {
  replication::Batch b;
  b.batch_no = 1;
  b.envelopes = {ClearEnvelope().bytes()};
  ExpectVector(kDoc, "batch", replication::Encode(b), kBatch);
  const auto d = DecodeAs<replication::Batch>(kBatch);
  EXPECT_EQ(d.batch_no, 1u);
  EXPECT_EQ(d.envelopes, b.envelopes);
}

TEST(ProtocolGolden, AckWithTheHubsReceipt) {
  const replication::Ack a = HubAck();
  ExpectVector(kDoc, "ack", replication::Encode(a), kAck);
  ExpectVector(kDoc, "receipt-bytes", replication::ReceiptBytes(a), kReceiptBytes);
  const auto d = DecodeAs<replication::Ack>(kAck);
  EXPECT_EQ(d.heads, a.heads);
  EXPECT_TRUE(replication::ReceiptValid(d, K().hub.public_key()));
  // The receipt: Ed25519 over "tuphap/receipt/1" || the ACK's first four
  // elements as their own array.
  EXPECT_TRUE(replication::VerifySignature(K().hub.public_key(), "tuphap/receipt/1",
                                           Unhex(kReceiptBytes), d.receipt));
  EXPECT_FALSE(replication::ReceiptValid(d, K().commune.public_key()));
}

TEST(ProtocolGolden, DoneErrorQueryAnswer) {
  ExpectVector(kDoc, "done", replication::Encode(replication::Done{}), kDone);
  DecodeAs<replication::Done>(kDone);

  const replication::ErrorMessage e{"E_VERSION",
                                    "protocol version 2 is not spoken here (version 1)"};
  ExpectVector(kDoc, "error", replication::Encode(e), kError);
  const auto de = DecodeAs<replication::ErrorMessage>(kError);
  EXPECT_EQ(de.code, e.code);
  EXPECT_EQ(de.message, e.message);

  const replication::Query q{1, "recon.roots", QueryBody()};
  ExpectVector(kDoc, "query", replication::Encode(q), kQuery);
  const auto dq = DecodeAs<replication::Query>(kQuery);
  EXPECT_EQ(dq.query_no, 1u);
  EXPECT_EQ(dq.what, "recon.roots");
  EXPECT_EQ(dq.body, QueryBody());

  const replication::Answer a{1, AnswerBody()};
  ExpectVector(kDoc, "answer", replication::Encode(a), kAnswer);
  const auto da = DecodeAs<replication::Answer>(kAnswer);
  EXPECT_EQ(da.query_no, 1u);
  EXPECT_EQ(da.body, AnswerBody());
}

// --- a bundle file ---------------------------------------------------------

// The stream key (32 x 08) sealed to the commune's X25519 key (random when
// made, a fixed input here), and the secretstream header (24 x 09).
constexpr const char* kBundleSealedKey =
    "e00f525d753766f3f2eae688888a1fc2fa43d329165fcc5e61a0ccf6cae53c01"
    "6cf9ee61e0fc32b2d50f7e9c13c541734d5799ede534c95d76d656b6d6944f1e"
    "21504d68565f301514db6efbaf464a40";
const std::string kStreamKey = Fill(0x08);
const std::string kStreamHeader = Fill(0x09, 24);

constexpr const char* kBundleHeader =
    "96ad7475706861702d62756e646c6501c420ca93ac1705187071d67b83c7ff0e"
    "fe8108e8ec4530575d7726879333dbdabe7cc4205dfedd3b6bd47f6fa28ee15d"
    "969d5bb0ea53774d488bdaf9df1c6e0124b3ef22c450e00f525d753766f3f2ea"
    "e688888a1fc2fa43d329165fcc5e61a0ccf6cae53c016cf9ee61e0fc32b2d50f"
    "7e9c13c541734d5799ede534c95d76d656b6d6944f1e21504d68565f301514db"
    "6efbaf464a40c418090909090909090909090909090909090909090909090909";
constexpr const char* kBundle =
    "000000c096ad7475706861702d62756e646c6501c420ca93ac1705187071d67b"
    "83c7ff0efe8108e8ec4530575d7726879333dbdabe7cc4205dfedd3b6bd47f6f"
    "a28ee15d969d5bb0ea53774d488bdaf9df1c6e0124b3ef22c450e00f525d7537"
    "66f3f2eae688888a1fc2fa43d329165fcc5e61a0ccf6cae53c016cf9ee61e0fc"
    "32b2d50f7e9c13c541734d5799ede534c95d76d656b6d6944f1e21504d68565f"
    "301514db6efbaf464a40c4180909090909090909090909090909090909090909"
    "090909090000004064d4cde2c048b14f53e9b63e20bf46c0291295df930a5740"
    "2860b999012b985aeb0065f81092a4c864680c1cffc9184fff27980601030ff8"
    "23671f8180abf9010000012f4888b2888bcb1e3fed7ad4a16874b5e7d42403a5"
    "91b15f4a2471517b54f2aa328e7b16b552b472ab3c73bb334b61ab2aad670122"
    "f0c531ce65d902f1d62fad7e76f0983933cfdf95e377b7ab529b02a3eb38de6d"
    "891d4d6a609001cf274af7f83b527af3d437f54a67c6fc9c199f49119e7cbaab"
    "65aa090a02d40d5ebf5c7ee49155ea702814e1e53df2999ab8a951dcbb339b4a"
    "4421b69cd33ab7c53d4118a729212d4c5f5b5a6440b1f64021b932852457cc3e"
    "8b3b08ed4c60024fd9519d1b86dae87388809e6d48e253b807aad8f803ba164e"
    "665cc2e9495229df3526b278d38ec739a73c269c1f272eec1d23ea400d0e0265"
    "f01a8d4ca90f8efc33cc37f9be1503373825d90908c32de1b0a0f8c6aa69044d"
    "4d277d6c8be3f333b5aaf74e5409e35bd42ce3ed2fe7fdbe1e6360";

std::string Frame(std::string_view bytes) {
  std::string out;
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((bytes.size() >> (8 * i)) & 0xff));
  out += bytes;
  return out;
}

std::string BundleHeader() {
  replication::MsgpackWriter w;
  w.ArrayHeader(6);
  w.Str("tuphap-bundle");
  w.Uint(1);
  w.Bin(K().hub.public_key());
  w.Bin(K().commune_box.public_key());
  w.Bin(Unhex(kBundleSealedKey));
  w.Bin(kStreamHeader);
  return w.Take();
}

// The hub's bundle for the commune holding its public envelope, one chunk.
std::string Bundle() {
  const std::string header = BundleHeader();
  replication::MsgpackWriter chunk;
  chunk.ArrayHeader(1);
  chunk.Bin(ClearEnvelope().bytes());
  const std::string& plain = chunk.bytes();
  // A push state made from the given header: the same as init_push would
  // make had it drawn that header (libsodium derives both alike).
  crypto_secretstream_xchacha20poly1305_state st;
  crypto_secretstream_xchacha20poly1305_init_pull(
      &st, reinterpret_cast<const unsigned char*>(kStreamHeader.data()),
      reinterpret_cast<const unsigned char*>(kStreamKey.data()));
  std::string c(plain.size() + crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
  crypto_secretstream_xchacha20poly1305_push(
      &st, reinterpret_cast<unsigned char*>(c.data()), nullptr,
      reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
      reinterpret_cast<const unsigned char*>(header.data()), header.size(),
      crypto_secretstream_xchacha20poly1305_TAG_FINAL);
  return Frame(header) + Frame(Bytes(K().hub.Sign("tuphap/bundle/v1", header))) + Frame(c);
}

TEST(ProtocolGolden, BundleOpensWithTheRecipientsKey) {
  ExpectVector(kDoc, "bundle-header", BundleHeader(), kBundleHeader);
  ExpectVector(kDoc, "bundle", Bundle(), kBundle);
  // Read back as the document says: three frames; the header signed by the
  // sender; the stream key opens with the recipient's key; the one chunk is
  // the final one and holds the envelope.
  const std::string file = Unhex(kBundle);
  size_t pos = 0;
  auto frame = [&]() {
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<uint8_t>(file[pos + i]);
    const std::string out = file.substr(pos + 4, n);
    pos += 4 + n;
    return out;
  };
  const std::string header = frame(), signature = frame(), chunk = frame();
  EXPECT_EQ(pos, file.size());
  EXPECT_EQ(header, Unhex(kBundleHeader));
  EXPECT_TRUE(
      replication::VerifySignature(K().hub.public_key(), "tuphap/bundle/v1", header, signature));
  auto key = replication::OpenSealedBox(K().commune_box, Unhex(kBundleSealedKey));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->view(), kStreamKey);
  crypto_secretstream_xchacha20poly1305_state st;
  ASSERT_EQ(crypto_secretstream_xchacha20poly1305_init_pull(
                &st, reinterpret_cast<const unsigned char*>(kStreamHeader.data()), key->data()),
            0);
  std::string plain(chunk.size() - crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
  unsigned char tag = 0;
  ASSERT_EQ(crypto_secretstream_xchacha20poly1305_pull(
                &st, reinterpret_cast<unsigned char*>(plain.data()), nullptr, &tag,
                reinterpret_cast<const unsigned char*>(chunk.data()), chunk.size(),
                reinterpret_cast<const unsigned char*>(header.data()), header.size()),
            0);
  EXPECT_EQ(tag, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
  replication::MsgpackReader r(plain);
  ASSERT_EQ(r.ReadArrayHeader(), 1u);
  EXPECT_EQ(r.ReadBin(), ClearEnvelope().bytes());
}

}  // namespace
}  // namespace tuphap::golden
