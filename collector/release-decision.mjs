// @ts-check
// The fleet's release decision, as a pure function of what a store knows: per-version stats
// (`versions(model)`, the shape of the collector's query interface, for the embedded journal and for
// Prometheus alike) and the incidents clients reported. The statistics live in the one shared
// evaluateRelease (src/isomorphic/evaluate.js), which the browser's local rollback uses too.
//
// Latency and error rate are judged over the merged fleet histograms and counters: they depend on
// the device, so one client's bad luck is not the fleet's verdict. Disagreement is judged from the
// shadow comparisons clients report with their disagreement incidents (summed over clients): it is
// a property of the two versions' weights on real inputs, the same on every device.
import { createHistogram, merge, quantile } from '../src/isomorphic/exphist.js';
import { countsAgainstVersion, evaluateRelease } from '../src/isomorphic/evaluate.js';

export { evaluateRelease };

/**
 * @typedef {import('../src/types.js').VersionStats} VersionStats
 * @typedef {import('../src/types.js').ReleaseManifest} ReleaseManifest
 * @typedef {import('../src/types.js').ReleaseIncident} ReleaseIncident
 * @typedef {import('../src/types.js').ReleaseDecision} ReleaseDecision
 * @typedef {(model: string) => VersionStats[] | Promise<VersionStats[]>} VersionsQuery
 */

/**
 * `versions(model)` over the embedded aggregator: the run-latency histograms merged per version
 * (across backends and clients) and the error counters that count against a version.
 * @param {ReturnType<import('./aggregate.mjs').createAggregator>} agg
 * @param {string} [metric]
 * @returns {VersionsQuery}
 */
export function embeddedVersions(agg, metric = 'webq8.run.duration') {
  return (model) => {
    /** @type {Map<string, { histogram: import('../src/telemetry/types.js').HistogramState, errors: number }>} */
    const rows = new Map();
    const row = (/** @type {string} */ v) => rows.get(v) ?? rows.set(v, { histogram: createHistogram(), errors: 0 }).get(v);
    for (const s of agg.series({ metric, model })) merge(/** @type {NonNullable<ReturnType<typeof row>>} */ (row(s.version)).histogram, s.histogram);
    for (const e of agg.latency({ model }).errors) {
      if (e.model === model && countsAgainstVersion(e.code)) /** @type {NonNullable<ReturnType<typeof row>>} */ (row(e.version)).errors += e.count;
    }
    return [...rows].map(([version, { histogram: h, errors }]) => ({
      version,
      count: h.count,
      errors,
      p50: quantile(h, 0.5),
      p95: quantile(h, 0.95),
      p99: quantile(h, 0.99),
      histogram: h,
    }));
  };
}

/** @param {string} version @returns {VersionStats} */
const noData = (version) => ({ version, count: 0, errors: 0, p50: NaN, p95: NaN, p99: NaN });

/**
 * The decision on `manifest`'s candidate (pure): `wait` without one.
 * @param {ReleaseManifest} manifest
 * @param {VersionStats[]} versions what the store knows, per version
 * @param {ReleaseIncident[]} incidents incidents clients reported for this model
 * @returns {ReleaseDecision}
 */
export function decide(manifest, versions, incidents) {
  const c = manifest.candidate;
  if (!c) return { decision: 'wait', rule: null, evidence: { reason: 'no candidate' } };
  const find = (/** @type {string} */ v) => versions.find((r) => r.version === v) ?? noData(v);
  const candidate = { ...find(c.version) };
  let compared = 0;
  let disagreed = 0;
  for (const i of incidents) {
    if (i.scope !== 'client' || i.rule !== 'disagreement' || i.candidate !== c.version) continue;
    const n = Number(i.evidence.compared);
    const d = Number(i.evidence.disagreed);
    if (Number.isInteger(n) && Number.isInteger(d) && n > 0 && d >= 0 && d <= n) [compared, disagreed] = [compared + n, disagreed + d];
  }
  // Only clients that tripped report comparisons: they may roll the fleet back, never hold a promotion.
  if (compared > 0) {
    const d = evaluateRelease(manifest.rules, { stable: noData(manifest.stable.version), candidate: { ...candidate, agreement: { compared, disagreed } } });
    if (d.decision === 'rollback') return { ...d, evidence: { ...d.evidence, source: 'client shadow comparisons' } };
  }
  const d = evaluateRelease(manifest.rules, { stable: find(manifest.stable.version), candidate });
  // A candidate that diverged from ORT's WASM EP on some client's device (at load or in service,
  // rule `numerics`) is never promoted by rule: it is wrong there (an operator may still promote it).
  const wrongOn = incidents.filter((i) => i.scope === 'client' && i.rule === 'numerics' && i.candidate === c.version);
  if (d.decision !== 'promote' || wrongOn.length === 0) return d;
  const adapters = [...new Set(wrongOn.map((i) => String(i.evidence.adapter ?? 'unknown')))].slice(0, 8).join(', ');
  return {
    decision: 'wait',
    rule: 'numerics',
    evidence: { reason: `candidate ${c.version} diverged from ORT's WASM EP on ${wrongOn.length} client(s)`, adapters },
  };
}
