// Reduction of int8-gemv-splitk.wgsl with subgroup operations, used only on devices with the
// `subgroups` feature (the host puts `enable subgroups;` at the top of the module). Lanes along x are
// neighbouring column groups (so B loads stay coalesced), which puts several column groups in one
// subgroup: a plain subgroupAdd would mix them. A butterfly of subgroupShuffleXor over the lane bits
// at and above log2(WG_X) adds, inside each subgroup, the partial sums of one column group; the
// subgroups' totals then meet in workgroup memory (a tree over WG_Y / (size / WG_X) slots instead
// of WG_Y). Assumes what WebGPU backends do for these workgroups: a subgroup is a run of
// consecutive local_invocation_index, so lane % WG_X == lid.x. With a subgroup narrower than WG_X
// (or wider than the workgroup) the plain workgroup-memory tree runs instead (same result).

var<workgroup> red_acc: array<vec4<i32>, 256>;
var<workgroup> red_rs: array<i32, 256>;
var<workgroup> red_size: u32;

fn reduce_part(p: Part, lid: vec3<u32>, li: u32) -> Part {
  let size = subgroupAdd(1u); // every lane is active here: the subgroup's size
  if (li == 0u) {
    red_size = size;
  }
  let wsize = workgroupUniformLoad(&red_size);
  let fold = wsize >= WG_X && wsize <= WG_X * WG_Y;
  var acc = p.acc;
  var rs = p.rs;
  if (fold) {
    for (var m = WG_X; m < wsize; m <<= 1u) {
      acc += subgroupShuffleXor(acc, m);
      rs += subgroupShuffleXor(rs, m);
    }
  }
  red_acc[li] = acc;
  red_rs[li] = rs;
  workgroupBarrier();
  // Slots still to add: the first of each subgroup's k-slices (stride size / WG_X), or all.
  let stride = select(1u, wsize / WG_X, fold);
  for (var s = WG_Y / 2u; s >= stride && s > 0u; s >>= 1u) {
    if (lid.y < s && lid.y % stride == 0u) {
      red_acc[li] += red_acc[li + s * WG_X];
      red_rs[li] += red_rs[li + s * WG_X];
    }
    workgroupBarrier();
  }
  let out = Part(red_acc[li], red_rs[li]);
  workgroupBarrier();
  return out;
}
