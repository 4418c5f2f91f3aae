// Shared part of every int8 matmul kernel, appended by the host after the arithmetic
// (int8-dp4a.wgsl | int8-portable.wgsl) and the loop (int8-matmul-tiled.wgsl | -wide.wgsl | int8-gemv.wgsl):
// bindings, loading A, and the epilogue.
//
// Math (ONNX MatMulInteger: Y[i,j] = sum_k (A[i,k] - za) * (B[k,j] - zb) in int32): everything runs in the int8 domain. A uint8 operand is
// shifted to int8 by XOR 0x80 per byte (A' = A - 128, za' = za - 128); B is prepacked on the host
// (B' = B - 128 for uint8, or B'' = B - zb when that fits int8, making zb' = 0). Then
//   Y = sum(A' - za')(B' - zb') = acc - zb' * rowsum(A') - za' * (colsum(B') - K * zb'),
// with acc = sum A'B' accumulated by the core loop, rowsum(A') accumulated alongside it only when
// ROWSUM (some zb' != 0), and (zb', colsum(B') - K*zb') precomputed per column at prepare time.
// int32 arithmetic wraps, so the identity is exact whenever Y itself fits (K <= 131071).
//
// Layout:
//   a      A bytes, row-major [matrices][m][k], 4 per u32 word, rows NOT word-aligned when k % 4 != 0:
//          a_word() funnel-shifts two words. Bytes past k are masked to 0 (after the XOR).
//   b      prepacked B: vec4<u32> at [(z * kw + j) * n4 + col4] holds k = 4j..4j+3 (one byte each,
//          k-ascending from the low byte) of columns 4*col4 + 0..3; padding is 0.
//   col_i  (zb', colsum(B') - K*zb') per column, [z][n4 * 4].
//   azp    A's zero point bytes: one, one per row (azp_mod = m), or one per slice of azp_div rows
//          (azp_mod = slices; A quantized per leading index, the batched decode step).
//   ascale A's scale (MODE 1; DynamicQuantizeLinear's y_scale output, never read back): one, or one
//          per slice like azp.
//   col_f  MODE 1: b_scale[n] then bias[n]; MODE 2: requant multiplier[n].
//   MODE 1 may end with an activation (flags bits 2-3: Relu or Tanh), fused by the partitioner so
//   the chain's next op needs no ORT segment of its own.
//   out    [matrices][m][n_out], the part's columns at col0.. (a weight above the device's binding
//          limit is split along N into column blocks, one dispatch each: src/kernels/weight-parts.ts;
//          n, n4, b and col_i are then the block's, col_f and out the whole matrix's; unsplit:
//          col0 = 0, n_out = n).
//          MODE 0: int32; MODE 1: float32; MODE 2: uint8/int8 packed 4 per word, OR-ed in
//          atomically (rows are not word-aligned), so the host zeroes it first. The binding and
//          its store_out/or_out come from int8-out-atomic.wgsl (every MODE) or int8-out-plain.wgsl
//          (plain stores; MODE 0 and 1 only, one writer per word), which the host appends.

override MODE: u32 = 0u;
// K % 4 == 0: rows start on word boundaries and no word is partial, so a_word() needs one load and
// no funnel shift or mask (the common case; set by the host).
override K_ALIGNED: bool = false;
// Split-K partial sums (int8-gemv-splitk.wgsl with SPLITS > 1): finish() adds acc - zb'·rowsum(A')
// into the int32 output (zeroed by the host) and int8-splitk-finish.wgsl applies the epilogue.
override PARTIAL: bool = false;

struct Params {
  m: u32,         // rows per matrix
  n: u32,
  k: u32,
  n4: u32,        // ceil(n / 4)
  kw: u32,        // ceil(k / 4): packed words per row
  a_xor: u32,     // 0x80808080 when A is uint8, else 0
  azp_mod: u32,   // 1: scalar a_zp; m: one per row; slices: one per slice
  b_batched: u32, // 1: matrix z has its own B
  flags: u32,     // bit 0: bias (MODE 1); bit 1: int8 output (MODE 2); bits 2-3: 1 Relu, 2 Tanh (MODE 1)
  y_zp: i32,      // output zero point (MODE 2)
  azp_div: u32,   // rows per a_zp/a_scale slice: 1, or rows / slices
  col0: u32,      // first output column of this weight part (0 unless B is split)
  n_out: u32,     // output columns (row stride of out, length of col_f's halves): n unless B is split
}

@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> col_i: array<vec2<i32>>;
@group(0) @binding(3) var<storage, read> azp: array<u32>;
@group(0) @binding(4) var<storage, read> ascale: array<f32>;
@group(0) @binding(5) var<storage, read> col_f: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

// Where row `row` of matrix `z` starts: x = first word, y = bit shift of the funnel.
fn a_row(z: u32, row: u32) -> vec2<u32> {
  let o = (z * params.m + min(row, params.m - 1u)) * params.k;
  return vec2<u32>(o >> 2u, (o & 3u) * 8u);
}

// The mask that zeroes bytes past k in word j (only the last word of a row is partial).
fn k_mask(j: u32) -> u32 {
  let rem = params.k - j * 4u;
  return select(0xffffffffu, (1u << (rem * 8u)) - 1u, rem < 4u);
}

// Word j of a row (4 A' bytes), shifted to int8 and masked. `<< (31 - s) << 1` is 0 when s = 0.
fn a_word(r: vec2<u32>, j: u32, mask: u32) -> u32 {
  let i = r.x + j;
  if (K_ALIGNED) {
    return a[i] ^ params.a_xor;
  }
  let w = (a[i] >> r.y) | ((a[i + 1u] << (31u - r.y)) << 1u);
  return (w ^ params.a_xor) & mask;
}

// Index of word j of column group col4 in b.
fn b_index(z: u32, j: u32, col4: u32) -> u32 {
  return (z * params.b_batched * params.kw + j) * params.n4 + col4;
}

fn sign_extend8(v: u32) -> i32 {
  return bitcast<i32>(v << 24u) >> 24u;
}

// The fused activation of MODE 1: 0 none, 1 Relu, 2 Tanh. Tanh's argument is clamped because some
// implementations compute it from exp() and overflow to NaN for large |x|; tanh(±10) is ±1 in f32.
fn activate(f: f32, act: u32) -> f32 {
  if (act == 1u) {
    return max(f, 0.0);
  }
  if (act == 2u) {
    return tanh(clamp(f, -10.0, 10.0));
  }
  return f;
}

// Writes the 4 outputs of (z, row, columns 4*col4..) from acc = sum A'B' and rs = rowsum(A').
fn finish(z: u32, row: u32, col4: u32, acc: vec4<i32>, rs: i32) {
  if (row >= params.m) {
    return;
  }
  let zi = (row / params.azp_div) % params.azp_mod;
  let zbyte = (azp[zi >> 2u] >> ((zi & 3u) * 8u)) & 0xffu;
  let za = sign_extend8(zbyte ^ (params.a_xor & 0xffu));
  let cbase = z * params.b_batched * params.n4 * 4u;
  let obase = (z * params.m + row) * params.n_out + params.col0;
  for (var c = 0u; c < 4u; c++) {
    let col = col4 * 4u + c;
    if (col >= params.n) {
      break;
    }
    let ci = col_i[cbase + col];
    let o = obase + col;
    let cf = params.col0 + col;
    if (PARTIAL) {
      add_out(o, bitcast<u32>(acc[c] - ci.x * rs));
      continue;
    }
    let v = acc[c] - ci.x * rs - za * ci.y;
    if (MODE == 0u) {
      store_out(o, bitcast<u32>(v));
    } else if (MODE == 1u) {
      var f = f32(v) * (ascale[zi] * col_f[cf]);
      if ((params.flags & 1u) != 0u) {
        f = f + col_f[params.n_out + cf];
      }
      f = activate(f, (params.flags >> 2u) & 3u);
      store_out(o, bitcast<u32>(f));
    } else {
      let lim = select(vec2<f32>(0.0, 255.0), vec2<f32>(-128.0, 127.0), (params.flags & 2u) != 0u);
      let q = clamp(round(f32(v) * col_f[cf]) + f32(params.y_zp), lim.x, lim.y);
      or_out(o >> 2u, (bitcast<u32>(i32(q)) & 0xffu) << ((o & 3u) * 8u));
    }
  }
}
