// DynamicQuantizeLinear, pass 2 of 3: scale and zero point, on the GPU (no readback).
//
// One workgroup reduces the P <= 256 partial ranges of pass 1 to (lo, hi) = (min(0, min x),
// max(0, max x)) and computes, exactly as ONNX's reference does in float32:
//   scale = (hi == lo ? 1 : hi - lo) / 255,   zp = round(clamp(0 - lo / scale, 0, 255))
// (ties to even). They go to their own buffers: DQL's 2nd and 3rd outputs, which pass 3 and the
// int8 matmul epilogue read directly. A separate pass keeps barriers out of the big pass 3.
// WG, Params, reduce_range and quant_params come from dynamic-quantize-common.wgsl (appended by the host).

@group(0) @binding(0) var<storage, read> partials: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read_write> scale_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> zp_out: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var l = 0.0;
  var h = 0.0;
  for (var p = lid; p < params.parts; p += WG) {
    let v = partials[p];
    l = min(l, v.x);
    h = max(h, v.y);
  }
  let range = reduce_range(lid, l, h);
  if (lid == 0u) {
    let q = quant_params(range);
    scale_out[0] = q.x;
    zp_out[0] = u32(q.y);
  }
}
