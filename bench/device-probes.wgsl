// Device probes of bench/device.mjs.
//   stream: streaming-read bandwidth. Each invocation reads vec4<u32> words in a grid-stride loop
//           (neighbouring invocations read neighbouring 16 bytes) and stores one sum, so the
//           traffic is the buffer's size; the sum keeps the loads alive.
//   dp4a:   dot4I8Packed throughput: 8 independent accumulator chains of 4 MACs per iteration, no
//           memory traffic in the loop (the operands are loop-invariant registers, XOR-ed with the
//           chain's accumulator so no product can be hoisted: one XOR per dot), and enough
//           workgroups (bench: 8 per compute unit or more) to fill every compute unit.
requires packed_4x8_integer_dot_product;

override ITERS: u32 = 1024u;

@group(0) @binding(0) var<storage, read_write> sink: array<u32>;
@group(0) @binding(1) var<storage, read> src: array<vec4<u32>>;

@compute @workgroup_size(256)
fn stream(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let stride = nw.x * 256u;
  var acc = vec4<u32>();
  for (var i = gid.x; i < arrayLength(&src); i += stride) {
    acc ^= src[i];
  }
  sink[gid.x] = acc.x ^ acc.y ^ acc.z ^ acc.w;
}

@compute @workgroup_size(256)
fn dp4a(@builtin(global_invocation_id) gid: vec3<u32>) {
  let a = gid.x * 0x01030507u + 0x11223344u;
  let b = a ^ 0x5a5a5a5au;
  var acc = array<i32, 8>(0, 1, 2, 3, 4, 5, 6, 7);
  for (var i = 0u; i < ITERS; i++) {
    acc[0] = dot4I8Packed(a ^ bitcast<u32>(acc[0]), b) + acc[0];
    acc[1] = dot4I8Packed(a ^ bitcast<u32>(acc[1]), b) + acc[1];
    acc[2] = dot4I8Packed(a ^ bitcast<u32>(acc[2]), b) + acc[2];
    acc[3] = dot4I8Packed(a ^ bitcast<u32>(acc[3]), b) + acc[3];
    acc[4] = dot4I8Packed(a ^ bitcast<u32>(acc[4]), b) + acc[4];
    acc[5] = dot4I8Packed(a ^ bitcast<u32>(acc[5]), b) + acc[5];
    acc[6] = dot4I8Packed(a ^ bitcast<u32>(acc[6]), b) + acc[6];
    acc[7] = dot4I8Packed(a ^ bitcast<u32>(acc[7]), b) + acc[7];
  }
  sink[gid.x] = u32(acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] + acc[7]);
}
