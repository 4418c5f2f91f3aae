// Weight-only int8 matmul (W8A32): float32 activations, 8-bit weights dequantized in registers,
// float32 accumulation.
//
//   Y[m, n] = Σ_k X[m, k] · (W[k, n] − zp[b(k), n]) · s[b(k), n]  (+ bias[n]),   b(k) = k / BLOCK
//
// W is uint8 [K, N] (int8 weights arrive shifted by +128, their zero points too), packed four
// columns per u32: word (k, c4) holds W[k, 4·c4 .. 4·c4+3]. Scales and zero points are float32
// [blocks, N4·4] (per-tensor and per-channel weights are one block). The K loop runs in chunks of
// CHUNK rows that never straddle a block; per chunk each invocation sums Σ X·W (vec4) and Σ X, then
// adds s · (ΣXW − zp · ΣX): dequantizing costs two operations per chunk and column, not per weight.
//
// Layout of the work: an invocation owns ROWS rows × 4 columns; B words are read once for all ROWS
// rows, and neighbouring invocations read neighbouring words (coalesced). SPLIT_K invocations of a
// workgroup share one column block's chunks (chunk j goes to invocation j mod SPLIT_K) and add their
// partial sums in workgroup memory: the GEMV shape (M = 1, bandwidth-bound on W) uses SPLIT_K > 1,
// the many-row shape SPLIT_K = 1 and more ROWS. Grid: x = column blocks / WG_X, y = row blocks.
// Uniforms, bindings and unpack_u8: w8a32-common.wgsl.

override WG_X: u32 = 32u;
override SPLIT_K: u32 = 4u;
override ROWS: u32 = 1u;

const MAX_ROWS: u32 = 8u;

var<workgroup> part: array<vec4<f32>, WG_X * SPLIT_K * ROWS>;


@compute @workgroup_size(WG_X, SPLIT_K)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c4 = wid.x * WG_X + lid.x;
  let row0 = wid.y * ROWS;
  var acc: array<vec4<f32>, MAX_ROWS>;
  if (c4 < params.n4) {
    for (var j = lid.y; j < params.chunks; j += SPLIT_K) {
      let k0 = j * params.chunk;
      let k1 = min(k0 + params.chunk, params.k);
      // Explicitly zeroed each chunk (a declaration without initializer was seen to keep the
      // previous iteration's values on SwiftShader).
      var sxw = array<vec4<f32>, MAX_ROWS>();
      var sx = array<f32, MAX_ROWS>();
      for (var kk = k0; kk < k1; kk++) {
        let wv = unpack_u8(w[kk * params.n4 + c4]);
        for (var r = 0u; r < ROWS; r++) {
          let row = min(row0 + r, params.m - 1u);
          let xv = x[row * params.k + kk];
          sxw[r] = fma(vec4<f32>(xv), wv, sxw[r]);
          sx[r] += xv;
        }
      }
      let b = (k0 / params.block) * params.n4 + c4;
      let s = scales[b];
      let z = zeros[b];
      for (var r = 0u; r < ROWS; r++) {
        acc[r] = fma(s, sxw[r] - z * sx[r], acc[r]);
      }
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    part[(r * SPLIT_K + lid.y) * WG_X + lid.x] = acc[r];
  }
  workgroupBarrier();
  if (lid.y != 0u || c4 >= params.n4) {
    return;
  }
  for (var r = 0u; r < ROWS; r++) {
    let row = row0 + r;
    if (row >= params.m) {
      break;
    }
    var sum = part[(r * SPLIT_K) * WG_X + lid.x];
    for (var s = 1u; s < SPLIT_K; s++) {
      sum += part[(r * SPLIT_K + s) * WG_X + lid.x];
    }
    for (var i = 0u; i < 4u; i++) {
      let col = c4 * 4u + i;
      if (col < params.n) {
        y[row * params.n_out + params.col0 + col] = sum[i] + select(0.0, bias[params.col0 + col], params.has_bias != 0u);
      }
    }
  }
}
