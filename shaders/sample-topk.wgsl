// Picks the next token of each sequence from its logits, on the GPU, so that a generation step
// reads back one u32 per sequence instead of a whole [vocab] row of floats.
//
// Layout: logits is float32 [rows, seq, vocab] (row-major); each row samples from its LAST
// position, i.e. logits[((r + 1) · seq − 1) · vocab + j]. params[r] = (k, temperature, top_p, u):
// keep the k largest logits, weigh them softmax(logit / temperature), keep the smallest prefix
// whose weights reach top_p of the total (at least one), and return the candidate where the
// running weight first exceeds u · (kept total); u in [0, 1) comes from the host's seeded PRNG.
// k = 1 is greedy (argmax; the lowest index wins ties). ids[r] receives the token id.
//
// Algorithm: one workgroup per row. Candidates are found in k rounds; round i scans the row for
// the largest logit strictly below candidate i − 1 in the order (value descending, index
// ascending), each invocation over a strided slice, then a tree reduction in workgroup memory.
// NaN counts as −∞. k ≤ MAX_K (the host clamps it), so k rounds cost k · vocab / WORKGROUP_SIZE
// loads per invocation — small next to a decoder step. Invocation 0 then does the weighting and
// the pick, in candidate order; the CPU version (src/kernels/sample-math.ts) does the same sums in
// the same order.

override WORKGROUP_SIZE: u32 = 256u;
override MAX_K: u32 = 64u;

struct Params {
  vocab: u32,
  seq: u32,
  rows: u32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> row_params: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> ids: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

const NEG_INF: f32 = -0x1.fffffep+127f; // the lowest finite f32
const NO_INDEX: u32 = 0xffffffffu;

var<workgroup> red_v: array<f32, WORKGROUP_SIZE>;
var<workgroup> red_i: array<u32, WORKGROUP_SIZE>;
var<workgroup> cand_v: array<f32, MAX_K>;
var<workgroup> cand_i: array<u32, MAX_K>;

// NaN → the lowest float: a NaN logit is never picked over a number.
fn clean(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    return NEG_INF;
  }
  return max(x, NEG_INF);
}

// Whether (v, i) comes before (bv, bi) in the order value descending, index ascending.
fn before(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  return v > bv || (v == bv && i < bi);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  if (row >= params.rows) {
    return;
  }
  let p = row_params[row];
  let k = min(u32(p.x), min(MAX_K, params.vocab));
  let base = ((row + 1u) * params.seq - 1u) * params.vocab;
  for (var round = 0u; round < k; round++) {
    var prev_v = 0x1.fffffep+127f;
    var prev_i = NO_INDEX;
    if (round > 0u) {
      prev_v = cand_v[round - 1u];
      prev_i = cand_i[round - 1u];
    }
    var best_v = NEG_INF;
    var best_i = NO_INDEX;
    for (var j = lid; j < params.vocab; j += WORKGROUP_SIZE) {
      let v = clean(logits[base + j]);
      // Only values after the previous candidate in the order are left.
      let left = round == 0u || before(prev_v, prev_i, v, j);
      if (left && before(v, j, best_v, best_i)) {
        best_v = v;
        best_i = j;
      }
    }
    red_v[lid] = best_v;
    red_i[lid] = best_i;
    workgroupBarrier();
    for (var s = WORKGROUP_SIZE / 2u; s > 0u; s = s / 2u) {
      if (lid < s && before(red_v[lid + s], red_i[lid + s], red_v[lid], red_i[lid])) {
        red_v[lid] = red_v[lid + s];
        red_i[lid] = red_i[lid + s];
      }
      workgroupBarrier();
    }
    if (lid == 0u) {
      cand_v[round] = red_v[0];
      cand_i[round] = red_i[0];
    }
    workgroupBarrier();
  }
  if (lid != 0u) {
    return;
  }
  let top = cand_v[0];
  var total = 0.0;
  for (var i = 0u; i < k; i++) {
    total += exp((cand_v[i] - top) / p.y);
  }
  // Top-p: the smallest prefix whose weight reaches p.z of the total.
  var kept = 0u;
  var kept_total = 0.0;
  loop {
    kept_total += exp((cand_v[kept] - top) / p.y);
    kept++;
    if (kept >= k || kept_total >= p.z * total) {
      break;
    }
  }
  let goal = p.w * kept_total;
  var acc = 0.0;
  var pick = cand_i[kept - 1u];
  for (var i = 0u; i < kept; i++) {
    acc += exp((cand_v[i] - top) / p.y);
    if (acc > goal) {
      pick = cand_i[i];
      break;
    }
  }
  ids[row] = pick;
}
