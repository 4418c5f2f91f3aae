// Elementwise affine map on float32: y[i] = x[i] * scale + bias.
//
// webq8's first kernel, and the smallest one that proves the hand-off: it reads a tensor that an
// ORT session left on the GPU and writes one that the next ORT session reads, on ORT's own device.
// Layout: x and y are dense float32 arrays of n elements. One invocation per element; the linear
// index spans two dispatch dimensions so n may exceed 65535 * WORKGROUP_SIZE.

override WORKGROUP_SIZE: u32 = 64u;

struct Params {
  n: u32,
  scale: f32,
  bias: f32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WORKGROUP_SIZE + lid;
  if (i >= params.n) {
    return;
  }
  y[i] = x[i] * params.scale + params.bias;
}
