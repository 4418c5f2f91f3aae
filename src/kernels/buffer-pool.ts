/** Options of {@link BufferPool}. */
export interface BufferPoolOptions {
  /**
   * Most bytes kept in idle (released) buffers; a release past it destroys the oldest idle buffers.
   * Default {@link DEFAULT_POOL_MAX_IDLE_BYTES}.
   */
  maxIdleBytes?: number;
  /**
   * Milliseconds without an acquire or release after which every idle buffer is destroyed (0: never).
   * Default {@link DEFAULT_POOL_IDLE_MS}. A model between bursts of requests then holds only its
   * weights, not the activations of its largest past request.
   */
  idleMs?: number;
}

/** Default byte cap of a pool's idle buffers. */
export const DEFAULT_POOL_MAX_IDLE_BYTES = 64 << 20;
/** Default idle time before a pool destroys its idle buffers. */
export const DEFAULT_POOL_IDLE_MS = 5_000;

/**
 * A pool of GPU buffers reused across runs. Sizes are rounded up to a size class (powers of two
 * below 1 MiB, then multiples of 1 MiB) so buffers of similar tensors are shared; `release` returns
 * a buffer to the pool, `dispose` destroys everything. Idle buffers are capped in bytes and trimmed
 * after a quiet period (see {@link BufferPoolOptions}). Every buffer carries a label.
 *
 * Of the idle buffers of a size class, `acquire` hands out the oldest created: the same sequence of
 * acquires and releases then gets the same buffers every time it starts from the same idle set, so a
 * plan's second run binds exactly the buffers of its first (and reuses its bind groups).
 */
export class BufferPool {
  /**
   * Idle buffers by `usage:size`; a Map keeps insertion order, so the first key is the oldest. Each
   * list is in descending creation order: `pop` takes the oldest created.
   */
  private readonly free = new Map<string, GPUBuffer[]>();
  /** Creation order of this pool's buffers. */
  private readonly born = new WeakMap<GPUBuffer, number>();
  private readonly live = new Set<GPUBuffer>();
  private created = 0;
  private idle = 0;
  private idleBytesNow = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastUse = 0;
  private readonly maxIdleBytes: number;
  private readonly idleMs: number;

  constructor(
    private readonly device: GPUDevice,
    options: BufferPoolOptions = {},
  ) {
    this.maxIdleBytes = options.maxIdleBytes ?? DEFAULT_POOL_MAX_IDLE_BYTES;
    this.idleMs = options.idleMs ?? DEFAULT_POOL_IDLE_MS;
  }

  /** Buffers currently handed out (not yet released). */
  get inUse(): number {
    return this.live.size;
  }

  /** Buffers ever created by this pool (a reuse test checks this stays flat). */
  get createdCount(): number {
    return this.created;
  }

  /** Idle buffers and their bytes. */
  get idleCount(): { buffers: number; bytes: number } {
    return { buffers: this.idle, bytes: this.idleBytesNow };
  }

  /**
   * A buffer of at least `size` bytes with `usage`. Its `size` may be larger than asked: bind with an
   * explicit size when the shader uses `arrayLength`.
   */
  acquire(size: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const bytes = sizeClass(Math.max(size, 4));
    const key = `${usage}:${bytes}`;
    const list = this.free.get(key);
    let buffer = list?.pop();
    if (buffer) {
      this.idle--;
      this.idleBytesNow -= buffer.size;
      if (list!.length === 0) this.free.delete(key);
    } else {
      buffer = this.create(bytes, usage, label);
    }
    this.live.add(buffer);
    this.touch();
    return buffer;
  }

  /** Returns `buffer` to the pool; buffers not from this pool are ignored. */
  release(buffer: GPUBuffer): void {
    if (!this.live.delete(buffer)) return;
    const key = `${buffer.usage}:${buffer.size}`;
    // Re-inserted keys move to the end: the first key stays the least recently released.
    const list = this.free.get(key) ?? [];
    this.free.delete(key);
    const n = this.born.get(buffer)!;
    let at = list.length;
    while (at > 0 && this.born.get(list[at - 1]!)! < n) at--;
    list.splice(at, 0, buffer);
    this.free.set(key, list);
    this.idle++;
    this.idleBytesNow += buffer.size;
    this.trim(this.maxIdleBytes);
    this.touch();
  }

  /** Destroys idle buffers until at most `keepBytes` stay idle: the least recently released size class first, its newest created buffers first. */
  trim(keepBytes = 0): void {
    for (const [key, list] of this.free) {
      if (this.idleBytesNow <= keepBytes) return;
      while (list.length > 0 && this.idleBytesNow > keepBytes) {
        const b = list.shift()!;
        this.idle--;
        this.idleBytesNow -= b.size;
        b.destroy();
      }
      if (list.length === 0) this.free.delete(key);
    }
  }

  /** Destroys every buffer, pooled or handed out. */
  dispose(): void {
    this.clearTimer();
    this.trim(0);
    for (const b of this.live) b.destroy();
    this.live.clear();
  }

  private create(size: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const buffer = this.device.createBuffer({ label: `webq8:${label}`, size, usage });
    this.born.set(buffer, this.created++);
    return buffer;
  }

  /**
   * Notes activity and makes sure a timer is armed while anything is idle. One timer re-arms itself
   * instead of being reset per call: acquire/release run several times per dispatch.
   */
  private touch(): void {
    this.lastUse = Date.now();
    if (this.idleMs > 0 && this.timer === null && this.idle > 0) this.arm(this.idleMs);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      const quiet = Date.now() - this.lastUse;
      if (quiet >= this.idleMs) this.trim(0);
      else this.arm(this.idleMs - quiet);
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
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
