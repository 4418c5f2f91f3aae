// Int8 convolution as an implicit GEMM: output pixels are the GEMM's rows (M = N·OH·OW), the
// kernel window the inner dimension (K = C/group · KH · KW, ordered like the weight's [C, KH, KW]),
// output channels of one group the columns; grid z = group. im2col is folded into the loads: each
// packed A' word (4 k-values of one pixel) is gathered byte by byte from the NCHW input, with
// padding read as x_zero_point, and never stored. The weights are prepacked like a matmul's B
// (src/kernels/int8-weights.ts: 4 k × 4 columns per vec4<u32>, one matrix per group), so the
// arithmetic (int8-dp4a.wgsl or int8-portable.wgsl, put first by the host) and the zero-point
// identity are the matmul's:
//   Y = Σ(A' − za')(B' − zb') = acc − zb'·rowsum(A') − za'·(colsum(B') − K·zb').
// Each invocation computes TILE_ROWS pixels × 4 output channels; the (c, ky, kx) of the 4 k-values
// of a word are decoded once and shared by the pixels. int8-conv-common.wgsl follows this file.

override WG_X: u32 = 4u;
override WG_Y: u32 = 16u;
override ROWSUM: bool = true;

const TILE_ROWS = 4u;

@group(0) @binding(1) var<storage, read> b: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> col_i: array<vec2<i32>>;

// Where a pixel's window starts: x offset of its image's first channel of the group, and the
// top-left input row and column (negative inside the padding).
struct Origin {
  base: u32,
  iy: i32,
  ix: i32,
}

fn origin(row: u32, g: u32) -> Origin {
  let r = min(row, params.rows - 1u);
  let pixels = params.oh * params.ow;
  let n = r / pixels;
  let p = r % pixels;
  let oy = p / params.ow;
  let ox = p % params.ow;
  let base = (n * params.c + g * params.cg) * params.in_h * params.in_w;
  return Origin(base, i32(oy * params.sh) - i32(params.pt), i32(ox * params.sw) - i32(params.pl));
}

// The 4 k-values of word j: x offset of the channel plane, row and column offsets, and whether k < K.
struct Taps {
  plane: vec4<u32>,
  dy: vec4<i32>,
  dx: vec4<i32>,
  live: vec4<bool>,
}

fn taps(j: u32) -> Taps {
  var t: Taps;
  for (var i = 0u; i < 4u; i++) {
    let k = j * 4u + i;
    let kx = k % params.kw;
    let r = k / params.kw;
    t.plane[i] = (r / params.kh) * params.in_h * params.in_w;
    t.dy[i] = i32((r % params.kh) * params.dh);
    t.dx[i] = i32(kx * params.dw);
    t.live[i] = k < params.k;
  }
  return t;
}

// The A' word of one pixel: 4 gathered bytes shifted to int8; padding gives za', k ≥ K gives 0.
fn gather(o: Origin, t: Taps, zbyte: u32) -> u32 {
  var w = 0u;
  for (var i = 0u; i < 4u; i++) {
    let iy = o.iy + t.dy[i];
    let ix = o.ix + t.dx[i];
    var v = zbyte;
    if (iy >= 0 && iy < i32(params.in_h) && ix >= 0 && ix < i32(params.in_w)) {
      v = x_byte(o.base + t.plane[i] + u32(iy) * params.in_w + u32(ix));
    }
    v = select(0u, v ^ params.a_xor, t.live[i]);
    w = w | (v << (i * 8u));
  }
  return w;
}

fn finish(g: u32, row: u32, col4: u32, acc: vec4<i32>, rs: i32, za: i32) {
  if (row >= params.rows) {
    return;
  }
  let pixels = params.oh * params.ow;
  let n = row / pixels;
  let p = row % pixels;
  for (var c = 0u; c < 4u; c++) {
    let col = col4 * 4u + c;
    if (col >= params.mg) {
      break;
    }
    let oc = g * params.mg + col;
    let ci = col_i[g * params.n4 * 4u + col];
    store((n * params.m + oc) * pixels + p, oc, acc[c] - ci.x * rs - za * ci.y);
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col4 = gid.x;
  let row = gid.y * TILE_ROWS;
  let g = gid.z;
  if (col4 >= params.n4 || row >= params.rows) {
    return;
  }
  let zbyte = azp[0] & 0xffu;
  let o0 = origin(row, g);
  let o1 = origin(row + 1u, g);
  let o2 = origin(row + 2u, g);
  let o3 = origin(row + 3u, g);
  var acc: array<vec4<i32>, TILE_ROWS>;
  var rs: array<i32, TILE_ROWS>;
  var bi = g * params.kwords * params.n4 + col4;
  for (var j = 0u; j < params.kwords; j++) {
    let t = taps(j);
    let bw = prep_b(b[bi]);
    bi += params.n4;
    let a0 = prep_a(gather(o0, t, zbyte));
    acc[0] += dots(a0, bw);
    let a1 = prep_a(gather(o1, t, zbyte));
    acc[1] += dots(a1, bw);
    let a2 = prep_a(gather(o2, t, zbyte));
    acc[2] += dots(a2, bw);
    let a3 = prep_a(gather(o3, t, zbyte));
    acc[3] += dots(a3, bw);
    if (ROWSUM) {
      rs[0] += row_sum(a0);
      rs[1] += row_sum(a1);
      rs[2] += row_sum(a2);
      rs[3] += row_sum(a3);
    }
  }
  let za = zero_point();
  finish(g, row + 0u, col4, acc[0], rs[0], za);
  finish(g, row + 1u, col4, acc[1], rs[1], za);
  finish(g, row + 2u, col4, acc[2], rs[2], za);
  finish(g, row + 3u, col4, acc[3], rs[3], za);
}
