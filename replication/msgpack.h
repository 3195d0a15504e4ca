// MessagePack in the one canonical form tuphap signs and hashes.
//
// Writing appends the shortest encoding of every value — byte for byte what
// msgpack-cxx's packer writes (tested against it), without its per-call
// overhead on the hot path. Reading untrusted bytes uses MsgpackReader, our own strict
// cursor: every length is checked against the bytes actually left before
// anything is allocated, non-shortest encodings are refused (so one logical
// value has exactly one byte form), and callers read a fixed schema, so
// nesting depth is bounded by the schema and not by the input. This avoids
// msgpack-cxx's unpacker defaults (4 GiB limits, unbounded depth;
// TOOLCHAIN.md) by construction rather than by configuration.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tuphap::replication {

// Appends canonical msgpack to a std::string.
class MsgpackWriter {
 public:
  MsgpackWriter() = default;
  explicit MsgpackWriter(size_t reserve) { out_.reserve(reserve); }

  void Nil();
  void Bool(bool b);
  void Uint(uint64_t v);
  void Int(int64_t v);
  void Str(std::string_view s);
  void Bin(std::span<const uint8_t> b);
  void Bin(std::string_view b) { Bin({reinterpret_cast<const uint8_t*>(b.data()), b.size()}); }
  void Ext(int8_t type, std::string_view data);
  void ArrayHeader(uint32_t n);
  void MapHeader(uint32_t n);
  // Appends bytes that are already msgpack.
  void Raw(std::string_view bytes) { out_.append(bytes); }

  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }
  // Empties the buffer but keeps its capacity, for reuse.
  void Clear() { out_.clear(); }

 private:
  std::string out_;
};

// Reads canonical msgpack from untrusted bytes. The first error sticks: later
// reads return zero values, and status() says what and where.
class MsgpackReader {
 public:
  enum class Type { kNil, kBool, kInt, kStr, kBin, kArray, kMap, kExt, kFloat, kInvalid };

  // Reads `data`, which must outlive the reader.
  explicit MsgpackReader(std::string_view data) : data_(data) {}
  explicit MsgpackReader(std::string&&) = delete;  // would dangle

  Type PeekType() const;
  bool ReadNil();
  bool ReadBool();
  uint64_t ReadUint();
  int64_t ReadInt();  // any integer that fits int64
  std::string_view ReadStr(size_t max_len = SIZE_MAX);
  std::string_view ReadBin(size_t max_len = SIZE_MAX);
  // Reads exactly `n` bytes of bin into `out`.
  void ReadBinFixed(std::span<uint8_t> out);
  std::string_view ReadExt(int8_t* type, size_t max_len = SIZE_MAX);
  // Header of an array/map; `max_n` bounds the count (an error above it).
  uint32_t ReadArrayHeader(uint32_t max_n = UINT32_MAX);
  uint32_t ReadMapHeader(uint32_t max_n = UINT32_MAX);
  // Requires an array header of exactly n elements.
  void ExpectArray(uint32_t n);
  // Skips one value of any type, with a depth bound.
  void Skip(int max_depth = 16);

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  bool AtEnd() const { return pos_ == data_.size(); }
  size_t position() const { return pos_; }
  // Fails unless everything was consumed.
  void ExpectEnd();
  void Fail(const std::string& what);

 private:
  bool Need(size_t n);
  uint64_t ReadBigEndian(size_t n);
  size_t ReadLength(uint8_t tag, uint8_t fix_mask_base, uint8_t fix_limit, uint8_t tag8,
                    uint8_t tag16, uint8_t tag32);

  std::string_view data_;
  size_t pos_ = 0;
  Status status_;
};

}  // namespace tuphap::replication
