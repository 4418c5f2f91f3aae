/**
 * Device loss, seen from a run: the in-flight run must fail with {@link DeviceLostError} whatever
 * error ORT (or our readback) raises first, and the next run must not start while the failed one is
 * still inside ORT (its sessions are about to be released and rebuilt on a new device).
 */
import { DeviceLostError } from '../errors';
import type { GpuContext } from '../kernels/gpu-context';

/**
 * How long a failed WebGPU run waits for the device's lost event before reporting its own error.
 * When the device goes, ORT's (or our readback's) error usually arrives before `device.lost`
 * settles; the wait lets the run report DeviceLostError whichever came first.
 */
export const LOST_GRACE_MS = 300;

/**
 * Upper bound on waiting for a run still inside ORT after the device was lost (its GPU promises
 * settle on a lost device, so this only guards against a hang: the model then goes on).
 */
export const SETTLE_MS = 10_000;

/**
 * `work`'s value, or DeviceLostError when `gpu`'s device is lost while it runs — also when `work`
 * rejects first with another error and the loss is reported within {@link LOST_GRACE_MS} (that
 * error goes into `details.runError`). Any other rejection passes through unchanged.
 */
export async function failOnDeviceLoss<T>(gpu: GpuContext, work: Promise<T>): Promise<T> {
  const outcome = work.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const first = await Promise.race([outcome, gpu.lost.then((info) => ({ info }))]);
  if ('info' in first) throw lostError(first.info);
  if ('value' in first) return first.value;
  const info = gpu.lostInfo ?? (await Promise.race([gpu.lost, delay(LOST_GRACE_MS)]));
  if (info) throw lostError(info, first.error);
  throw first.error;
}

function lostError(info: GPUDeviceLostInfo, runError?: unknown): DeviceLostError {
  return new DeviceLostError(`The GPU device was lost during this run (${info.reason}: ${info.message}). Retry: the next run rebuilds GPU state.`, {
    reason: info.reason,
    ...(runError === undefined ? {} : { runError: runError instanceof Error ? `${runError.name}: ${runError.message}` : String(runError) }),
  });
}

/** Resolves when `p` settles, or after {@link SETTLE_MS} at the latest; never rejects. */
export function settled(p: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, SETTLE_MS);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    p.then(done, done);
  });
}

/** Resolves with null after `ms`. */
function delay(ms: number): Promise<null> {
  return new Promise((resolve) => setTimeout(() => resolve(null), ms));
}
