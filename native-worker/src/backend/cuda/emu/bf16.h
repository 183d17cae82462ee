// Emulated cuda_bf16.h: __nv_bfloat16 stored as its 16 bits, converted from float exactly as CUDA does (round to
// nearest even; every NaN becomes the canonical 0x7fff; values past the largest finite bf16 round to Inf), and the
// conversions and operators CUDA declares, so code that compiles here compiles with nvcc too.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

namespace grove::cuda::emu {

// The bits of `from` read as a `To` of the same size (std::bit_cast, which C++17 users of this header lack).
template <typename To, typename From>
inline To bit_copy(From from) {
  static_assert(sizeof(To) == sizeof(From), "bit_copy needs types of one size");
  To to;
  std::memcpy(&to, &from, sizeof to);
  return to;
}

inline uint32_t float_bits(float f) { return bit_copy<uint32_t>(f); }
inline float bits_float(uint32_t u) { return bit_copy<float>(u); }

// cuda_bf16.hpp's __float2bfloat16_rn for the host, which matches the device's cvt.rn.bf16.f32.
inline uint16_t float_to_bf16_bits(float f) {
  const uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fff;
  const uint32_t remainder = u << 16;
  uint16_t r = static_cast<uint16_t>(u >> 16);
  if (remainder > 0x80000000u || (remainder == 0x80000000u && (r & 1u))) ++r;
  return r;
}

inline float bf16_bits_to_float(uint16_t b) { return bits_float(static_cast<uint32_t>(b) << 16); }

// Float to integer as CUDA's __float2int_rz family: truncation, NaN to 0, saturation at the type's range.
template <typename I>
I float_to_int_rz(float f) {
  if (f != f) return 0;
  const double d = static_cast<double>(f);
  if (d <= static_cast<double>(INT64_MIN) || d < static_cast<double>(std::numeric_limits<I>::min()))
    return std::numeric_limits<I>::min();
  if (d >= static_cast<double>(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
  return static_cast<I>(d);
}

}  // namespace grove::cuda::emu

struct __nv_bfloat16_raw {
  unsigned short x;
};

struct alignas(2) __nv_bfloat16 {
  unsigned short __x;

  __nv_bfloat16() = default;
  __nv_bfloat16(const __nv_bfloat16_raw& r) : __x(r.x) {}
  __nv_bfloat16(float f) : __x(grove::cuda::emu::float_to_bf16_bits(f)) {}
  __nv_bfloat16(double d) : __x(grove::cuda::emu::float_to_bf16_bits(static_cast<float>(d))) {}
  __nv_bfloat16(short v) : __nv_bfloat16(static_cast<float>(v)) {}
  __nv_bfloat16(unsigned short v) : __nv_bfloat16(static_cast<float>(v)) {}
  __nv_bfloat16(int v) : __nv_bfloat16(static_cast<float>(v)) {}
  __nv_bfloat16(unsigned int v) : __nv_bfloat16(static_cast<float>(v)) {}
  __nv_bfloat16(long v) : __nv_bfloat16(static_cast<float>(v)) {}
  __nv_bfloat16(unsigned long v) : __nv_bfloat16(static_cast<float>(v)) {}
  __nv_bfloat16(long long v) : __nv_bfloat16(static_cast<float>(v)) {}
  __nv_bfloat16(unsigned long long v) : __nv_bfloat16(static_cast<float>(v)) {}

  operator __nv_bfloat16_raw() const { return {__x}; }
  operator float() const { return grove::cuda::emu::bf16_bits_to_float(__x); }
  operator signed char() const { return grove::cuda::emu::float_to_int_rz<signed char>(float(*this)); }
  operator unsigned char() const { return grove::cuda::emu::float_to_int_rz<unsigned char>(float(*this)); }
  operator char() const { return grove::cuda::emu::float_to_int_rz<char>(float(*this)); }
  operator short() const { return grove::cuda::emu::float_to_int_rz<short>(float(*this)); }
  operator unsigned short() const { return grove::cuda::emu::float_to_int_rz<unsigned short>(float(*this)); }
  operator int() const { return grove::cuda::emu::float_to_int_rz<int>(float(*this)); }
  operator unsigned int() const { return grove::cuda::emu::float_to_int_rz<unsigned int>(float(*this)); }
  operator long() const { return grove::cuda::emu::float_to_int_rz<long>(float(*this)); }
  operator unsigned long() const { return grove::cuda::emu::float_to_int_rz<unsigned long>(float(*this)); }
  operator long long() const { return grove::cuda::emu::float_to_int_rz<long long>(float(*this)); }
  operator unsigned long long() const {
    return grove::cuda::emu::float_to_int_rz<unsigned long long>(float(*this));
  }
  operator bool() const { return (__x & 0x7fffu) != 0; }

  __nv_bfloat16& operator=(const __nv_bfloat16_raw& r) { __x = r.x; return *this; }
  __nv_bfloat16& operator=(float f) { return *this = __nv_bfloat16(f); }
  __nv_bfloat16& operator=(double d) { return *this = __nv_bfloat16(d); }
  __nv_bfloat16& operator=(short v) { return *this = __nv_bfloat16(v); }
  __nv_bfloat16& operator=(unsigned short v) { return *this = __nv_bfloat16(v); }
  __nv_bfloat16& operator=(int v) { return *this = __nv_bfloat16(v); }
  __nv_bfloat16& operator=(unsigned int v) { return *this = __nv_bfloat16(v); }
  __nv_bfloat16& operator=(long long v) { return *this = __nv_bfloat16(v); }
  __nv_bfloat16& operator=(unsigned long long v) { return *this = __nv_bfloat16(v); }
};

struct alignas(4) __nv_bfloat162 {
  __nv_bfloat16 x;
  __nv_bfloat16 y;
  __nv_bfloat162() = default;
  __nv_bfloat162(const __nv_bfloat16& a, const __nv_bfloat16& b) : x(a), y(b) {}
};

using nv_bfloat16 = __nv_bfloat16;
using nv_bfloat162 = __nv_bfloat162;

inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16(f); }
inline float __bfloat162float(__nv_bfloat16 h) { return static_cast<float>(h); }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.__x; }
inline short __bfloat16_as_short(__nv_bfloat16 h) { return static_cast<short>(h.__x); }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short u) { return __nv_bfloat16_raw{u}; }
inline __nv_bfloat16 __short_as_bfloat16(short s) { return __nv_bfloat16_raw{static_cast<unsigned short>(s)}; }
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) { return {__nv_bfloat16(a), __nv_bfloat16(b)}; }
inline __nv_bfloat162 __float2bfloat162_rn(float a) { return {__nv_bfloat16(a), __nv_bfloat16(a)}; }
inline __nv_bfloat162 __halves2bfloat162(__nv_bfloat16 a, __nv_bfloat16 b) { return {a, b}; }
inline __nv_bfloat162 __bfloat162bfloat162(__nv_bfloat16 a) { return {a, a}; }
inline float __low2float(__nv_bfloat162 v) { return static_cast<float>(v.x); }
inline float __high2float(__nv_bfloat162 v) { return static_cast<float>(v.y); }
inline __nv_bfloat16 __low2bfloat16(__nv_bfloat162 v) { return v.x; }
inline __nv_bfloat16 __high2bfloat16(__nv_bfloat162 v) { return v.y; }
inline bool __hisnan(__nv_bfloat16 h) { return (h.__x & 0x7fffu) > 0x7f80u; }
inline bool __hisinf(__nv_bfloat16 h) { return (h.__x & 0x7fffu) == 0x7f80u; }

// Arithmetic as CUDA's operators: in fp32, rounded once to bf16.
inline __nv_bfloat16 operator+(const __nv_bfloat16& a, const __nv_bfloat16& b) { return float(a) + float(b); }
inline __nv_bfloat16 operator-(const __nv_bfloat16& a, const __nv_bfloat16& b) { return float(a) - float(b); }
inline __nv_bfloat16 operator*(const __nv_bfloat16& a, const __nv_bfloat16& b) { return float(a) * float(b); }
inline __nv_bfloat16 operator/(const __nv_bfloat16& a, const __nv_bfloat16& b) { return float(a) / float(b); }
inline __nv_bfloat16& operator+=(__nv_bfloat16& a, const __nv_bfloat16& b) { return a = a + b; }
inline __nv_bfloat16& operator-=(__nv_bfloat16& a, const __nv_bfloat16& b) { return a = a - b; }
inline __nv_bfloat16& operator*=(__nv_bfloat16& a, const __nv_bfloat16& b) { return a = a * b; }
inline __nv_bfloat16& operator/=(__nv_bfloat16& a, const __nv_bfloat16& b) { return a = a / b; }
inline __nv_bfloat16 operator+(const __nv_bfloat16& a) { return a; }
inline __nv_bfloat16 operator-(const __nv_bfloat16& a) { return __ushort_as_bfloat16(a.__x ^ 0x8000u); }
inline bool operator==(const __nv_bfloat16& a, const __nv_bfloat16& b) { return float(a) == float(b); }
inline bool operator!=(const __nv_bfloat16& a, const __nv_bfloat16& b) { return float(a) != float(b); }
inline bool operator<(const __nv_bfloat16& a, const __nv_bfloat16& b) { return float(a) < float(b); }
inline bool operator>(const __nv_bfloat16& a, const __nv_bfloat16& b) { return float(a) > float(b); }
inline bool operator<=(const __nv_bfloat16& a, const __nv_bfloat16& b) { return float(a) <= float(b); }
inline bool operator>=(const __nv_bfloat16& a, const __nv_bfloat16& b) { return float(a) >= float(b); }
