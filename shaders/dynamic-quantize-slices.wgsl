// DynamicQuantizeLinear of each leading-index slice on its own, one workgroup per slice: the
// batched decode step of `generate` (src/worker/decode-batcher.ts) quantizes each sequence's row
// with its own scale and zero point, so every sequence gets exactly the bits it would get running
// alone (for one slice this is the per-tensor operator, bit for bit).
//
// Workgroup s reads x[s*n .. s*n + n), folds (min(0, ·), max(0, ·)) over it like
// dynamic-quantize-small.wgsl, writes scale_out[s] and zero-point byte s (4 per u32 word), and
// quantizes its elements into y (bytes, 4 per word, row-major over the whole tensor). Slices need
// not start on word boundaries, so a word shared by two slices is OR-ed in atomically; the host
// zeroes y and zp_out first. WG, Params (n = elements per slice, words = words of the whole y),
// reduce_range, quant_params and quantize_value come from dynamic-quantize-common.wgsl.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> scale_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> zp_out: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> y: array<atomic<u32>>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let s = wid.x;
  let n = params.n;
  let start = s * n;
  let end = start + n;
  var l = 0.0;
  var h = 0.0;
  for (var i = start + lid; i < end; i += WG) {
    let v = x[i];
    if (is_finite(v)) {
      l = min(l, v);
      h = max(h, v);
    }
  }
  let q = quant_params(reduce_range(lid, l, h));
  if (lid == 0u) {
    scale_out[s] = q.x;
    atomicOr(&zp_out[s >> 2u], u32(q.y) << ((s & 3u) * 8u));
  }
  let first = start >> 2u;
  let last = (end + 3u) >> 2u;
  for (var w = first + lid; w < last; w += WG) {
    var word = 0u;
    for (var c = 0u; c < 4u; c++) {
      let i = w * 4u + c;
      if (i >= start && i < end) {
        word |= quantize_value(x[i], q.x, q.y) << (c * 8u);
      }
    }
    atomicOr(&y[w], word);
  }
}
