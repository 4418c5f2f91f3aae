// Int8 GEMV shaped for GPUs (1–32 rows, token decoding; int8-gemv.wgsl is the emulated-adapter
// form). Memory-bound on B, so the aim is many bytes of B in flight:
// - a workgroup owns WG_X column groups (4 columns each) and ROWS rows; WG_Y invocations share each
//   column group and split its K words among them, so a column has WG_Y threads (x SPLITS);
// - invocation (x, y) takes k-words j = y, y + WG_Y, ... and issues LOADS independent vec4<u32>
//   loads of B per iteration (j, j + WG_Y, ..., j + (LOADS-1)·WG_Y): at one step the workgroup
//   reads WG_Y·LOADS consecutive B rows of WG_X·16 contiguous bytes each (lanes along x are
//   neighbouring column groups, so a 32-lane group reads full cache lines);
// - every B word is used for all ROWS rows before the next (one pass over the weights for up to
//   MAX_ROWS rows: batched decode);
// - the WG_Y partial sums of a column are reduced by reduce_part(): workgroup memory
//   (int8-gemv-reduce-wg.wgsl) or subgroup shuffles (int8-gemv-reduce-sg.wgsl, only where the
//   device has the `subgroups` feature);
// - SPLITS > 1 also splits K across workgroups (grid y = row blocks x SPLITS) when N alone cannot
//   fill the GPU: each split adds its partial acc - zb'·rowsum(A') to a zeroed int32 buffer with
//   atomicAdd (finish() with PARTIAL) (int32 wraps, so the sum is exact in any order) and int8-splitk-finish.wgsl applies
//   the epilogue afterwards.
// Grid: x = column blocks, y = row blocks x SPLITS, z = matrix. Arithmetic from int8-dp4a.wgsl or
// int8-portable.wgsl; bindings and finish() from int8-matmul-common.wgsl; out from int8-out-*.wgsl.

override WG_X: u32 = 8u;
override WG_Y: u32 = 32u;
override ROWS: u32 = 1u;
override SPLITS: u32 = 1u;
override LOADS: u32 = 4u;
override ROWSUM: bool = true;

const MAX_ROWS = 8u;
const MAX_LOADS = 4u;

// One K-split slice of one row's sum, per column group: acc (4 columns) and rowsum(A').
struct Part {
  acc: vec4<i32>,
  rs: i32,
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let col4 = wid.x * WG_X + lid.x;
  let split = wid.y % SPLITS;
  let row0 = (wid.y / SPLITS) * ROWS;
  let z = wid.z;
  let cl = min(col4, params.n4 - 1u); // loads stay in bounds; finish() skips the extra columns
  // This split's K words: [j0, j1).
  let chunk = (params.kw + SPLITS - 1u) / SPLITS;
  let j0 = split * chunk;
  let j1 = min(params.kw, j0 + chunk);
  var r = array<vec2<u32>, MAX_ROWS>();
  var acc = array<vec4<i32>, MAX_ROWS>();
  var rs = array<i32, MAX_ROWS>();
  for (var i = 0u; i < ROWS; i++) {
    r[i] = a_row(z, row0 + i);
  }
  let step = WG_Y * LOADS;
  for (var j = j0 + lid.y; j < j1; j += step) {
    // LOADS independent loads first, then the arithmetic.
    var bw = array<vec4<u32>, MAX_LOADS>();
    var ok = array<u32, MAX_LOADS>();
    for (var u = 0u; u < LOADS; u++) {
      let ju = j + u * WG_Y;
      let inside = ju < j1;
      ok[u] = select(0u, k_mask(ju), inside);
      bw[u] = b[b_index(z, min(ju, j1 - 1u), cl)];
    }
    for (var u = 0u; u < LOADS; u++) {
      let bu = prep_b(bw[u]);
      let ju = min(j + u * WG_Y, j1 - 1u);
      for (var i = 0u; i < ROWS; i++) {
        // A word masked to 0 past this split's K (ok = 0): its products and row sum vanish.
        let aw = prep_a(a_word(r[i], ju, ok[u]) & ok[u]);
        acc[i] += dots(aw, bu);
        if (ROWSUM) {
          rs[i] += row_sum(aw);
        }
      }
    }
  }
  for (var i = 0u; i < ROWS; i++) {
    let total = reduce_part(Part(acc[i], rs[i]), lid, li);
    if (lid.y == 0u && col4 < params.n4) {
      finish(z, row0 + i, col4, total.acc, total.rs); // PARTIAL (set by the host when SPLITS > 1): adds the partial sums
    }
  }
}
