#include "replication/msgpack.h"

#include <gtest/gtest.h>

#include <msgpack.hpp>

namespace tuphap::replication {
namespace {

TEST(MsgpackTest, RoundTripsEveryTypeAtEverySizeBoundary) {
  MsgpackWriter w;
  const uint64_t uints[] = {
      0, 127, 128, 255, 256, 65535, 65536, 0xFFFFFFFFULL, 0x100000000ULL, UINT64_MAX};
  const int64_t ints[] = {-1,     -32,           -33,           -128,      -129, -32768,
                          -32769, -2147483648LL, -2147483649LL, INT64_MIN, 5};
  for (uint64_t u : uints) w.Uint(u);
  for (int64_t i : ints) w.Int(i);
  for (size_t n : {0, 31, 32, 255, 256, 65535, 65536}) w.Str(std::string(n, 'x'));
  for (size_t n : {0, 255, 256, 65536}) w.Bin(std::string(n, 'y'));
  for (size_t n : {1, 3, 16, 17, 300}) w.Ext(1, std::string(n, 'z'));
  w.ArrayHeader(15);
  w.ArrayHeader(16);
  w.MapHeader(15);
  w.MapHeader(16);
  w.Nil();
  w.Bool(true);

  MsgpackReader r(w.bytes());
  for (uint64_t u : uints) EXPECT_EQ(r.ReadUint(), u);
  for (int64_t i : ints) EXPECT_EQ(r.ReadInt(), i);
  for (size_t n : {0, 31, 32, 255, 256, 65535, 65536}) EXPECT_EQ(r.ReadStr().size(), n);
  for (size_t n : {0, 255, 256, 65536}) EXPECT_EQ(r.ReadBin().size(), n);
  for (size_t n : {1, 3, 16, 17, 300}) {
    int8_t t = 0;
    EXPECT_EQ(r.ReadExt(&t).size(), n);
    EXPECT_EQ(t, 1);
  }
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

// Our writer must write exactly what msgpack-cxx's packer writes.
TEST(MsgpackTest, WriterMatchesMsgpackCxxPackerByteForByte) {
  msgpack::sbuffer reference;
  msgpack::packer<msgpack::sbuffer> pk(reference);
  MsgpackWriter w;
  for (uint64_t u : std::initializer_list<uint64_t>{0, 1, 127, 128, 255, 256, 65535, 65536,
                                                    0xFFFFFFFFULL, 0x100000000ULL, UINT64_MAX}) {
    pk.pack_uint64(u);
    w.Uint(u);
  }
  for (int64_t i :
       std::initializer_list<int64_t>{0, 5, -1, -32, -33, -128, -129, -32768, -32769, -2147483648LL,
                                      -2147483649LL, INT64_MIN, 300, 70000}) {
    pk.pack_int64(i);
    w.Int(i);
  }
  for (size_t n : {0, 1, 31, 32, 255, 256, 65535, 65536}) {
    const std::string s(n, 'x');
    pk.pack_str(static_cast<uint32_t>(n));
    pk.pack_str_body(s.data(), static_cast<uint32_t>(n));
    w.Str(s);
    pk.pack_bin(static_cast<uint32_t>(n));
    pk.pack_bin_body(s.data(), static_cast<uint32_t>(n));
    w.Bin(s);
  }
  for (size_t n : {0, 1, 2, 3, 4, 8, 16, 17, 255, 256, 65536}) {
    const std::string s(n, 'e');
    pk.pack_ext(n, 1);
    pk.pack_ext_body(s.data(), static_cast<uint32_t>(n));
    w.Ext(1, s);
  }
  for (uint32_t n : {0u, 15u, 16u, 65535u, 65536u}) {
    pk.pack_array(n);
    w.ArrayHeader(n);
    pk.pack_map(n);
    w.MapHeader(n);
  }
  pk.pack_nil();
  w.Nil();
  pk.pack_true();
  w.Bool(true);
  pk.pack_false();
  w.Bool(false);
  EXPECT_EQ(w.bytes(), std::string(reference.data(), reference.size()));
}

TEST(MsgpackTest, MatchesMsgpackCxxUnpacker) {
  MsgpackWriter w;
  w.ArrayHeader(4);
  w.Int(-200);
  w.Str("Nguyễn");
  w.Bin(std::string("\x01\x02", 2));
  w.Uint(70000);
  msgpack::object_handle oh = msgpack::unpack(w.bytes().data(), w.bytes().size());
  auto v = oh.get().as<std::tuple<int, std::string, msgpack::type::raw_ref, unsigned>>();
  EXPECT_EQ(std::get<0>(v), -200);
  EXPECT_EQ(std::get<1>(v), "Nguyễn");
  EXPECT_EQ(std::get<3>(v), 70000u);
}

TEST(MsgpackTest, RefusesNonShortestForms) {
  // uint8 holding 5, int8 holding -1, str8 of 3 bytes, array16 of 1.
  for (std::string bad : {std::string("\xcc\x05", 2), std::string("\xd0\xff", 2),
                          std::string("\xd9\x03"
                                      "abc",
                                      5),
                          std::string("\xdc\x00\x01\x01", 4), std::string("\xd1\x00\x05", 3)}) {
    MsgpackReader r(bad);
    r.Skip();
    EXPECT_FALSE(r.ok()) << "accepted non-canonical bytes";
    EXPECT_EQ(r.status().reason(), "E_FRAME_MALFORMED");
  }
}

TEST(MsgpackTest, SizeHeaderBombIsRefusedWithoutAllocating) {
  // array32 claiming 4 billion elements, str32 claiming 4 GB.
  for (std::string bomb :
       {std::string("\xdd\xff\xff\xff\xff", 5), std::string("\xdb\xff\xff\xff\xff", 5),
        std::string("\xc6\xff\xff\xff\xff", 5)}) {
    MsgpackReader r(bomb);
    r.Skip();
    EXPECT_FALSE(r.ok());
  }
}

// Found by fuzz_reconcile_query: a reconcile answer echoing an asker's
// change reference with an HLC above INT64_MAX did not Skip as one value.
TEST(MsgpackTest, SkipTakesAnUnsignedIntegerAboveInt64Max) {
  const std::string big("\x92\xcf\xff\xff\xff\xff\xff\xff\xff\xfe\x01", 11);
  MsgpackReader r(big);
  r.Skip();
  r.ExpectEnd();
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.position(), big.size());
}

TEST(MsgpackTest, DeepNestingIsRefused) {
  std::string deep(100000, '\x91');
  deep.push_back('\xc0');
  MsgpackReader r(deep);
  r.Skip();
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("deep"), std::string::npos);
}

TEST(MsgpackTest, ErrorsStickAndSayWhere) {
  const std::string bytes("\x92\x01\xc1", 3);  // 0xc1 is never used
  MsgpackReader r(bytes);
  r.ExpectArray(2);
  EXPECT_EQ(r.ReadUint(), 1u);
  EXPECT_EQ(r.ReadUint(), 0u);
  EXPECT_EQ(r.ReadStr(), "");  // later reads return zero values
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("byte 2"), std::string::npos);
}

}  // namespace
}  // namespace tuphap::replication
