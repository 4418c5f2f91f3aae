// Int8 matrix-vector loop (M = 1, the decoding case; used for a few rows). Bandwidth-bound on B,
// so each invocation owns 4 columns of one row, the K loop is split over SPLIT_K invocations of the
// workgroup (invocation ks takes k-words ks, ks + SPLIT_K, ...), and the partial sums are added in
// workgroup memory. Neighbouring invocations read neighbouring vec4<u32> of B (coalesced).
// Workgroup: WG_X column blocks x SPLIT_K; grid y = row, z = matrix. The arithmetic comes from
// int8-dp4a.wgsl or int8-portable.wgsl; bindings, layout and the zero-point identity from
// int8-matmul-common.wgsl.

override WG_X: u32 = 64u;
override SPLIT_K: u32 = 4u;
override ROWSUM: bool = true;

var<workgroup> part: array<vec4<i32>, WG_X * SPLIT_K>;
var<workgroup> part_rs: array<i32, WG_X * SPLIT_K>;

@compute @workgroup_size(WG_X, SPLIT_K)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let col4 = wid.x * WG_X + lid.x;
  let row = wid.y;
  let z = wid.z;
  var acc = vec4<i32>();
  var rs = 0;
  if (col4 < params.n4) {
    let r = a_row(z, row);
    for (var j = lid.y; j < params.kw; j += SPLIT_K) {
      let aw = prep_a(a_word(r, j, k_mask(j)));
      acc += dots(aw, prep_b(b[b_index(z, j, col4)]));
      if (ROWSUM) {
        rs += row_sum(aw);
      }
    }
  }
  let slot = lid.y * WG_X + lid.x;
  part[slot] = acc;
  part_rs[slot] = rs;
  workgroupBarrier();
  if (lid.y == 0u && col4 < params.n4) {
    for (var s = 1u; s < SPLIT_K; s++) {
      acc += part[s * WG_X + lid.x];
      rs += part_rs[s * WG_X + lid.x];
    }
    finish(z, row, col4, acc, rs);
  }
}
