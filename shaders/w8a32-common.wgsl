// Shared by the weight-only int8 (W8A32) loops, w8a32-matmul.wgsl (GEMV, split-K) and
// w8a32-matmul-tiled.wgsl (4-row tiles): the uniforms, the bindings and the weight unpacking. The
// formula and the data layout are described in w8a32-matmul.wgsl. Appended after each loop file.
// A W above the device's binding limit is split along N into column blocks, one dispatch each
// (src/kernels/weight-parts.ts): n, n4, w, scales and zeros are then the block's, bias and y the
// whole matrix's, and the block's columns start at col0 in y (unsplit: col0 = 0, n_out = n).

struct Params {
  m: u32,
  n: u32,
  k: u32,
  n4: u32,        // ceil(n / 4): words per row of W
  block: u32,     // rows of K per scale block (k for one block)
  chunk: u32,     // rows per chunk; divides block, or block >= k
  chunks: u32,    // ceil(k / chunk)
  has_bias: u32,
  col0: u32,      // first output column of this weight part (0 unless W is split along N)
  n_out: u32,     // output columns (row stride of y, length of bias): n unless W is split
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> zeros: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

fn unpack_u8(v: u32) -> vec4<f32> {
  return vec4<f32>(f32(v & 0xffu), f32((v >> 8u) & 0xffu), f32((v >> 16u) & 0xffu), f32(v >> 24u));
}
