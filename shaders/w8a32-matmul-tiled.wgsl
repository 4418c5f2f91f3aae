// Weight-only int8 matmul (W8A32), the many-row loop: the same formula, data layout and bindings as
// w8a32-matmul.wgsl (see its opening comment), but each invocation owns 4 rows × 4 columns with the
// four rows written out by hand. SwiftShader neither unrolls a loop over an override constant nor
// keeps a dynamically indexed private array in registers (the generic loop ran 0.09 GOP/s at
// 64×768×768 here); four named accumulators it does. One W word is read per k for all four rows.
// Grid: x = column blocks / WG_X, y = ceil(M / 4). No split-K: there are rows enough to fill the GPU.

override WG_X: u32 = 16u;

// Uniforms, bindings and unpack_u8: w8a32-common.wgsl.

fn store(row: u32, c4: u32, v: vec4<f32>) {
  if (row >= params.m) {
    return;
  }
  for (var i = 0u; i < 4u; i++) {
    let col = c4 * 4u + i;
    if (col < params.n) {
      y[row * params.n_out + params.col0 + col] = v[i] + select(0.0, bias[params.col0 + col], params.has_bias != 0u);
    }
  }
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let c4 = wid.x * WG_X + lid.x;
  if (c4 >= params.n4) {
    return;
  }
  let r0 = wid.y * 4u;
  // Rows past M read the last row (in bounds) and are not stored.
  let x0 = min(r0, params.m - 1u) * params.k;
  let x1 = min(r0 + 1u, params.m - 1u) * params.k;
  let x2 = min(r0 + 2u, params.m - 1u) * params.k;
  let x3 = min(r0 + 3u, params.m - 1u) * params.k;
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  for (var j = 0u; j < params.chunks; j++) {
    let k0 = j * params.chunk;
    let k1 = min(k0 + params.chunk, params.k);
    var w0 = vec4<f32>();
    var w1 = vec4<f32>();
    var w2 = vec4<f32>();
    var w3 = vec4<f32>();
    var s = vec4<f32>(); // Σ x of rows 0..3 over the chunk
    for (var kk = k0; kk < k1; kk++) {
      let wv = unpack_u8(w[kk * params.n4 + c4]);
      let xv = vec4<f32>(x[x0 + kk], x[x1 + kk], x[x2 + kk], x[x3 + kk]);
      w0 = fma(vec4<f32>(xv.x), wv, w0);
      w1 = fma(vec4<f32>(xv.y), wv, w1);
      w2 = fma(vec4<f32>(xv.z), wv, w2);
      w3 = fma(vec4<f32>(xv.w), wv, w3);
      s += xv;
    }
    let b = (k0 / params.block) * params.n4 + c4;
    let sc = scales[b];
    let z = zeros[b];
    acc0 = fma(sc, w0 - z * s.x, acc0);
    acc1 = fma(sc, w1 - z * s.y, acc1);
    acc2 = fma(sc, w2 - z * s.z, acc2);
    acc3 = fma(sc, w3 - z * s.w, acc3);
  }
  store(r0, c4, acc0);
  store(r0 + 1u, c4, acc1);
  store(r0 + 2u, c4, acc2);
  store(r0 + 3u, c4, acc3);
}
