/**
 * The main thread's view of verification in service (src/worker/verify-service.ts): each answer
 * carries the model's counts as of that answer, and the backend it is served from now (a
 * divergence under `onDiverge: 'fallback'` switches it to WASM). A replica's {@link ModelInfo}
 * follows them; `model.stats().verify` sums its replicas.
 */
import type { RunReply } from '../protocol';
import type { SeriesAttributes, Telemetry } from '../telemetry';
import type { ModelInfo, ServiceVerifyStats, VerifiedOutput, VerifyIncident } from '../types';

/** `info` with the verification counts and backend an answer carried (as it was when the answer carries none). */
export function followVerify(info: ModelInfo, { verify }: Pick<RunReply, 'verify'>): ModelInfo {
  if (!info.verify || !verify) return info;
  const next: ModelInfo = { ...info, verify: { ...info.verify, service: verify.service } };
  if (verify.backend && verify.backend.backend !== info.backend.backend) {
    next.backend = verify.backend;
    if (info.strategy) next.strategy = { ...info.strategy, strategy: 'ort', reason: verify.backend.reason };
  }
  return next;
}

/** The counts of every replica together (null when none samples). */
export function sumServiceVerify(infos: readonly ModelInfo[]): ServiceVerifyStats | null {
  const all = infos.map((i) => i.verify?.service).filter((s): s is ServiceVerifyStats => s !== undefined);
  if (all.length === 0) return null;
  const sum: ServiceVerifyStats = {
    sampleRate: all[0]!.sampleRate,
    checked: 0,
    agreed: 0,
    diverged: 0,
    dropped: 0,
    pending: 0,
    worst: null,
    divergedOutputs: {},
  };
  for (const s of all) {
    for (const k of ['checked', 'agreed', 'diverged', 'dropped', 'pending'] as const) sum[k] += s[k];
    for (const [name, n] of Object.entries(s.divergedOutputs)) sum.divergedOutputs[name] = (sum.divergedOutputs[name] ?? 0) + n;
    if (s.worst && (!sum.worst || ratio(s.worst) > ratio(sum.worst))) sum.worst = s.worst;
    if (s.lastDivergence) sum.lastDivergence = s.lastDivergence;
    if (s.lastDiverged) sum.lastDiverged = s.lastDiverged;
  }
  return sum;
}

function ratio(o: VerifiedOutput): number {
  return o.tolerance > 0 ? o.value / o.tolerance : o.value > 0 ? 2 ** 40 + o.value : 0;
}

const counted = new WeakMap<object, ServiceVerifyStats>();
/** Outputs already reported as an incident, per replica: one incident per output, later ones only counted. */
const reported = new WeakMap<object, Set<string>>();

/**
 * Counts what verification in service found since `replica`'s previous answer as telemetry
 * (`webq8.verify.checks`, `.agreements`, `.divergences` by output, `.dropped`; the page's adapter
 * vendor and architecture ride along as resource attributes, so the collector sees which devices
 * diverge), and reports an output's first divergence as an incident ({@link VerifyIncident}).
 */
export function countServiceVerify(telemetry: Pick<Telemetry, 'count' | 'incident'>, replica: { info: ModelInfo }, attrs: SeriesAttributes): void {
  const now = replica.info.verify?.service;
  if (!now) return;
  const before = counted.get(replica);
  if (before === now) return; // the answer carried no new counts (only answers after a change do)
  counted.set(replica, now);
  telemetry.count('webq8.verify.checks', now.checked - (before?.checked ?? 0), attrs);
  telemetry.count('webq8.verify.agreements', now.agreed - (before?.agreed ?? 0), attrs);
  telemetry.count('webq8.verify.dropped', now.dropped - (before?.dropped ?? 0), attrs);
  for (const [output, n] of Object.entries(now.divergedOutputs)) {
    telemetry.count('webq8.verify.divergences', n - (before?.divergedOutputs[output] ?? 0), attrs, { 'webq8.output': output });
  }
  const worst = now.lastDiverged;
  if (!worst || now.diverged === (before?.diverged ?? 0)) return;
  const seen = reported.get(replica) ?? new Set<string>();
  reported.set(replica, seen);
  if (seen.has(worst.name)) return;
  seen.add(worst.name);
  void telemetry.incident(verifyIncident(replica.info, attrs, now, worst));
}

/** The incident of a divergence found in service (the telemetry fills in the browser and library version). */
function verifyIncident(info: ModelInfo, attrs: SeriesAttributes, now: ServiceVerifyStats, worst: VerifiedOutput): VerifyIncident {
  const { name: output, metric, value, tolerance } = worst;
  const at = new Date().toISOString();
  const adapter = info.adapter ? { adapterVendor: info.adapter.vendor, adapterArchitecture: info.adapter.architecture } : {};
  const base = { kind: 'verify', rule: 'numerics', scope: 'client', at, model: attrs.modelId ?? info.id, output, metric, value, tolerance } as const;
  return {
    ...base,
    ...(attrs.modelVersion ? { version: attrs.modelVersion } : {}),
    backend: info.backend.backend,
    ...adapter,
    checked: now.checked,
    diverged: now.diverged,
  };
}
