/**
 * Incidents for the collector (a divergence found by verification in service): one JSON POST each
 * to `<endpoint>/api/verify/incidents` (the telemetry endpoint without its `/v1/metrics`, where the
 * reference collector takes them), with the page's browser and webq8 version filled in. Best effort,
 * like a release's incident report: it never throws and never blocks a run; the counters
 * (`webq8.verify.divergences`) still carry the count when a report is lost.
 */
import type { VerifyIncident } from '../../verify-types.js';
import type { FetchLike, ResourceAttributes } from '../types.js';
import { browserName } from './browser-name.js';
import { postJson } from './post-json.js';

/** `endpoint` → the incidents URL (`…/v1/metrics` and trailing slashes dropped, `/api/verify/incidents` appended). */
export function incidentsUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '').replace(/\/v1\/metrics$/, '')}/api/verify/incidents`;
}

/** Sends `incident` (resource attributes it lacks filled in from `resource`); resolves when done or given up. */
export async function postIncident(
  url: string,
  incident: VerifyIncident,
  resource: ResourceAttributes,
  options: { headers?: Record<string, string>; fetch?: FetchLike },
): Promise<void> {
  const body: VerifyIncident = {
    ...incident,
    adapterVendor: incident.adapterVendor ?? resource.adapterVendor,
    adapterArchitecture: incident.adapterArchitecture ?? resource.adapterArchitecture,
    browser: incident.browser ?? resource.browser ?? browserName(),
    webq8Version: incident.webq8Version ?? resource.webq8Version,
  };
  // Best effort: the divergence stays counted in webq8.verify.divergences and model.stats().verify.
  await postJson(url, body, options);
}
