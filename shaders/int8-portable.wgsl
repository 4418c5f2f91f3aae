// Int8 arithmetic of the portable path, for adapters without packed_4x8_integer_dot_product: each
// packed word is unpacked once to a vec4<i32> (shift left, arithmetic shift right) and multiplied
// with the i32 `dot`. B is unpacked once per k-word and reused for every row of the tile. The host
// puts this file first, then a loop (int8-matmul-tiled.wgsl, -wide.wgsl or int8-gemv.wgsl), then
// int8-matmul-common.wgsl. int8-dp4a.wgsl defines the same interface.

// An A' word (4 k-values of one row), unpacked.
alias AOperand = vec4<i32>;

// 4 k-values of 4 columns, unpacked, one vector per column.
struct BOperand {
  c0: vec4<i32>,
  c1: vec4<i32>,
  c2: vec4<i32>,
  c3: vec4<i32>,
}

fn unpack(w: u32) -> vec4<i32> {
  return bitcast<vec4<i32>>(vec4<u32>(w << 24u, w << 16u, w << 8u, w)) >> vec4<u32>(24u);
}

fn prep_a(w: u32) -> AOperand {
  return unpack(w);
}

fn prep_b(w: vec4<u32>) -> BOperand {
  return BOperand(unpack(w.x), unpack(w.y), unpack(w.z), unpack(w.w));
}

// Σ over the 4 k-values of a · b for each of the 4 columns.
fn dots(a: AOperand, b: BOperand) -> vec4<i32> {
  return vec4<i32>(dot(a, b.c0), dot(a, b.c1), dot(a, b.c2), dot(a, b.c3));
}

// Σ over the 4 k-values of a · b for column c alone (c constant at every call site, so the switch
// folds after inlining): the wide loop keeps one i32 accumulator per column rather than a vec4.
fn dot_col(a: AOperand, b: BOperand, c: u32) -> i32 {
  switch c {
    case 0u: {
      return dot(a, b.c0);
    }
    case 1u: {
      return dot(a, b.c1);
    }
    case 2u: {
      return dot(a, b.c2);
    }
    default: {
      return dot(a, b.c3);
    }
  }
}

// Σ of the 4 k-values of a (A's row sum, needed when some zb' != 0).
fn row_sum(a: AOperand) -> i32 {
  return dot(a, vec4<i32>(1));
}
