/**
 * The release side of verification (docs/verify.md): a candidate version whose GPU plan diverged
 * from ORT's WASM EP on this device is never served or promoted here. At load it is refused (rule
 * `numerics`), even when `onDiverge: 'fallback'` made it loadable from WASM; a candidate that
 * diverges later, on a production run sampled in service (`verify.sampleRate`), is rolled back at
 * once under the same rule. Either way the stable version keeps serving, and the incident tells
 * the fleet which devices the candidate is wrong on.
 */
import { NumericsError } from '../errors';
import type { ModelInfo, ReleaseDecision } from '../types';
import type { Slot } from './slot';

/** @throws {@link NumericsError} when the candidate `version` diverged at load (`info.verify.status`). */
export function assertVerified(version: string, info: ModelInfo): void {
  const v = info.verify;
  if (v?.status !== 'diverged') return;
  const worst = v.outputs.find((o) => o.metric !== 'relL2' || o.value > o.tolerance) ?? v.outputs[0];
  throw new NumericsError(`Candidate ${version} was refused on this device (adapter ${adapterOf(info)}): ${v.reason}`, {
    ...worst,
    adapter: adapterOf(info),
    version,
  });
}

/**
 * The evidence against `slot` when a replica of it found a divergence in service (its counts as of
 * its last answer), or null: the rollback's incident names the output, metric, value and adapter.
 */
export function divergedInService(slot: Slot): ReleaseDecision['evidence'] | null {
  for (const r of slot.server.replicas) {
    const s = r.info.verify?.service;
    if (!s || s.diverged === 0) continue;
    const worst = s.lastDiverged;
    return {
      phase: 'service',
      checked: s.checked,
      diverged: s.diverged,
      ...(worst ? { output: worst.name, metric: worst.metric, value: worst.value, tolerance: worst.tolerance } : {}),
      adapter: adapterOf(r.info),
      message: (s.lastDivergence ?? '').slice(0, 500),
    };
  }
  return null;
}

function adapterOf(info: ModelInfo): string {
  return info.adapter ? `${info.adapter.vendor}/${info.adapter.architecture}` : 'unknown';
}
