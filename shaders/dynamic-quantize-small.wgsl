// DynamicQuantizeLinear for small tensors in ONE dispatch (one workgroup): the three passes of
// dynamic-quantize-{minmax,params}.wgsl and dynamic-quantize.wgsl fused, for inputs so small (a few
// rows of activations, the decoding case) that dispatch overhead, not arithmetic, is their cost.
//
// 1. Every invocation folds a grid-stride share of x into (min(0, ·), max(0, ·)), skipping
//    non-finite values; reduce_range combines the shares in workgroup memory. min/max are exact,
//    so the range, and hence scale and zero point, equal the three-pass result bit for bit.
// 2. Every invocation derives (scale, zp) from the range (quant_params; redundant but barrier-free)
//    and invocation 0 stores them as DQL's 2nd and 3rd outputs.
// 3. Every invocation quantizes a grid-stride share of the output words, 4 bytes per u32 word.
// WG, Params, reduce_range, quant_params and quantize_value come from dynamic-quantize-common.wgsl
// (appended by the host). The host picks this pass when n <= its small-tensor limit.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> scale_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> zp_out: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let n = params.n;
  var l = 0.0;
  var h = 0.0;
  for (var i = lid; i < n; i += WG) {
    let v = x[i];
    if (is_finite(v)) {
      l = min(l, v);
      h = max(h, v);
    }
  }
  let q = quant_params(reduce_range(lid, l, h));
  if (lid == 0u) {
    scale_out[0] = q.x;
    zp_out[0] = u32(q.y);
  }
  let words = params.words;
  for (var w = lid; w < words; w += WG) {
    var word = 0u;
    for (var c = 0u; c < 4u; c++) {
      let i = w * 4u + c;
      if (i < n) {
        word |= quantize_value(x[i], q.x, q.y) << (c * 8u);
      }
    }
    y[w] = word;
  }
}
