// Shared part of the int8 conv kernels (int8-conv-gemm.wgsl, int8-conv-direct.wgsl), appended by the
// host after the kernel's own loop and before the output binding (the matmuls' int8-out-plain.wgsl,
// or int8-out-atomic.wgsl for MODE 2, whose bytes share words): the uniform geometry, the input and
// epilogue bindings, reading one input byte, and writing one output element.
//
// Layout:
//   x      the input bytes, NCHW ([N, C, L] convs have H = 1), 4 per u32 word, low byte first.
//   azp    x_zero_point's byte (binding of DynamicQuantizeLinear's output or a constant); 0 if absent.
//   ascale MODE 1: the input's scale (one float32, never read back).
//   col_f  MODE 1: w_scale[m] then bias[m] per output channel, then (flags bit 4) the epilogue
//          program: a count, then [code, a, b] per instruction (src/graph/conv-epilogue.ts); MODE 2 (QLinearConv): the requant
//          multiplier f32(f32(x_scale·w_scale[m]) / y_scale) then the int32 bias bits per channel.
//   out    NCHW; MODE 0: int32 (ConvInteger), MODE 1: float32 (the fused ConvInteger → Cast → Mul
//          (→ Add) chain, then an optional activation), MODE 2: uint8/int8 packed 4 per word, OR-ed
//          in (the host zeroes it first): saturate(round(f32(acc + bias) · mult) + y_zp), which is
//          onnxruntime's QLinearConv rounding (half to even, clamp after).
// Padding positions hold x_zero_point (ONNX pads the quantized input with it), so they add nothing.

override MODE: u32 = 0u;

struct Params {
  batch: u32,
  c: u32,       // input channels
  in_h: u32,
  in_w: u32,
  m: u32,       // output channels
  mg: u32,      // output channels per group
  cg: u32,      // input channels per group
  kh: u32,
  kw: u32,
  oh: u32,
  ow: u32,
  sh: u32,
  sw: u32,
  dh: u32,
  dw: u32,
  pt: u32,      // padding before the first row
  pl: u32,      // padding before the first column
  k: u32,       // cg * kh * kw
  n4: u32,      // ceil(mg / 4)
  kwords: u32,  // ceil(k / 4)
  rows: u32,    // batch * oh * ow (the GEMM's M)
  a_xor: u32,   // 0x80 when x is uint8 (shifts it to int8), else 0
  flags: u32,   // bit 0: bias (MODE 1); bit 1: int8 output (MODE 2); bits 2-3: 1 Relu (MODE 1);
                // bit 4: the epilogue program follows (MODE 1)
  y_zp: i32,    // output zero point (MODE 2)
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(3) var<storage, read> azp: array<u32>;
@group(0) @binding(4) var<storage, read> ascale: array<f32>;
// Read as u32 so that MODE 2's int32 bias bits never pass through a float (denormals could flush).
@group(0) @binding(5) var<storage, read> col_f: array<u32>;

fn col_f32(i: u32) -> f32 {
  return bitcast<f32>(col_f[i]);
}
@group(0) @binding(7) var<uniform> params: Params;

// Byte `i` of x, raw (uint8 or the two's complement bits of int8).
fn x_byte(i: u32) -> u32 {
  return (x[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu;
}

fn sign_extend8(v: u32) -> i32 {
  return bitcast<i32>(v << 24u) >> 24u;
}

// x_zero_point shifted like the input (za' = za - 128 for uint8).
fn zero_point() -> i32 {
  return sign_extend8((azp[0] & 0xffu) ^ params.a_xor);
}

// The fused elementwise ops after the conv (src/graph/conv-epilogue.ts EPILOGUE_OPS), in the
// graph's order and float32 arithmetic: 0 x·a, 1 x + a, 2 x / a, 3 Clip(a, b), 4 Relu, 5 Sigmoid,
// 6 HardSigmoid(alpha a, beta b), 7 save x, 8 saved·x, 9 x − a.
fn epilogue(f0: f32) -> f32 {
  let base = 2u * params.m;
  var f = f0;
  var saved = f0;
  for (var i = 0u; i < col_f[base]; i++) {
    let at = base + 1u + 3u * i;
    let a = col_f32(at + 1u);
    let b = col_f32(at + 2u);
    switch col_f[at] {
      case 0u: { f = f * a; }
      case 1u: { f = f + a; }
      case 2u: { f = f / a; }
      case 3u: { f = min(max(f, a), b); }
      case 4u: { f = max(f, 0.0); }
      case 5u: { f = 1.0 / (1.0 + exp(-f)); }
      case 6u: { f = max(0.0, min(1.0, a * f + b)); }
      case 7u: { saved = f; }
      case 8u: { f = saved * f; }
      case 9u: { f = f - a; }
      default: {}
    }
  }
  return f;
}

// Writes output element `o` (NCHW index) of channel `oc` from the exact int32 sum `v`.
fn store(o: u32, oc: u32, v: i32) {
  if (MODE == 0u) {
    store_out(o, bitcast<u32>(v));
    return;
  }
  if (MODE == 2u) {
    let lim = select(vec2<f32>(0.0, 255.0), vec2<f32>(-128.0, 127.0), (params.flags & 2u) != 0u);
    let q = clamp(round(f32(v + bitcast<i32>(col_f[params.m + oc])) * col_f32(oc)) + f32(params.y_zp), lim.x, lim.y);
    or_out(o >> 2u, (bitcast<u32>(i32(q)) & 0xffu) << ((o & 3u) * 8u));
    return;
  }
  var f = f32(v) * (ascale[0] * col_f32(oc));
  if ((params.flags & 1u) != 0u) {
    f = f + col_f32(params.m + oc);
  }
  if (((params.flags >> 2u) & 3u) == 1u) {
    f = max(f, 0.0);
  }
  if ((params.flags & 16u) != 0u) {
    f = epilogue(f);
  }
  store_out(o, bitcast<u32>(f));
}
