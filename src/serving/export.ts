/**
 * The serving layer's gauges as telemetry samples (exported as `webq8.serving.<name>` OTLP gauges,
 * see src/telemetry/lib/gauges.ts): Little's-law gauges, shed counts by reason, and the SLO state.
 */
import type { GaugeSample, SeriesAttributes } from '../telemetry';
import type { Server } from './server';

/** SLO states as numbers, so dashboards can plot them: ok 0, warning 1, breached 2. */
export const SLO_STATE_VALUE = { ok: 0, warning: 1, breached: 2 } as const;

/** The gauges of `server`, labelled with the model's series attributes. */
export function servingGauges(server: Pick<Server, 'snapshot' | 'replicas' | 'health'>, attrs: SeriesAttributes): GaugeSample[] {
  const g = server.snapshot();
  const out: GaugeSample[] = [
    { name: 'queue_length', value: g.queueLength, attrs },
    { name: 'in_system', value: g.meanInSystem, attrs },
    { name: 'arrival_rate', value: g.arrivalRate, attrs },
    { name: 'time_in_system_ms', value: g.meanTimeInSystemMs, attrs },
    { name: 'service_ms', value: g.meanServiceMs, attrs },
    { name: 'utilization', value: g.utilization, attrs },
    { name: 'replicas', value: server.replicas.length, attrs },
  ];
  for (const [reason, n] of Object.entries(g.shed)) out.push({ name: 'shed_total', value: n, attrs, extra: { reason } });
  const h = server.health();
  if (h) {
    out.push(
      { name: 'slo_state', value: SLO_STATE_VALUE[h.state], attrs },
      { name: 'slo_burn_rate', value: h.burnRate.fast, attrs, extra: { window: 'fast' } },
      { name: 'slo_burn_rate', value: h.burnRate.slow, attrs, extra: { window: 'slow' } },
      { name: 'slo_budget_left', value: h.budgetLeft, attrs },
    );
  }
  return out;
}
