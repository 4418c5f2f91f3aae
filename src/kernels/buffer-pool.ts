/**
 * A pool of GPU buffers reused across runs. Sizes are rounded up to a size class (powers of two
 * below 1 MiB, then multiples of 1 MiB) so buffers of similar tensors are shared; `release` returns
 * a buffer to the pool, `dispose` destroys everything. Every buffer carries a label.
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly live = new Set<GPUBuffer>();
  private created = 0;

  constructor(private readonly device: GPUDevice) {}

  /** Buffers currently handed out (not yet released). */
  get inUse(): number {
    return this.live.size;
  }

  /** Buffers ever created by this pool (a reuse test checks this stays flat). */
  get createdCount(): number {
    return this.created;
  }

  /**
   * A buffer of at least `size` bytes with `usage`. Its `size` may be larger than asked: bind with an
   * explicit size when the shader uses `arrayLength`.
   */
  acquire(size: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const bytes = sizeClass(Math.max(size, 4));
    const key = `${usage}:${bytes}`;
    const list = this.free.get(key);
    const buffer = list?.pop() ?? this.create(bytes, usage, label);
    this.live.add(buffer);
    return buffer;
  }

  /** Returns `buffer` to the pool; buffers not from this pool are ignored. */
  release(buffer: GPUBuffer): void {
    if (!this.live.delete(buffer)) return;
    const key = `${buffer.usage}:${buffer.size}`;
    const list = this.free.get(key) ?? [];
    list.push(buffer);
    this.free.set(key, list);
  }

  /** Destroys every buffer, pooled or handed out. */
  dispose(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    for (const b of this.live) b.destroy();
    this.free.clear();
    this.live.clear();
  }

  private create(size: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    this.created++;
    return this.device.createBuffer({ label: `webq8:${label}`, size, usage });
  }
}

/** Rounds a byte size up to its pool size class. */
export function sizeClass(size: number): number {
  const MiB = 1 << 20;
  if (size >= MiB) return Math.ceil(size / MiB) * MiB;
  let s = 16;
  while (s < size) s *= 2;
  return s;
}
