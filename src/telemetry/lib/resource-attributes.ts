/** OTLP resource attributes of a page: the allow-listed {@link ResourceAttributes} under wire names. */
import { WIRE_KEYS } from '../../isomorphic/otlp-point.js';
import type { ResourceAttributes } from '../types.js';
import { browserName } from './browser-name.js';

const RESOURCE_FIELDS = ['webq8Version', 'pageOrigin', 'adapterVendor', 'adapterArchitecture', 'browser'] as const;

/** Wire resource attributes; `pageOrigin` defaults to `location.origin`, `browser` to {@link browserName}, the sample rate is added when < 1. */
export function resourceAttributes(r: ResourceAttributes, sampleRate: number): Record<string, string | number> {
  const out: Record<string, string | number> = { 'service.name': 'webq8' };
  const withOrigin: ResourceAttributes = { pageOrigin: pageOrigin(), browser: browserName(), ...r };
  for (const f of RESOURCE_FIELDS) {
    const v = withOrigin[f];
    if (typeof v === 'string' && v !== '') out[WIRE_KEYS[f]] = v;
  }
  // Lets a collector scale counts back up when sampling is on.
  if (sampleRate < 1) out[WIRE_KEYS.sampleRate] = sampleRate;
  return out;
}

/** The page's origin, or undefined in Node, Workers without `location`, and opaque ('null') origins. */
function pageOrigin(): string | undefined {
  try {
    const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
    return origin && origin !== 'null' ? origin : undefined;
  } catch {
    return undefined;
  }
}
