// Types of exphist.js (plain JS so the Node collector can run it without a build step).
import type { HistogramApi } from './types.js';

/** Finest scale used by default (6: ≤ 0.54 % relative error). */
export declare const DEFAULT_SCALE: number;
/** Default bucket cap before downscaling. */
export declare const DEFAULT_MAX_BUCKETS: number;
/** Smallest scale OTLP allows (−10). */
export declare const MIN_SCALE: number;
/** Largest scale OTLP allows (20). */
export declare const MAX_SCALE: number;
/** See {@link HistogramApi.createHistogram}. */
export declare const createHistogram: HistogramApi['createHistogram'];
/** See {@link HistogramApi.record}. */
export declare const record: HistogramApi['record'];
/** See {@link HistogramApi.merge}. */
export declare const merge: HistogramApi['merge'];
/** See {@link HistogramApi.downscale}. */
export declare const downscale: HistogramApi['downscale'];
/** See {@link HistogramApi.quantile}. */
export declare const quantile: HistogramApi['quantile'];
/** See {@link HistogramApi.clone}. */
export declare const clone: HistogramApi['clone'];
/** See {@link HistogramApi.reset}. */
export declare const reset: HistogramApi['reset'];
/** See {@link HistogramApi.bucketIndex}. */
export declare const bucketIndex: HistogramApi['bucketIndex'];
/** See {@link HistogramApi.bucketLower}. */
export declare const bucketLower: HistogramApi['bucketLower'];
/** See {@link HistogramApi.trimmed}. */
export declare const trimmed: HistogramApi['trimmed'];
