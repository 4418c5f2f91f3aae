// Epilogue of the split-K GEMV (int8-gemv-splitk.wgsl with SPLITS > 1): the splits have added
// acc - zb'·rowsum(A') of every output into a zeroed int32 buffer, bound here as `a`; this pass
// reads those sums and writes the requested output through finish() with rowsum 0, which subtracts
// the remaining za'·(colsum(B') - K·zb') term. One invocation per 4 columns of one row.
// Grid: x = column groups / WG_X, y = row, z = matrix. Bindings and finish() from
// int8-matmul-common.wgsl (b is bound but not read), out from int8-out-*.wgsl.

override WG_X: u32 = 64u;

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col4 = gid.x;
  let row = gid.y;
  let z = gid.z;
  if (params.m == 0xffffffffu) {
    // Never true: keeps binding 1 in the pipeline's automatic layout, so every int8 kernel binds alike.
    _ = b[0];
  }
  if (col4 >= params.n4 || row >= params.m) {
    return;
  }
  let o = (z * params.m + row) * params.n_out + params.col0 + col4 * 4u;
  var acc = vec4<i32>();
  for (var c = 0u; c < 4u; c++) {
    if (col4 * 4u + c < params.n) {
      acc[c] = bitcast<i32>(a[o + c]);
    }
  }
  finish(z, row, col4, acc, 0);
}
