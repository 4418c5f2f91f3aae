// @ts-check
// Releases as the collector shows and takes them: a client's incident report checked field by field
// (hostile input: only known fields, bounded, typed), and the dashboard's release section — per
// model the versions, the traffic split, the latest incidents.

/**
 * @typedef {import('../src/types.js').ReleaseIncident} ReleaseIncident
 * @typedef {import('../src/types.js').ReleaseManifest} ReleaseManifest
 * @typedef {import('../src/types.js').VersionStats} VersionStats
 */

const RULES = ['p95Ratio', 'errorRateDelta', 'disagreement', 'minSamples', 'integrity', 'incompatible', 'numerics', 'warmup', 'manual'];
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const MAX_EVIDENCE_KEYS = 32;

/**
 * A client's incident report as the collector keeps it (scope `client`, the collector's time), or
 * what is wrong with it.
 * @param {unknown} body @param {string} model @returns {ReleaseIncident | string}
 */
export function readIncident(body, model) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'an incident must be a JSON object';
  const o = /** @type {Record<string, unknown>} */ (body);
  if (o.model !== model) return `incident.model must be "${model}"`;
  if (typeof o.rule !== 'string' || !RULES.includes(o.rule)) return `incident.rule must be one of ${RULES.join(', ')}`;
  for (const k of ['stable', 'candidate'])
    if (typeof o[k] !== 'string' || !VERSION.test(/** @type {string} */ (o[k]))) return `incident.${k} must be a version label`;
  const ev = o.evidence;
  if (!ev || typeof ev !== 'object' || Array.isArray(ev)) return 'incident.evidence must be an object';
  const entries = Object.entries(ev);
  if (entries.length > MAX_EVIDENCE_KEYS) return `incident.evidence has more than ${MAX_EVIDENCE_KEYS} fields`;
  /** @type {ReleaseIncident['evidence']} */
  const evidence = {};
  for (const [k, v] of entries) {
    if (k.length > 64) return 'incident.evidence keys must be at most 64 characters';
    if (typeof v === 'string') evidence[k] = v.slice(0, 500);
    else if (typeof v === 'boolean' || v === null || (typeof v === 'number' && Number.isFinite(v))) evidence[k] = v;
    else return `incident.evidence.${k} must be a string, a finite number, a boolean or null`;
  }
  return {
    model,
    at: new Date().toISOString(),
    scope: 'client',
    stable: /** @type {string} */ (o.stable),
    candidate: /** @type {string} */ (o.candidate),
    rule: /** @type {ReleaseIncident['rule']} */ (o.rule),
    evidence,
  };
}

/** @param {unknown} s */
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** @param {ReleaseIncident['evidence']} e */
const summary = (e) =>
  Object.entries(e)
    .slice(0, 8)
    .map(([k, v]) => `${esc(k)}=${esc(v)}`)
    .join(' ');

/**
 * The dashboard's release section.
 * @param {{ model: string, manifest: ReleaseManifest, incidents: ReleaseIncident[], versions: VersionStats[] }[]} releases
 */
export function releaseSection(releases) {
  if (releases.length === 0) return '';
  const parts = ['<h2>Releases</h2>'];
  for (const r of releases) {
    const c = r.manifest.candidate;
    const runs = r.versions.reduce((n, v) => n + v.count, 0);
    const split = r.versions
      .map(
        (v) =>
          `${esc(v.version)}: ${v.count} runs (${runs ? ((100 * v.count) / runs).toFixed(1) : 0} %), ${v.errors} errors, p95 ${Number.isFinite(v.p95) ? v.p95.toFixed(2) : '–'} ms`,
      )
      .join('<br>');
    parts.push(
      `<h3>${esc(r.model)}</h3><table class="release" data-model="${esc(r.model)}">`,
      `<tr><td>stable</td><td>${esc(r.manifest.stable.version)}</td></tr>`,
      `<tr><td>candidate</td><td>${c ? `${esc(c.version)} (${esc(c.mode)}, fraction ${esc(c.fraction)})` : 'none'}</td></tr>`,
      `<tr><td>version split</td><td>${split || 'no runs yet'}</td></tr></table>`,
    );
    const rows = r.incidents
      .slice(-20)
      .reverse()
      .map(
        (i) =>
          `<tr class="incident"><td>${esc(i.at)}</td><td>${esc(i.scope)}</td><td>${esc(i.rule)}</td><td>${esc(i.candidate)}</td><td style="text-align:left">${summary(i.evidence)}</td></tr>`,
      )
      .join('');
    parts.push(
      rows ? `<table><tr><th>incident at</th><th>scope</th><th>rule</th><th>candidate</th><th>evidence</th></tr>${rows}</table>` : '<p>No incidents.</p>',
    );
  }
  return parts.join('\n');
}
