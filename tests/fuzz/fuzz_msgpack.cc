// Strict msgpack reader: never crashes, never reads past the input, and
// what it accepts re-encodes to the same bytes (one byte form per value).
#include <cstdlib>

#include "replication/msgpack.h"
#include "tests/fuzz/fuzz_target.h"

using tuphap::replication::MsgpackReader;
using tuphap::replication::MsgpackWriter;

namespace {

// Copies one value from r to w; false when r fails.
bool Copy(MsgpackReader& r, MsgpackWriter& w, int depth) {
  if (depth > 16) return false;
  switch (r.PeekType()) {
    case MsgpackReader::Type::kNil:
      r.ReadNil();
      w.Nil();
      break;
    case MsgpackReader::Type::kBool:
      w.Bool(r.ReadBool());
      break;
    case MsgpackReader::Type::kInt: {
      // Positive values may exceed int64: read as unsigned when they can.
      const MsgpackReader save = r;
      const uint64_t u = r.ReadUint();
      if (r.ok()) {
        w.Uint(u);
      } else {
        r = save;
        w.Int(r.ReadInt());
      }
      break;
    }
    case MsgpackReader::Type::kStr:
      w.Str(r.ReadStr());
      break;
    case MsgpackReader::Type::kBin:
      w.Bin(r.ReadBin());
      break;
    case MsgpackReader::Type::kExt: {
      int8_t t = 0;
      std::string_view d = r.ReadExt(&t);
      w.Ext(t, d);
      break;
    }
    case MsgpackReader::Type::kArray: {
      const uint32_t n = r.ReadArrayHeader();
      w.ArrayHeader(n);
      for (uint32_t i = 0; i < n; ++i) {
        if (!Copy(r, w, depth + 1)) return false;
      }
      break;
    }
    case MsgpackReader::Type::kMap: {
      const uint32_t n = r.ReadMapHeader();
      w.MapHeader(n);
      for (uint32_t i = 0; i < 2 * n; ++i) {
        if (!Copy(r, w, depth + 1)) return false;
      }
      break;
    }
    default:
      r.Skip();
      return false;  // floats: readable, not part of any tuphap schema
  }
  return r.ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  MsgpackReader r(in);
  MsgpackWriter w;
  if (Copy(r, w, 0) && r.ok()) {
    const std::string_view consumed = in.substr(0, r.position());
    FUZZ_FAIL_IF(w.bytes() != consumed);  // accepted a non-canonical form
  }
  FUZZ_FAIL_IF(r.position() > size);
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  MsgpackWriter w;
  w.ArrayHeader(5);
  w.Uint(300);
  w.Int(-70000);
  w.Str("Nguyễn");
  w.Bin(std::string(40, 'x'));
  w.MapHeader(1);
  w.Str("k");
  w.Ext(1, "[1]");
  return {w.bytes(), std::string("\x91\x91\x91\xc0", 4), std::string("\xdd\xff\xff\xff\xff", 5)};
}
