/**
 * The attribute allow-list of a series (see the privacy note in `types.ts`) and what is derived
 * from it: the wire attributes, a private copy, and filter matching. Fields outside the list are
 * never read, whatever else the caller's object carries.
 */
import { WIRE_KEYS } from '../../isomorphic/otlp-point.js';
import type { SeriesAttributes } from '../types.js';

/** The allow-listed fields, in the order series are keyed by. */
export const SERIES_FIELDS = ['modelId', 'modelVersion', 'modelSha256', 'backend', 'planStrategy'] as const;

/** Wire attributes of a series: the allow-listed, non-empty string fields under their wire names. */
export function seriesWireAttributes(attrs: SeriesAttributes): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of SERIES_FIELDS) {
    const v = attrs[f];
    if (typeof v === 'string' && v !== '') out[WIRE_KEYS[f]] = v;
  }
  return out;
}

/** A copy of the allow-listed fields: later changes to the caller's object must not move a series. */
export function ownAttributes(attrs: SeriesAttributes): SeriesAttributes {
  const own: SeriesAttributes = {};
  for (const f of SERIES_FIELDS) if (attrs[f] !== undefined) own[f] = attrs[f];
  return own;
}

/** Whether `attrs` has every field the filter sets (absent filter fields match anything). */
export function matchesFilter(attrs: SeriesAttributes, filter: SeriesAttributes): boolean {
  for (const f of SERIES_FIELDS) {
    const want = filter[f];
    if (want !== undefined && attrs[f] !== want) return false;
  }
  return true;
}
