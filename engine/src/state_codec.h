// Binary encodings of state keys and values (docs/state.md). Integers are
// big-endian so keys sort numerically; signed ones have their sign bit flipped.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace zicht::engine::codec {

__extension__ typedef __int128 I128;
__extension__ typedef unsigned __int128 U128;

inline void PutU8(std::string* s, uint8_t v) {
  s->push_back(static_cast<char>(v));
}
inline void PutU16(std::string* s, uint16_t v) {
  s->push_back(static_cast<char>(v >> 8));
  s->push_back(static_cast<char>(v));
}
inline void PutU32(std::string* s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s->push_back(static_cast<char>(v >> (8 * i)));
}
inline void PutU64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>(v >> (8 * i)));
}
inline void PutI64(std::string* s, int64_t v) {
  PutU64(s, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
}
inline void PutI128(std::string* s, I128 v) {
  auto u = static_cast<U128>(v);
  PutU64(s, static_cast<uint64_t>(u >> 64));
  PutU64(s, static_cast<uint64_t>(u));
}
inline void PutBytes(std::string* s, std::string_view b) {
  PutU32(s, static_cast<uint32_t>(b.size()));
  s->append(b);
}

// Sequential reader; every Get fails softly (ok() turns false) on short input,
// so corrupt values are reported, never read out of bounds.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == data_.size(); }
  uint8_t U8() { return static_cast<uint8_t>(Take(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Take(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Take(4)); }
  uint64_t U64() { return Take(8); }
  int64_t I64() { return static_cast<int64_t>(Take(8) ^ (uint64_t{1} << 63)); }
  I128 Int128() {
    U128 hi = Take(8);
    U128 lo = Take(8);
    return static_cast<I128>((hi << 64) | lo);
  }
  std::string_view Bytes() {
    uint32_t n = U32();
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    std::string_view v = data_.substr(pos_, n);
    pos_ += n;
    return v;
  }

 private:
  uint64_t Take(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(data_[pos_ + i]);
    pos_ += n;
    return v;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace zicht::engine::codec
