// Int8 matmul loop, tiled: each invocation computes an 8-row x 4-column block of one matrix. Per
// packed k-word j it loads one vec4<u32> of B (4 columns x 4 k) and one A' word per row, prepares
// them once (prep_a/prep_b: identity for dp4a, unpack for portable) and does 8 `dots` (+8 row sums
// when ROWSUM), so the B preparation is shared by 8 rows. No workgroup memory: B words are read once
// per 8 rows and A words once per 4 columns straight from storage, which suits both GPU caches and
// SwiftShader's CPU caches. Rows are written out by hand, not looped over an override: measured on
// SwiftShader, 8 unrolled rows ran 1.1-1.4x faster than 4, and a loop bounded by an override 1.6x
// slower than the unrolled form (it is not unrolled, so the arrays spill).
// Workgroup: WG_X column blocks x WG_Y row blocks; grid z = matrix. The arithmetic comes from
// int8-dp4a.wgsl or int8-portable.wgsl; bindings, layout and the zero-point identity from
// int8-matmul-common.wgsl.

override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;
override ROWSUM: bool = true;

// Rows per invocation (the host divides M by it).
const TILE_ROWS = 8u;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col4 = gid.x;
  let row = gid.y * TILE_ROWS;
  let z = gid.z;
  if (col4 >= params.n4 || row >= params.m) {
    return;
  }
  var r: array<vec2<u32>, TILE_ROWS>;
  for (var i = 0u; i < TILE_ROWS; i++) {
    r[i] = a_row(z, row + i);
  }
  var acc: array<vec4<i32>, TILE_ROWS>;
  var rs: array<i32, TILE_ROWS>;
  var bi = b_index(z, 0u, col4);
  for (var j = 0u; j < params.kw; j++) {
    let mask = k_mask(j);
    let bw = prep_b(b[bi]);
    bi += params.n4;
    let a0 = prep_a(a_word(r[0], j, mask));
    acc[0] += dots(a0, bw);
    let a1 = prep_a(a_word(r[1], j, mask));
    acc[1] += dots(a1, bw);
    let a2 = prep_a(a_word(r[2], j, mask));
    acc[2] += dots(a2, bw);
    let a3 = prep_a(a_word(r[3], j, mask));
    acc[3] += dots(a3, bw);
    let a4 = prep_a(a_word(r[4], j, mask));
    acc[4] += dots(a4, bw);
    let a5 = prep_a(a_word(r[5], j, mask));
    acc[5] += dots(a5, bw);
    let a6 = prep_a(a_word(r[6], j, mask));
    acc[6] += dots(a6, bw);
    let a7 = prep_a(a_word(r[7], j, mask));
    acc[7] += dots(a7, bw);
    if (ROWSUM) {
      rs[0] += row_sum(a0);
      rs[1] += row_sum(a1);
      rs[2] += row_sum(a2);
      rs[3] += row_sum(a3);
      rs[4] += row_sum(a4);
      rs[5] += row_sum(a5);
      rs[6] += row_sum(a6);
      rs[7] += row_sum(a7);
    }
  }
  finish(z, row + 0u, col4, acc[0], rs[0]);
  finish(z, row + 1u, col4, acc[1], rs[1]);
  finish(z, row + 2u, col4, acc[2], rs[2]);
  finish(z, row + 3u, col4, acc[3], rs[3]);
  finish(z, row + 4u, col4, acc[4], rs[4]);
  finish(z, row + 5u, col4, acc[5], rs[5]);
  finish(z, row + 6u, col4, acc[6], rs[6]);
  finish(z, row + 7u, col4, acc[7], rs[7]);
}
