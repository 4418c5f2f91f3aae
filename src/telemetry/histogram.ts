/**
 * The public face of the histogram math in `exphist.js` (plain JS shared with the collector),
 * typed by {@link HistogramApi} so emitted declarations do not depend on the `.d.ts` beside it.
 */
import * as core from './exphist.js';
import type { HistogramApi } from './types.js';

/** Mergeable base-2 exponential histogram operations (OTLP ExponentialHistogram model). */
export const histogram: HistogramApi = core;
