// Int8 GEMM shaped for GPUs (M >= 64: prefill, batches; int8-matmul-tiled.wgsl is the
// emulated-adapter form). Compute-bound, so the aim is many multiply-accumulates per byte loaded:
// - a workgroup of 16 x 16 invocations owns a tile of (16·TM) rows x 64 columns (TM = 4: 64 x 64;
//   TM = 8: 128 x 64);
// - K goes in tiles of KT packed words (4·KT k-values): the workgroup stages A's (16·TM) x KT words
//   and B's KT x 16 vec4<u32> in workgroup memory with coalesced loads (consecutive invocations
//   read consecutive A words of a row, and consecutive 16-byte column groups of a B row), then
//   every invocation reads them from there: each B word is loaded from memory once per tile, not
//   once per invocation row block;
// - each invocation keeps a register tile of TM rows x 4 columns (TM vec4<i32> accumulators) and
//   prepares each B word once for its TM rows;
// - outputs are written with plain stores (int8-out-plain.wgsl) except MODE 2 (shared words).
// Not done yet: double buffering of the staged tiles, split-K for grids under two waves, and row
// sums taken from the quantize step (here they are accumulated alongside, only when ROWSUM).
// Grid: x = ceil(N / 64), y = ceil(M / (16·TM)), z = matrix. Arithmetic from int8-dp4a.wgsl or
// int8-portable.wgsl; bindings and finish() from int8-matmul-common.wgsl.

override TM: u32 = 4u;
override ROWSUM: bool = true;

const TX = 16u; // column groups per tile (64 columns)
const TY = 16u; // invocation rows
const KT = 16u; // packed k-words per K-tile
const MAX_TM = 8u;

var<workgroup> tile_a: array<u32, TY * MAX_TM * KT>;
var<workgroup> tile_b: array<vec4<u32>, KT * TX>;

@compute @workgroup_size(TX, TY)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let z = wid.z;
  let col_base = wid.x * TX;
  let row_base = wid.y * TY * TM;
  let rows = TY * TM;
  var acc = array<vec4<i32>, MAX_TM>();
  var rs = array<i32, MAX_TM>();
  for (var j0 = 0u; j0 < params.kw; j0 += KT) {
    // Stage A: rows x KT words, TM per invocation; word w of row r at tile_a[r * KT + w].
    for (var t = 0u; t < TM; t++) {
      let idx = li + t * TX * TY;
      let r = idx / KT;
      let w = idx % KT;
      let j = j0 + w;
      let m = select(0u, k_mask(j), j < params.kw);
      tile_a[idx] = a_word(a_row(z, row_base + r), min(j, params.kw - 1u), m) & m;
    }
    // Stage B: KT x TX vec4, one per invocation (zero past K or N).
    let jb = j0 + li / TX;
    let cb = col_base + li % TX;
    let inside = jb < params.kw && cb < params.n4;
    let bw = b[b_index(z, min(jb, params.kw - 1u), min(cb, params.n4 - 1u))];
    tile_b[li] = select(vec4<u32>(), bw, inside);
    workgroupBarrier();
    for (var w = 0u; w < KT; w++) {
      let bu = prep_b(tile_b[w * TX + lid.x]);
      for (var i = 0u; i < TM; i++) {
        let aw = prep_a(tile_a[(lid.y * TM + i) * KT + w]);
        acc[i] += dots(aw, bu);
        if (ROWSUM) {
          rs[i] += row_sum(aw);
        }
      }
    }
    workgroupBarrier();
  }
  let col4 = col_base + lid.x;
  if (col4 < params.n4) {
    for (var i = 0u; i < TM; i++) {
      finish(z, row_base + lid.y * TM + i, col4, acc[i], rs[i]);
    }
  }
}
