// @ts-check
// Serving rows (SLO state and the gauges that drive it) from gauge samples, shared by both stores
// of the read interface (query.mjs).

/** SLO state gauge values (src/serving/export.ts SLO_STATE_VALUE) by name. */
const SLO_STATES = /** @type {const} */ (['ok', 'warning', 'breached']);

/** @typedef {import('./query.mjs').ServingRow} ServingRow */

/** @param {{ model: string, version: string, backend: string }} a @param {{ model: string, version: string, backend: string }} b */
export const byIdentity = (a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version) || a.backend.localeCompare(b.backend);

/**
 * Serving rows from gauge samples named as the remote writer names them (`webq8_serving_<name>`).
 * @param {{ name: string, labels: Record<string, string | undefined>, value: number }[]} samples
 * @returns {ServingRow[]}
 */
export function servingRows(samples) {
  /** @type {Map<string, ServingRow>} */
  const rows = new Map();
  for (const s of samples) {
    const { model = 'unknown', version = 'unknown', backend = 'unknown' } = s.labels;
    const id = JSON.stringify([model, version, backend]);
    let row = rows.get(id);
    if (!row) {
      row = { model, version, backend, slo: null, burnFast: null, burnSlow: null, budgetLeft: null, queueLength: null, utilization: null };
      rows.set(id, row);
    }
    const name = s.name.replace(/^webq8_serving_/, '');
    if (name === 'slo_state') row.slo = SLO_STATES[s.value] ?? null;
    else if (name === 'slo_burn_rate' && s.labels.window === 'fast') row.burnFast = s.value;
    else if (name === 'slo_burn_rate' && s.labels.window === 'slow') row.burnSlow = s.value;
    else if (name === 'slo_budget_left') row.budgetLeft = s.value;
    else if (name === 'queue_length') row.queueLength = s.value;
    else if (name === 'utilization') row.utilization = s.value;
  }
  return [...rows.values()].sort(byIdentity);
}
