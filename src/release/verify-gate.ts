/**
 * The release side of load-time verification (docs/verify.md): a candidate version whose GPU plan
 * diverged from ORT's WASM EP on this device is refused (rule `numerics`) and never served or
 * promoted here, even when `onDiverge: 'fallback'` made it loadable from WASM: the stable version
 * keeps serving, and the incident tells the fleet which devices the candidate is wrong on.
 */
import { NumericsError } from '../errors';
import type { ModelInfo } from '../types';

/** @throws {@link NumericsError} when the candidate `version` diverged at load (`info.verify.status`). */
export function assertVerified(version: string, info: ModelInfo): void {
  const v = info.verify;
  if (v?.status !== 'diverged') return;
  const worst = v.outputs.find((o) => o.metric !== 'relL2' || o.value > o.tolerance) ?? v.outputs[0];
  const adapter = info.adapter ? `${info.adapter.vendor}/${info.adapter.architecture}` : 'unknown';
  throw new NumericsError(`Candidate ${version} was refused on this device (adapter ${adapter}): ${v.reason}`, { ...worst, adapter, version });
}
