// Shared by the three DynamicQuantizeLinear passes (the host appends it to
// dynamic-quantize-{minmax,params}.wgsl and dynamic-quantize.wgsl): the workgroup size, the
// uniforms, the (lo, hi) reduction, and exactly rounded division.
//
// Bit-exactness: WGSL's `/` may be off by 2.5 ULP, and a quotient that is exactly a tie (k + 0.5)
// after float32 rounding decides the rounding direction. So the scale, and quotients near a tie,
// use div_rn, an exact IEEE round-to-nearest-even division done in integer arithmetic.

// Invocations per workgroup; a power of 2.
override WG: u32 = 256u;

struct Params {
  n: u32,     // elements of x
  chunk: u32, // pass 1: elements per workgroup
  parts: u32, // pass 2: partial ranges written by pass 1
  words: u32, // pass 3: output words, ceil(n / 4)
}

var<workgroup> lo: array<f32, WG>;
var<workgroup> hi: array<f32, WG>;

// Every invocation passes its (l, h); all get back the workgroup's (min l, max h). Call it in
// uniform control flow (it has barriers).
fn reduce_range(lid: u32, l: f32, h: f32) -> vec2<f32> {
  lo[lid] = l;
  hi[lid] = h;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      lo[lid] = min(lo[lid], lo[lid + s]);
      hi[lid] = max(hi[lid], hi[lid + s]);
    }
    workgroupBarrier();
  }
  return vec2<f32>(lo[0], hi[0]);
}

// x / d rounded to nearest even as IEEE 754 requires, for normal non-zero d. A zero or subnormal x
// gives a signed zero; a subnormal quotient flushes to zero (both quantize to 0 anyway).
fn div_rn(x: f32, d: f32) -> f32 {
  let xb = bitcast<u32>(x);
  let db = bitcast<u32>(d);
  let sign = (xb ^ db) & 0x80000000u;
  let ex = i32((xb >> 23u) & 0xffu);
  let ed = i32((db >> 23u) & 0xffu);
  if (ex == 0) {
    return bitcast<f32>(sign);
  }
  let md = (db & 0x7fffffu) | 0x800000u;
  var r = (xb & 0x7fffffu) | 0x800000u;
  // Long division: q = floor(mx * 2^25 / md), 25 or 26 bits; r != 0 afterwards is the sticky bit.
  var q = 0u;
  for (var i = 0u; i < 26u; i++) {
    let bit = select(0u, 1u, r >= md);
    r -= md * bit;
    q = (q << 1u) | bit;
    r <<= 1u;
  }
  var e = ex - ed + 126;
  var sticky = select(0u, 1u, r != 0u);
  if (q >= 0x2000000u) {
    sticky |= q & 1u;
    q >>= 1u;
    e += 1;
  }
  // q now has 25 bits: 24 of mantissa and one guard bit.
  let guard = q & 1u;
  var m = q >> 1u;
  if (guard == 1u && (sticky == 1u || (m & 1u) == 1u)) {
    m += 1u;
  }
  if (m == 0x1000000u) {
    m >>= 1u;
    e += 1;
  }
  if (e >= 255) {
    return bitcast<f32>(sign | 0x7f800000u);
  }
  if (e <= 0) {
    return bitcast<f32>(sign);
  }
  return bitcast<f32>(sign | (u32(e) << 23u) | (m & 0x7fffffu));
}

// round(f32(x / d)), ties to even: the fast `/` unless the quotient is near a tie.
fn round_div(x: f32, d: f32) -> f32 {
  let q = x / d;
  let t = abs(q);
  let dist = abs(t - floor(t) - 0.5);
  if (dist > t * 1.52587890625e-5) {
    return round(q);
  }
  return round(div_rn(x, d));
}

// y = clamp(round(v / scale) + zp, 0, 255) as a u32 byte value, via round_div. NaN maps to zp, +Inf
// to 255, -Inf to 0 (webq8's policy; see src/kernels/reference.ts), detected from the bit pattern.
fn quantize_value(v: f32, scale: f32, zp: f32) -> u32 {
  let bits = bitcast<u32>(v);
  if ((bits & 0x7f800000u) != 0x7f800000u) {
    return u32(clamp(round_div(v, scale) + zp, 0.0, 255.0));
  }
  if ((bits & 0x7fffffu) != 0u) {
    return u32(zp);
  }
  return select(255u, 0u, (bits >> 31u) == 1u);
}

// Whether v is finite (WGSL lets compilers assume NaN and Inf never occur, so test the bits).
fn is_finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

// (scale, zp) from the range (lo, hi) = (min(0, min x), max(0, max x)), exactly as ONNX's reference
// computes them in float32: scale = (hi == lo ? 1 : hi - lo) / 255, zp = round(clamp(-lo / scale)).
fn quant_params(range: vec2<f32>) -> vec2<f32> {
  let scale = div_rn(select(range.y - range.x, 1.0, range.y == range.x), 255.0);
  return vec2<f32>(scale, round(clamp(0.0 - div_rn(range.x, scale), 0.0, 255.0)));
}
