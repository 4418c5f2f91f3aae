// Output binding of the int8 matmul kernels, atomic form (appended by the host after
// int8-matmul-common.wgsl): needed by MODE 2, whose uint8/int8 outputs share words (OR-ed in), and
// by split-K partial sums (added in). The older loops use it for every MODE.
@group(0) @binding(6) var<storage, read_write> out: array<atomic<u32>>;

fn store_out(o: u32, v: u32) {
  atomicStore(&out[o], v);
}

fn or_out(o: u32, v: u32) {
  atomicOr(&out[o], v);
}

fn add_out(o: u32, v: u32) {
  atomicAdd(&out[o], v);
}
