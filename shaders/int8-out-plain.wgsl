// Output binding of the int8 matmul kernels, plain form (appended by the host after
// int8-matmul-common.wgsl): ordinary stores, for MODE 0 and 1 when every output word has exactly one
// writer. Some backends lower even a relaxed atomicStore to a read-modify-write (HLSL's
// InterlockedExchange), so the GPU-shaped loops avoid atomics when they can. The host never pairs
// this file with MODE 2 or split-K partial sums: or_out and add_out are defined only so that the
// shared epilogue compiles, and would race if two invocations used them on one word.
@group(0) @binding(6) var<storage, read_write> out: array<u32>;

fn store_out(o: u32, v: u32) {
  out[o] = v;
}

fn or_out(o: u32, v: u32) {
  out[o] = out[o] | v;
}

fn add_out(o: u32, v: u32) {
  out[o] = out[o] + v;
}
