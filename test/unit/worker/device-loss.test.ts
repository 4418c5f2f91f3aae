// The in-flight run's error on device loss: DeviceLostError whichever error arrives first.
import { describe, expect, it, vi } from 'vitest';
import { DeviceLostError } from '../../../src/errors';
import type { GpuContext } from '../../../src/kernels/gpu-context';
import { failOnDeviceLoss, LOST_GRACE_MS, settled, SETTLE_MS } from '../../../src/worker/device-loss';

/** A context whose device is lost when `lose()` is called. */
function fakeGpu() {
  let lose!: (info: GPUDeviceLostInfo) => void;
  const gpu = { lostInfo: null as GPUDeviceLostInfo | null, lost: new Promise<GPUDeviceLostInfo>((r) => (lose = r)) };
  const info = { reason: 'destroyed', message: 'Device was destroyed.' } as GPUDeviceLostInfo;
  return {
    gpu: gpu as unknown as GpuContext,
    lose: () => {
      gpu.lostInfo = info;
      lose(info);
    },
  };
}

describe('failOnDeviceLoss', () => {
  it("reports DeviceLostError when ORT's own error wins the race against device.lost", async () => {
    const { gpu, lose } = fakeGpu();
    const p = failOnDeviceLoss(gpu, Promise.reject(new Error('9944392')));
    setTimeout(lose, 20); // the lost event comes after the run's error, within the grace period
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceLostError);
    expect((err as DeviceLostError).details).toEqual({ reason: 'destroyed', runError: 'Error: 9944392' });
  });

  it('reports DeviceLostError when the loss comes first, and passes values and other errors through', async () => {
    const a = fakeGpu();
    const hang = new Promise<number>(() => undefined);
    const p = failOnDeviceLoss(a.gpu, hang);
    a.lose();
    await expect(p).rejects.toBeInstanceOf(DeviceLostError);
    expect(await failOnDeviceLoss(fakeGpu().gpu, Promise.resolve(7))).toBe(7);
    vi.useFakeTimers();
    try {
      const plain = new TypeError('bad feed');
      const q = failOnDeviceLoss(fakeGpu().gpu, Promise.reject(plain)).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(LOST_GRACE_MS);
      expect(await q).toBe(plain);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('settled', () => {
  it('resolves when the promise settles either way, or after SETTLE_MS', async () => {
    await settled(Promise.reject(new Error('x')));
    vi.useFakeTimers();
    try {
      let done = false;
      void settled(new Promise(() => undefined)).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(SETTLE_MS - 1);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(done).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
