requires packed_4x8_integer_dot_product;

// Int8 arithmetic of the dp4a path: dot4I8Packed does 4 int8 multiply-accumulates per call on the
// packed words as they are, so operands need no preparation. The host puts this file first (a
// `requires` directive must open the module), then a loop (int8-matmul-tiled.wgsl, int8-matmul-wide.wgsl or
// int8-gemv.wgsl), then int8-matmul-common.wgsl. int8-portable.wgsl defines the same interface.

// An A' word (4 k-values of one row) as the loop keeps it.
alias AOperand = u32;
// A vec4<u32> of B (4 k-values of 4 columns) as the loop keeps it.
alias BOperand = vec4<u32>;

fn prep_a(w: u32) -> AOperand {
  return w;
}

fn prep_b(w: vec4<u32>) -> BOperand {
  return w;
}

// Σ over the 4 k-values of a · b for each of the 4 columns.
fn dots(a: AOperand, b: BOperand) -> vec4<i32> {
  return vec4<i32>(dot4I8Packed(a, b.x), dot4I8Packed(a, b.y), dot4I8Packed(a, b.z), dot4I8Packed(a, b.w));
}

// Σ over the 4 k-values of a · b for column c alone (c constant at every call site, so it folds
// after inlining): the wide loop keeps one i32 accumulator per column rather than a vec4.
fn dot_col(a: AOperand, b: BOperand, c: u32) -> i32 {
  return dot4I8Packed(a, b[c]);
}

// Σ of the 4 k-values of a (A's row sum, needed when some zb' != 0).
fn row_sum(a: AOperand) -> i32 {
  return dot4I8Packed(a, 0x01010101u);
}
