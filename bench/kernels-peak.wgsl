// Peak int8 multiply-accumulate throughput of the adapter (bench/kernels.mjs), two entry points:
//   dp4a: 8 independent dot4I8Packed chains per iteration (4 MACs = 8 ops each);
//   mad_vec4: 8 independent vec4<i32> multiply-adds per iteration (4 MACs = 8 ops each), the
//         portable kernels' arithmetic.
// Operands depend on the invocation id and the loop counter so nothing folds; the sum is stored so
// nothing is dead.
requires packed_4x8_integer_dot_product;

override ITERS: u32 = 1024u;

@group(0) @binding(0) var<storage, read_write> sink: array<i32>;

@compute @workgroup_size(256)
fn dp4a(@builtin(global_invocation_id) gid: vec3<u32>) {
  var a = gid.x * 0x01030507u + 0x11223344u;
  var acc = array<i32, 8>();
  for (var i = 0u; i < ITERS; i++) {
    let b = a ^ i;
    acc[0] += dot4I8Packed(a, b);
    acc[1] += dot4I8Packed(a, b + 1u);
    acc[2] += dot4I8Packed(a, b + 2u);
    acc[3] += dot4I8Packed(a, b + 3u);
    acc[4] += dot4I8Packed(a, b + 4u);
    acc[5] += dot4I8Packed(a, b + 5u);
    acc[6] += dot4I8Packed(a, b + 6u);
    acc[7] += dot4I8Packed(a, b + 7u);
    a = b;
  }
  sink[gid.x] = acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] + acc[7];
}

@compute @workgroup_size(256)
fn mad_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  var a = vec4<i32>(i32(gid.x), 3, 5, 7);
  var acc0 = vec4<i32>(); var acc1 = vec4<i32>(); var acc2 = vec4<i32>(); var acc3 = vec4<i32>();
  var acc4 = vec4<i32>(); var acc5 = vec4<i32>(); var acc6 = vec4<i32>(); var acc7 = vec4<i32>();
  for (var i = 0u; i < ITERS; i++) {
    let b = a ^ vec4<i32>(i32(i));
    acc0 += a * b;
    acc1 += a * (b + 1);
    acc2 += a * (b + 2);
    acc3 += a * (b + 3);
    acc4 += a * (b + 4);
    acc5 += a * (b + 5);
    acc6 += a * (b + 6);
    acc7 += a * (b + 7);
    a = b;
  }
  let s = acc0 + acc1 + acc2 + acc3 + acc4 + acc5 + acc6 + acc7;
  sink[gid.x] = s.x + s.y + s.z + s.w;
}
