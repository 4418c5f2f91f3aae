/**
 * The incident log of a followed release: a candidate rolled back by a local rule, or refused
 * (integrity, incompatible, failed warm-up). Each incident says what, when, which rule and the
 * evidence; it is kept in `model.release().incidents`, POSTed to the release's report URL (the
 * reference collector journals it and shows it on its dashboard), and exported as telemetry gauges.
 * Reporting never throws and never blocks a run.
 */
import { postJson, type GaugeSample } from '../telemetry';
import type { ReleaseDecision, ReleaseIncident, ReleaseRule } from '../types';
import { rolledBack } from './client-store';
import type { ReleaseState } from './state';

/** Incidents kept per model on this client (the oldest are dropped). */
const MAX_INCIDENTS = 100;

/** Records and reports an incident about the manifest's candidate. */
export function recordIncident(state: ReleaseState, candidate: string, rule: ReleaseRule, evidence: ReleaseDecision['evidence']): ReleaseIncident {
  const incident: ReleaseIncident = {
    model: state.manifest.model,
    at: new Date().toISOString(),
    scope: 'client',
    stable: state.stable.version.version,
    candidate,
    rule,
    evidence,
  };
  state.incidents.push(incident);
  if (state.incidents.length > MAX_INCIDENTS) state.incidents.shift();
  void report(state, incident);
  return incident;
}

async function report(state: ReleaseState, incident: ReleaseIncident): Promise<void> {
  if (!state.reportUrl) return;
  // Best effort: the incident stays in model.release() and the gauges.
  await postJson(state.reportUrl, incident, { fetch: state.deps.fetch });
}

/**
 * Rolls the ready candidate back on this client at once: new runs go to stable from the next `run()`,
 * runs in flight on the candidate finish there, and the candidate is never adopted again here.
 */
export function rollBack(state: ReleaseState, rule: ReleaseRule, evidence: ReleaseDecision['evidence']): void {
  const version = state.candidate.rollBack();
  if (version === null) return;
  state.blocked.add(version);
  void rolledBack(state.manifest.model, version, state.deps.store).catch(() => undefined);
  recordIncident(state, version, rule, evidence);
}

/** Records the refusal of the candidate `version` (it never took traffic): its bytes, inputs or warm-up failed. */
export function refuse(state: ReleaseState, version: string, rule: ReleaseRule, err: unknown): void {
  const e = err as { code?: unknown; message?: unknown; details?: Record<string, unknown> } | null;
  const evidence: ReleaseDecision['evidence'] = { code: typeof e?.code === 'string' ? e.code : 'INTERNAL', message: String(e?.message ?? err).slice(0, 500) };
  for (const k of ['expected', 'actual']) if (typeof e?.details?.[k] === 'string') evidence[k] = e.details[k] as string;
  recordIncident(state, version, rule, evidence);
}

/**
 * Release gauges (`webq8.serving.release_*`): per version pair the shadow comparisons, disagreements,
 * largest difference and smallest cosine; incidents by rule; whether this client serves the candidate.
 */
export function releaseGauges(state: ReleaseState): GaugeSample[] {
  const model = state.manifest.model;
  const out: GaugeSample[] = [];
  for (const t of state.tallies.values()) {
    const s = t.stats();
    const attrs = { modelId: model, modelVersion: s.candidate };
    const extra = { stable: s.stable };
    out.push(
      { name: 'release_shadow_compared', value: s.compared, attrs, extra },
      { name: 'release_shadow_disagreed', value: s.disagreed, attrs, extra },
      { name: 'release_shadow_skipped', value: s.skipped, attrs, extra },
      { name: 'release_max_abs_diff', value: s.maxAbsDiff, attrs, extra },
      { name: 'release_min_cosine', value: s.minCosine, attrs, extra },
    );
  }
  const byRule = new Map<string, number>();
  for (const i of state.incidents) byRule.set(i.rule, (byRule.get(i.rule) ?? 0) + 1);
  for (const [rule, n] of byRule) out.push({ name: 'release_incidents', value: n, attrs: { modelId: model }, extra: { rule } });
  out.push({ name: 'release_serving_candidate', value: state.lastRun?.role === 'candidate' ? 1 : 0, attrs: { modelId: model } });
  return out;
}
