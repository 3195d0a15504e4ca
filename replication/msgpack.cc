#include "replication/msgpack.h"

namespace tuphap::replication {
// The writer emits exactly what msgpack-cxx's packer emits (the shortest
// form of every value; MsgpackTest checks byte equality against it), but
// appends straight to one string: this is the hot path of every change.
namespace {

void Put(std::string* out, uint8_t tag, uint64_t v, int bytes) {
  char buf[9];
  buf[0] = static_cast<char>(tag);
  for (int i = 0; i < bytes; ++i) buf[1 + i] = static_cast<char>(v >> (8 * (bytes - 1 - i)));
  out->append(buf, static_cast<size_t>(bytes) + 1);
}

// A length header: fixed form below `fix_limit` (0 = none), else the
// 8/16/32-bit forms whose tags are given (tag8 0 = no 8-bit form).
void Length(std::string* out, uint64_t n, uint8_t fix_base, uint64_t fix_limit, uint8_t tag8,
            uint8_t tag16, uint8_t tag32) {
  if (n < fix_limit) {
    out->push_back(static_cast<char>(fix_base + n));
  } else if (tag8 != 0 && n < 0x100) {
    Put(out, tag8, n, 1);
  } else if (n < 0x10000) {
    Put(out, tag16, n, 2);
  } else {
    Put(out, tag32, n, 4);
  }
}

}  // namespace

void MsgpackWriter::Nil() { out_.push_back(static_cast<char>(0xc0)); }
void MsgpackWriter::Bool(bool b) { out_.push_back(static_cast<char>(b ? 0xc3 : 0xc2)); }

void MsgpackWriter::Uint(uint64_t v) {
  if (v < 0x80) {
    out_.push_back(static_cast<char>(v));
  } else if (v < 0x100) {
    Put(&out_, 0xcc, v, 1);
  } else if (v < 0x10000) {
    Put(&out_, 0xcd, v, 2);
  } else if (v < 0x100000000ULL) {
    Put(&out_, 0xce, v, 4);
  } else {
    Put(&out_, 0xcf, v, 8);
  }
}

void MsgpackWriter::Int(int64_t v) {
  if (v >= 0) {
    Uint(static_cast<uint64_t>(v));
  } else if (v >= -32) {
    out_.push_back(static_cast<char>(v));
  } else if (v >= -128) {
    Put(&out_, 0xd0, static_cast<uint64_t>(v), 1);
  } else if (v >= -32768) {
    Put(&out_, 0xd1, static_cast<uint64_t>(v), 2);
  } else if (v >= -2147483648LL) {
    Put(&out_, 0xd2, static_cast<uint64_t>(v), 4);
  } else {
    Put(&out_, 0xd3, static_cast<uint64_t>(v), 8);
  }
}

void MsgpackWriter::Str(std::string_view s) {
  Length(&out_, s.size(), 0xa0, 32, 0xd9, 0xda, 0xdb);
  out_.append(s);
}

void MsgpackWriter::Bin(std::span<const uint8_t> b) {
  Length(&out_, b.size(), 0, 0, 0xc4, 0xc5, 0xc6);
  out_.append(reinterpret_cast<const char*>(b.data()), b.size());
}

void MsgpackWriter::Ext(int8_t type, std::string_view data) {
  switch (data.size()) {
    case 1:
      out_.push_back(static_cast<char>(0xd4));
      break;
    case 2:
      out_.push_back(static_cast<char>(0xd5));
      break;
    case 4:
      out_.push_back(static_cast<char>(0xd6));
      break;
    case 8:
      out_.push_back(static_cast<char>(0xd7));
      break;
    case 16:
      out_.push_back(static_cast<char>(0xd8));
      break;
    default:
      Length(&out_, data.size(), 0, 0, 0xc7, 0xc8, 0xc9);
  }
  out_.push_back(static_cast<char>(type));
  out_.append(data);
}

void MsgpackWriter::ArrayHeader(uint32_t n) { Length(&out_, n, 0x90, 16, 0, 0xdc, 0xdd); }
void MsgpackWriter::MapHeader(uint32_t n) { Length(&out_, n, 0x80, 16, 0, 0xde, 0xdf); }

void MsgpackReader::Fail(const std::string& what) {
  if (status_.ok()) {
    status_ =
        Status::InvalidArgument("malformed msgpack at byte " + std::to_string(pos_) + ": " + what)
            .WithReason("E_FRAME_MALFORMED");
  }
}

bool MsgpackReader::Need(size_t n) {
  if (!status_.ok()) return false;
  if (data_.size() - pos_ < n) {
    Fail("truncated");
    return false;
  }
  return true;
}

uint64_t MsgpackReader::ReadBigEndian(size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(data_[pos_ + i]);
  pos_ += n;
  return v;
}

MsgpackReader::Type MsgpackReader::PeekType() const {
  if (!status_.ok() || pos_ >= data_.size()) return Type::kInvalid;
  const uint8_t t = static_cast<uint8_t>(data_[pos_]);
  if (t <= 0x7f || t >= 0xe0) return Type::kInt;
  if (t <= 0x8f) return Type::kMap;
  if (t <= 0x9f) return Type::kArray;
  if (t <= 0xbf) return Type::kStr;
  switch (t) {
    case 0xc0:
      return Type::kNil;
    case 0xc2:
    case 0xc3:
      return Type::kBool;
    case 0xc4:
    case 0xc5:
    case 0xc6:
      return Type::kBin;
    case 0xc7:
    case 0xc8:
    case 0xc9:
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
      return Type::kExt;
    case 0xca:
    case 0xcb:
      return Type::kFloat;
    case 0xd9:
    case 0xda:
    case 0xdb:
      return Type::kStr;
    case 0xdc:
    case 0xdd:
      return Type::kArray;
    case 0xde:
    case 0xdf:
      return Type::kMap;
    default:
      if (t >= 0xcc && t <= 0xd3) return Type::kInt;
      return Type::kInvalid;
  }
}

bool MsgpackReader::ReadNil() {
  if (!Need(1)) return false;
  if (static_cast<uint8_t>(data_[pos_]) != 0xc0) {
    Fail("expected nil");
    return false;
  }
  ++pos_;
  return true;
}

bool MsgpackReader::ReadBool() {
  if (!Need(1)) return false;
  const uint8_t t = static_cast<uint8_t>(data_[pos_]);
  if (t != 0xc2 && t != 0xc3) {
    Fail("expected a boolean");
    return false;
  }
  ++pos_;
  return t == 0xc3;
}

int64_t MsgpackReader::ReadInt() {
  if (!Need(1)) return 0;
  const uint8_t t = static_cast<uint8_t>(data_[pos_]);
  if (t <= 0x7f || (t >= 0xcc && t <= 0xcf)) {
    uint64_t v = ReadUint();
    if (v > static_cast<uint64_t>(INT64_MAX)) {
      Fail("integer out of range");
      return 0;
    }
    return static_cast<int64_t>(v);
  }
  if (t >= 0xe0) {
    ++pos_;
    return static_cast<int8_t>(t);
  }
  if (t < 0xd0 || t > 0xd3) {
    Fail("expected an integer");
    return 0;
  }
  const size_t n = size_t{1} << (t - 0xd0);
  ++pos_;
  if (!Need(n)) return 0;
  const uint64_t raw = ReadBigEndian(n);
  int64_t v;
  switch (n) {
    case 1:
      v = static_cast<int8_t>(raw);
      break;
    case 2:
      v = static_cast<int16_t>(raw);
      break;
    case 4:
      v = static_cast<int32_t>(raw);
      break;
    default:
      v = static_cast<int64_t>(raw);
      break;
  }
  // Canonical: signed forms only for negatives too large for a shorter form.
  const int64_t floor = n == 1 ? -32 : n == 2 ? -128 : n == 4 ? -32768 : -2147483648LL;
  if (v >= floor) Fail("integer not in its shortest form");
  return v;
}

uint64_t MsgpackReader::ReadUint() {
  if (!Need(1)) return 0;
  const uint8_t t = static_cast<uint8_t>(data_[pos_]);
  if (t <= 0x7f) {
    ++pos_;
    return t;
  }
  if (t < 0xcc || t > 0xcf) {
    Fail("expected an unsigned integer");
    return 0;
  }
  const size_t n = size_t{1} << (t - 0xcc);
  ++pos_;
  if (!Need(n)) return 0;
  const uint64_t v = ReadBigEndian(n);
  const uint64_t floor = n == 1 ? 0x80 : n == 2 ? 0x100 : n == 4 ? 0x10000 : 0x100000000ULL;
  if (v < floor) Fail("integer not in its shortest form");
  return v;
}

size_t MsgpackReader::ReadLength(uint8_t tag, uint8_t fix_base, uint8_t fix_limit, uint8_t tag8,
                                 uint8_t tag16, uint8_t tag32) {
  size_t len;
  size_t floor = 0;
  if (fix_limit != 0 && tag >= fix_base && tag < fix_base + fix_limit) {
    ++pos_;
    return tag - fix_base;
  }
  if (tag8 != 0 && tag == tag8) {
    ++pos_;
    if (!Need(1)) return 0;
    len = ReadBigEndian(1);
    floor = fix_limit;
  } else if (tag == tag16) {
    ++pos_;
    if (!Need(2)) return 0;
    len = ReadBigEndian(2);
    floor = tag8 != 0 ? 0x100 : fix_limit;
  } else if (tag == tag32) {
    ++pos_;
    if (!Need(4)) return 0;
    len = ReadBigEndian(4);
    floor = 0x10000;
  } else {
    Fail("unexpected type");
    return 0;
  }
  if (len < floor) Fail("length not in its shortest form");
  return len;
}

std::string_view MsgpackReader::ReadStr(size_t max_len) {
  if (!Need(1)) return {};
  const size_t len = ReadLength(static_cast<uint8_t>(data_[pos_]), 0xa0, 32, 0xd9, 0xda, 0xdb);
  if (len > max_len) Fail("string longer than " + std::to_string(max_len) + " bytes");
  if (!Need(len)) return {};
  std::string_view s = data_.substr(pos_, len);
  pos_ += len;
  return s;
}

std::string_view MsgpackReader::ReadBin(size_t max_len) {
  if (!Need(1)) return {};
  const uint8_t t = static_cast<uint8_t>(data_[pos_]);
  if (t < 0xc4 || t > 0xc6) {
    Fail("expected binary data");
    return {};
  }
  const size_t len = ReadLength(t, 0, 0, 0xc4, 0xc5, 0xc6);
  if (len > max_len) Fail("binary data longer than " + std::to_string(max_len) + " bytes");
  if (!Need(len)) return {};
  std::string_view s = data_.substr(pos_, len);
  pos_ += len;
  return s;
}

void MsgpackReader::ReadBinFixed(std::span<uint8_t> out) {
  std::string_view b = ReadBin(out.size());
  if (!ok()) return;
  if (b.size() != out.size()) {
    Fail("expected " + std::to_string(out.size()) + " bytes of binary data");
    return;
  }
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(b[i]);
}

std::string_view MsgpackReader::ReadExt(int8_t* type, size_t max_len) {
  if (!Need(1)) return {};
  const uint8_t t = static_cast<uint8_t>(data_[pos_]);
  size_t len;
  if (t >= 0xd4 && t <= 0xd8) {
    len = size_t{1} << (t - 0xd4);
    ++pos_;
  } else if (t >= 0xc7 && t <= 0xc9) {
    const size_t n = size_t{1} << (t - 0xc7);
    ++pos_;
    if (!Need(n)) return {};
    len = ReadBigEndian(n);
    const bool fixable = len == 1 || len == 2 || len == 4 || len == 8 || len == 16;
    const size_t floor = n == 1 ? 0 : n == 2 ? 0x100 : 0x10000;
    if ((n == 1 && fixable) || len < floor) Fail("extension length not in its shortest form");
  } else {
    Fail("expected an extension value");
    return {};
  }
  if (len > max_len) Fail("extension value too long");
  if (!Need(1 + len)) return {};
  *type = static_cast<int8_t>(data_[pos_]);
  ++pos_;
  std::string_view s = data_.substr(pos_, len);
  pos_ += len;
  return s;
}

uint32_t MsgpackReader::ReadArrayHeader(uint32_t max_n) {
  if (!Need(1)) return 0;
  const size_t n = ReadLength(static_cast<uint8_t>(data_[pos_]), 0x90, 16, 0, 0xdc, 0xdd);
  if (!ok()) return 0;
  // Every element takes at least one byte: a count beyond the bytes left is a lie.
  if (n > max_n || n > data_.size() - pos_) {
    Fail("array of " + std::to_string(n) + " elements is over the limit");
    return 0;
  }
  return static_cast<uint32_t>(n);
}

uint32_t MsgpackReader::ReadMapHeader(uint32_t max_n) {
  if (!Need(1)) return 0;
  const size_t n = ReadLength(static_cast<uint8_t>(data_[pos_]), 0x80, 16, 0, 0xde, 0xdf);
  if (!ok()) return 0;
  if (n > max_n || n * 2 > data_.size() - pos_) {
    Fail("map of " + std::to_string(n) + " entries is over the limit");
    return 0;
  }
  return static_cast<uint32_t>(n);
}

void MsgpackReader::ExpectArray(uint32_t n) {
  const uint32_t got = ReadArrayHeader();
  if (ok() && got != n)
    Fail("expected an array of " + std::to_string(n) + " elements, got " + std::to_string(got));
}

void MsgpackReader::Skip(int max_depth) {
  if (max_depth <= 0) {
    Fail("nested too deeply");
    return;
  }
  switch (PeekType()) {
    case Type::kNil:
      ReadNil();
      break;
    case Type::kBool:
      ReadBool();
      break;
    case Type::kInt: {
      // A positive integer may be above INT64_MAX (a uint64 seq or HLC):
      // valid msgpack, so it is read as unsigned, not refused as ReadInt would.
      const uint8_t t = static_cast<uint8_t>(data_[pos_]);
      if (t <= 0x7f || (t >= 0xcc && t <= 0xcf)) {
        ReadUint();
      } else {
        ReadInt();
      }
      break;
    }
    case Type::kStr:
      ReadStr();
      break;
    case Type::kBin:
      ReadBin();
      break;
    case Type::kExt: {
      int8_t t;
      ReadExt(&t);
      break;
    }
    case Type::kFloat: {
      const size_t n = static_cast<uint8_t>(data_[pos_]) == 0xca ? 4 : 8;
      ++pos_;
      if (Need(n)) pos_ += n;
      break;
    }
    case Type::kArray: {
      const uint32_t n = ReadArrayHeader();
      for (uint32_t i = 0; i < n && ok(); ++i) Skip(max_depth - 1);
      break;
    }
    case Type::kMap: {
      const uint32_t n = ReadMapHeader();
      for (uint32_t i = 0; i < 2 * n && ok(); ++i) Skip(max_depth - 1);
      break;
    }
    case Type::kInvalid:
      Fail(pos_ >= data_.size() ? "truncated" : "invalid type byte");
      break;
  }
}

void MsgpackReader::ExpectEnd() {
  if (ok() && pos_ != data_.size()) Fail("unexpected bytes after the value");
}

}  // namespace tuphap::replication
