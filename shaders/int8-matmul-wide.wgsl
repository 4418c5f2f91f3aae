// Int8 matmul loop, "wide" tiles, made for few rows (M <= 16, one request): each invocation
// computes ROWS rows (4, 8, 12 or 16) x 4*GROUPS columns (8 or 16) of one matrix. Per packed k-word j
// it loads GROUPS vec4<u32> of B (a column group x 4 k each) and one A' word per row, prepares each
// once (prep_a/prep_b: identity for dp4a, unpack for portable) and does 4*GROUPS `dot_col` per row. So a
// B word is read once for all rows, and an A word once per 8 or 16 columns.
// Why this shape: on an emulated adapter (SwiftShader) every storage load is a per-invocation
// gather and costs far more than the arithmetic, so the loads per multiply-accumulate decide the
// speed. Measured there at 16x768x768 (portable): 16 rows x 16 columns 3.4-3.6 ms, 16 x 8 3.9-4.2,
// 8 x 8 4.7, the 8 x 4 tiled loop 5.7; at 4 rows, 4 x 8 1.6-1.8 ms, 4 x 16 2.0, tiled 2.9.
// Rows come in blocks of 4 and column groups in pairs, written out by hand as calls of row_step (a
// loop bounded by an override is not unrolled and its arrays spill, see int8-matmul-tiled.wgsl);
// `if (ROWS > r)` and `if (GROUPS > 2)` are constant per pipeline, so unused blocks cost nothing.
// Rows past m re-read row m - 1 (a_row clamps) and finish() skips them; column groups past n4
// re-read the last one and are not written.
// Workgroup: WG_X invocations along N; grid y = row blocks of ROWS, z = matrix. The arithmetic comes
// from int8-dp4a.wgsl or int8-portable.wgsl; bindings, layout and the zero-point identity from
// int8-matmul-common.wgsl.


override WG_X: u32 = 16u;
// Rows per invocation: 4, 8, 12 or 16 (the host divides M by it).
override ROWS: u32 = 16u;
// Column groups of 4 per invocation: 2 or 4.
override GROUPS: u32 = 2u;
override ROWSUM: bool = true;

// B operands of the invocation's column groups for one k-word (c, d unused when GROUPS == 2).
struct BWords {
  a: BOperand,
  b: BOperand,
  c: BOperand,
  d: BOperand,
}

// One row's accumulators: one i32 per column (a0..a3: column group 0, b: 1, c: 2, d: 3), and the
// row sum. Scalars rather than a vec4 per group: measured on SwiftShader (dp4a, 64x768x768, CPU time
// of the GPU process), 16 rows x 16 columns ran at 74-76 % of the dot4I8Packed peak with scalar
// accumulators against 69 % with vec4 ones, where each dots() result is built into a vec4 first.
struct Acc {
  a0: i32, a1: i32, a2: i32, a3: i32,
  b0: i32, b1: i32, b2: i32, b3: i32,
  c0: i32, c1: i32, c2: i32, c3: i32,
  d0: i32, d1: i32, d2: i32, d3: i32,
  s: i32,
}

// One row of one k-word: A' word j of row r against every column group.
fn row_step(r: vec2<u32>, j: u32, mask: u32, bw: BWords, acc: ptr<function, Acc>) {
  let a = prep_a(a_word(r, j, mask));
  (*acc).a0 += dot_col(a, bw.a, 0u);
  (*acc).a1 += dot_col(a, bw.a, 1u);
  (*acc).a2 += dot_col(a, bw.a, 2u);
  (*acc).a3 += dot_col(a, bw.a, 3u);
  (*acc).b0 += dot_col(a, bw.b, 0u);
  (*acc).b1 += dot_col(a, bw.b, 1u);
  (*acc).b2 += dot_col(a, bw.b, 2u);
  (*acc).b3 += dot_col(a, bw.b, 3u);
  if (GROUPS > 2u) {
    (*acc).c0 += dot_col(a, bw.c, 0u);
    (*acc).c1 += dot_col(a, bw.c, 1u);
    (*acc).c2 += dot_col(a, bw.c, 2u);
    (*acc).c3 += dot_col(a, bw.c, 3u);
    (*acc).d0 += dot_col(a, bw.d, 0u);
    (*acc).d1 += dot_col(a, bw.d, 1u);
    (*acc).d2 += dot_col(a, bw.d, 2u);
    (*acc).d3 += dot_col(a, bw.d, 3u);
  }
  if (ROWSUM) {
    (*acc).s += row_sum(a);
  }
}

// Writes one row's outputs: the column groups c0 + g that exist (g < GROUPS, c0 + g < n4).
fn finish_row(z: u32, row: u32, c0: u32, acc: Acc) {
  let n4 = params.n4;
  finish(z, row, c0, vec4<i32>(acc.a0, acc.a1, acc.a2, acc.a3), acc.s);
  if (c0 + 1u < n4) {
    finish(z, row, c0 + 1u, vec4<i32>(acc.b0, acc.b1, acc.b2, acc.b3), acc.s);
  }
  if (GROUPS > 2u && c0 + 2u < n4) {
    finish(z, row, c0 + 2u, vec4<i32>(acc.c0, acc.c1, acc.c2, acc.c3), acc.s);
    if (c0 + 3u < n4) {
      finish(z, row, c0 + 3u, vec4<i32>(acc.d0, acc.d1, acc.d2, acc.d3), acc.s);
    }
  }
}

@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n4 = params.n4;
  let kw = params.kw;
  let c0 = gid.x * GROUPS;
  if (c0 >= n4) {
    return;
  }
  // Offsets of the other column groups; past the right edge they re-read the last one.
  let d1 = min(c0 + 1u, n4 - 1u) - c0;
  let d2 = min(c0 + 2u, n4 - 1u) - c0;
  let d3 = min(c0 + 3u, n4 - 1u) - c0;
  let row = gid.y * ROWS;
  let z = gid.z;
  // Row starts and accumulators.
  let r0 = a_row(z, row + 0u);
  let r1 = a_row(z, row + 1u);
  let r2 = a_row(z, row + 2u);
  let r3 = a_row(z, row + 3u);
  let r4 = a_row(z, row + 4u);
  let r5 = a_row(z, row + 5u);
  let r6 = a_row(z, row + 6u);
  let r7 = a_row(z, row + 7u);
  let r8 = a_row(z, row + 8u);
  let r9 = a_row(z, row + 9u);
  let r10 = a_row(z, row + 10u);
  let r11 = a_row(z, row + 11u);
  let r12 = a_row(z, row + 12u);
  let r13 = a_row(z, row + 13u);
  let r14 = a_row(z, row + 14u);
  let r15 = a_row(z, row + 15u);
  var acc0 = Acc();
  var acc1 = Acc();
  var acc2 = Acc();
  var acc3 = Acc();
  var acc4 = Acc();
  var acc5 = Acc();
  var acc6 = Acc();
  var acc7 = Acc();
  var acc8 = Acc();
  var acc9 = Acc();
  var acc10 = Acc();
  var acc11 = Acc();
  var acc12 = Acc();
  var acc13 = Acc();
  var acc14 = Acc();
  var acc15 = Acc();
  var bi = b_index(z, 0u, c0);
  for (var j = 0u; j < kw; j++) {
    let mask = k_mask(j);
    var bw = BWords();
    bw.a = prep_b(b[bi]);
    bw.b = prep_b(b[bi + d1]);
    if (GROUPS > 2u) {
      bw.c = prep_b(b[bi + d2]);
      bw.d = prep_b(b[bi + d3]);
    }
    bi += n4;
    row_step(r0, j, mask, bw, &acc0);
    row_step(r1, j, mask, bw, &acc1);
    row_step(r2, j, mask, bw, &acc2);
    row_step(r3, j, mask, bw, &acc3);
    if (ROWS > 4u) {
      row_step(r4, j, mask, bw, &acc4);
      row_step(r5, j, mask, bw, &acc5);
      row_step(r6, j, mask, bw, &acc6);
      row_step(r7, j, mask, bw, &acc7);
      if (ROWS > 8u) {
        row_step(r8, j, mask, bw, &acc8);
        row_step(r9, j, mask, bw, &acc9);
        row_step(r10, j, mask, bw, &acc10);
        row_step(r11, j, mask, bw, &acc11);
        if (ROWS > 12u) {
          row_step(r12, j, mask, bw, &acc12);
          row_step(r13, j, mask, bw, &acc13);
          row_step(r14, j, mask, bw, &acc14);
          row_step(r15, j, mask, bw, &acc15);
        }
      }
    }
  }
  finish_row(z, row + 0u, c0, acc0);
  finish_row(z, row + 1u, c0, acc1);
  finish_row(z, row + 2u, c0, acc2);
  finish_row(z, row + 3u, c0, acc3);
  if (ROWS > 4u) {
    finish_row(z, row + 4u, c0, acc4);
    finish_row(z, row + 5u, c0, acc5);
    finish_row(z, row + 6u, c0, acc6);
    finish_row(z, row + 7u, c0, acc7);
    if (ROWS > 8u) {
      finish_row(z, row + 8u, c0, acc8);
      finish_row(z, row + 9u, c0, acc9);
      finish_row(z, row + 10u, c0, acc10);
      finish_row(z, row + 11u, c0, acc11);
      if (ROWS > 12u) {
        finish_row(z, row + 12u, c0, acc12);
        finish_row(z, row + 13u, c0, acc13);
        finish_row(z, row + 14u, c0, acc14);
        finish_row(z, row + 15u, c0, acc15);
      }
    }
  }
}
