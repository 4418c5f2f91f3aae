// Int8 convolution, direct: one invocation per output element sums (x − x_zp)·(w − w_zp[m]) over
// its window in i32, skipping padding (which holds x_zp and adds nothing). For depthwise convs
// (one input channel per group: K = KH·KW is a handful of taps and each output channel has its own
// weights) a GEMM has nothing to tile, so this simple loop is the kernel. The weights are plain
// i32 values `[M, C/group, KH, KW]`, their zero points one i32 per output channel.
// int8-conv-common.wgsl follows this file.

override WG: u32 = 64u;

@group(0) @binding(1) var<storage, read> wt: array<i32>;
@group(0) @binding(2) var<storage, read> wzp: array<i32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let o = (wid.x + wid.y * nwg.x) * WG + li;
  let pixels = params.oh * params.ow;
  if (o >= params.batch * params.m * pixels) {
    return;
  }
  let p = o % pixels;
  let oc = (o / pixels) % params.m;
  let n = o / (pixels * params.m);
  let oy = p / params.ow;
  let ox = p % params.ow;
  let g = oc / params.mg;
  let za = zero_point();
  let zw = wzp[oc];
  let iy0 = i32(oy * params.sh) - i32(params.pt);
  let ix0 = i32(ox * params.sw) - i32(params.pl);
  var acc = 0i;
  for (var c = 0u; c < params.cg; c++) {
    let plane = (n * params.c + g * params.cg + c) * params.in_h * params.in_w;
    let wbase = (oc * params.cg + c) * params.kh * params.kw;
    for (var ky = 0u; ky < params.kh; ky++) {
      let iy = iy0 + i32(ky * params.dh);
      if (iy < 0 || iy >= i32(params.in_h)) {
        continue;
      }
      for (var kx = 0u; kx < params.kw; kx++) {
        let ix = ix0 + i32(kx * params.dw);
        if (ix < 0 || ix >= i32(params.in_w)) {
          continue;
        }
        let xv = sign_extend8(x_byte(plane + u32(iy) * params.in_w + u32(ix)) ^ params.a_xor) - za;
        acc += xv * (wt[wbase + ky * params.kw + kx] - zw);
      }
    }
  }
  store(o, oc, acc);
}
