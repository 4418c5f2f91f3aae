// DynamicQuantizeLinear, pass 1 of 3: the range of x, as per-workgroup partial (min, max).
//
// ONNX quantizes with min(0, min x) and max(0, max x), so every accumulator starts at 0. Each
// workgroup folds one contiguous chunk of `chunk` elements (grid-stride over its invocations) and
// tree-reduces in workgroup memory (reduce_range, dynamic-quantize-common.wgsl, appended by the
// host): partials[wid] = (lo, hi). Pass 2 (dynamic-quantize-params.wgsl) reduces the partials.
// Non-finite inputs are skipped (webq8's NaN/Inf policy, see src/kernels/reference.ts; is_finite
// tests the bit pattern).

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let start = wid.x * params.chunk;
  let end = min(start + params.chunk, params.n);
  var l = 0.0;
  var h = 0.0;
  for (var i = start + lid; i < end; i += WG) {
    let v = x[i];
    if (is_finite(v)) {
      l = min(l, v);
      h = max(h, v);
    }
  }
  let range = reduce_range(lid, l, h);
  if (lid == 0u) {
    partials[wid.x] = range;
  }
}
