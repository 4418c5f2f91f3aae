/** Test helpers for the collector's release routes (shared by the Node and the browser tests). */
import type { ReleaseIncident, ReleaseManifest } from '../../../src/types';

/** PUTs a release manifest; resolves to the response. */
export function putRelease(url: string, manifest: unknown): Promise<Response> {
  const model = (manifest as { model?: string }).model ?? 'x';
  return fetch(`${url}/api/release/${model}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(manifest) });
}

/** GETs the manifest clients see. */
export async function served(url: string, model: string): Promise<ReleaseManifest> {
  const res = await fetch(`${url}/api/release/${model}`);
  if (!res.ok) throw new Error(`GET manifest: HTTP ${res.status}`);
  return (await res.json()) as ReleaseManifest;
}

/** The incidents the collector holds for `model`. */
export async function incidents(url: string, model: string): Promise<ReleaseIncident[]> {
  return ((await (await fetch(`${url}/api/release/${model}/incidents`)).json()) as { incidents: ReleaseIncident[] }).incidents;
}

/** POSTs a promote or rollback. */
export function act(url: string, model: string, action: 'promote' | 'rollback'): Promise<Response> {
  return fetch(`${url}/api/release/${model}/${action}`, { method: 'POST' });
}
