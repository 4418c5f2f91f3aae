// Reduction of int8-gemv-splitk.wgsl in workgroup memory (every adapter): the WG_Y partial sums of
// each column group are added by a tree of log2(WG_Y) steps (WG_Y is a power of two). The result is
// valid in the invocations with lid.y == 0. Called in uniform control flow (it has barriers).

var<workgroup> red_acc: array<vec4<i32>, 256>;
var<workgroup> red_rs: array<i32, 256>;

fn reduce_part(p: Part, lid: vec3<u32>, li: u32) -> Part {
  red_acc[li] = p.acc;
  red_rs[li] = p.rs;
  workgroupBarrier();
  for (var s = WG_Y / 2u; s > 0u; s >>= 1u) {
    if (lid.y < s) {
      red_acc[li] += red_acc[li + s * WG_X];
      red_rs[li] += red_rs[li + s * WG_X];
    }
    workgroupBarrier();
  }
  let out = Part(red_acc[li], red_rs[li]);
  workgroupBarrier(); // the next row may overwrite the slots
  return out;
}
