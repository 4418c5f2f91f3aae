// DynamicQuantizeLinear, pass 3 of 3: the uint8 tensor, y = clamp(round(x / scale) + zp, 0, 255),
// ties to even, with scale and zp from pass 2 (read from their buffers, never from the CPU).
//
// Each invocation packs 4 consecutive y bytes into one u32 word (the tail word is zero-padded). No
// barriers and no workgroup memory: on SwiftShader a barrier is expensive, and elsewhere the
// redundant per-workgroup reduction it would need is wasted work.
// quantize_value (dynamic-quantize-common.wgsl, appended by the host with WG and Params) does the
// arithmetic and the NaN/Inf policy.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> scale_in: array<f32>;
@group(0) @binding(2) var<storage, read> zp_in: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let w = (wid.x + wid.y * nwg.x) * WG + lid;
  if (w >= params.words) {
    return;
  }
  let scale = scale_in[0];
  let zp = f32(zp_in[0]);
  var word = 0u;
  for (var c = 0u; c < 4u; c++) {
    let i = w * 4u + c;
    if (i < params.n) {
      word |= quantize_value(x[i], scale, zp) << (c * 8u);
    }
  }
  y[w] = word;
}
