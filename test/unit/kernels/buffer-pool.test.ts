// The buffer pool's byte cap and idle trimming, on a fake device that records destroy() calls.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BufferPool } from '../../../src/kernels/buffer-pool';
import { deviceCounts, trackDevice } from '../../../src/kernels/gpu-resources';

interface FakeBuffer {
  size: number;
  usage: number;
  destroyed: boolean;
  destroy(): undefined;
}

function fakeDevice(): { device: GPUDevice; created: FakeBuffer[] } {
  const created: FakeBuffer[] = [];
  const device = {
    createBuffer: ({ size, usage }: { size: number; usage: number }) => {
      const b: FakeBuffer = {
        size,
        usage,
        destroyed: false,
        destroy() {
          this.destroyed = true;
          return undefined;
        },
      };
      created.push(b);
      return b;
    },
    createTexture: () => ({ width: 2, height: 2, depthOrArrayLayers: 1, destroy: () => undefined }),
  } as unknown as GPUDevice;
  return { device, created };
}

const STORAGE = 0x80;

describe('BufferPool', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('keeps at most maxIdleBytes idle, destroying the least recently released first', () => {
    const { device, created } = fakeDevice();
    const pool = new BufferPool(device, { maxIdleBytes: 3000, idleMs: 0 });
    const [a, b, c] = [pool.acquire(1024, STORAGE, 'a'), pool.acquire(1024, STORAGE, 'b'), pool.acquire(2048, STORAGE, 'c')];
    pool.release(a!);
    pool.release(b!);
    expect(pool.idleCount).toEqual({ buffers: 2, bytes: 2048 });
    pool.release(c!); // 4096 idle > 3000: the oldest (a, then b) go until it fits
    expect(created.filter((x) => x.destroyed)).toEqual([a, b]);
    expect(pool.idleCount).toEqual({ buffers: 1, bytes: 2048 });
    expect(pool.acquire(2048, STORAGE, 'again')).toBe(c); // what stayed is still reused
  });

  it('hands out the oldest created idle buffer, so a repeated sequence of acquires gets the same buffers', () => {
    const { device } = fakeDevice();
    const pool = new BufferPool(device, { idleMs: 0 });
    const run = () => {
      const x = pool.acquire(1024, STORAGE, 'x');
      const y = pool.acquire(1024, STORAGE, 'y');
      pool.release(x);
      const z = pool.acquire(1024, STORAGE, 'z');
      const w = pool.acquire(1024, STORAGE, 'w');
      for (const b of [y, w, z]) pool.release(b); // released in another order than acquired
      return [x, y, z, w];
    };
    const first = run();
    expect(new Set(first).size).toBe(3); // z reused x's buffer
    const same = (got: GPUBuffer[]) => got.every((b, i) => b === first[i]); // identity, not deep equality
    expect(same(run())).toBe(true);
    expect(same(run())).toBe(true);
    expect(pool.createdCount).toBe(3);
  });

  it('destroys every idle buffer after idleMs without activity, and not before', () => {
    const { device, created } = fakeDevice();
    const pool = new BufferPool(device, { idleMs: 1000 });
    const a = pool.acquire(64, STORAGE, 'a');
    const held = pool.acquire(64, STORAGE, 'held') as unknown as FakeBuffer;
    pool.release(a);
    vi.advanceTimersByTime(900);
    pool.release(pool.acquire(64, STORAGE, 'busy')); // activity re-arms the wait
    vi.advanceTimersByTime(900);
    expect(pool.idleCount.buffers).toBe(1);
    vi.advanceTimersByTime(200);
    expect(pool.idleCount).toEqual({ buffers: 0, bytes: 0 });
    expect(created.filter((x) => x.destroyed)).toEqual([a]);
    expect(held.destroyed).toBe(false); // handed out: never trimmed
    pool.dispose();
    expect(created.every((x) => x.destroyed)).toBe(true);
  });
});

describe('trackDevice', () => {
  it('counts live buffers and bytes: created minus destroyed, a second destroy() counts once', () => {
    const { device } = fakeDevice();
    trackDevice(device);
    const a = device.createBuffer({ size: 100, usage: STORAGE });
    const b = device.createBuffer({ size: 28, usage: STORAGE });
    device.createTexture({ size: [2, 2], format: 'rgba8unorm', usage: 4 });
    expect(deviceCounts(device)).toEqual({ buffers: 2, bufferBytes: 128, textures: 1, textureBytes: 16 });
    a.destroy();
    a.destroy();
    expect(deviceCounts(device)).toMatchObject({ buffers: 1, bufferBytes: 28 });
    b.destroy();
    expect(deviceCounts(device)).toMatchObject({ buffers: 0, bufferBytes: 0 });
    expect(trackDevice(device)).toBe(trackDevice(device)); // idempotent: wrapped once
  });
});
