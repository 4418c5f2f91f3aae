/**
 * The state of one recorder (see `createRecorder`): its latency and error series, each listed in
 * creation order and indexed by a {@link Trie} for the hot path, and how series are found or made.
 */
import { createHistogram } from '../../isomorphic/exphist.js';
import type { HistogramOptions, HistogramState, LatencyMetric, SeriesAttributes } from '../types.js';
import { ownAttributes, seriesWireAttributes } from './series-attributes.js';
import { leaf, type Trie } from './series-trie.js';

/** One latency series: the delta since the last collection and the lifetime total before it. */
export interface LatencySeries {
  metric: LatencyMetric;
  /** Own copy of the allow-listed attributes. */
  attrs: SeriesAttributes;
  /** The same under wire names, computed once. */
  wire: Record<string, string>;
  delta: HistogramState;
  total: HistogramState;
  /** Start of the current delta (ms). */
  since: number;
}

/** One error counter, same split as {@link LatencySeries}; with `metric`, another counter (e.g. `webq8.verify.checks`). */
export interface ErrorSeries {
  code: string;
  /** Set for counters other than `webq8.errors`: their name and extra wire attributes. */
  counter?: { metric: string; extra: Record<string, string> };
  attrs: SeriesAttributes;
  wire: Record<string, string>;
  delta: number;
  total: number;
  since: number;
}

/** Settings resolved from `RecorderOptions`, plus the series. */
export interface RecorderState {
  /** Sampling rate in [0, 1]. */
  readonly rate: number;
  readonly now: () => number;
  readonly random: () => number;
  readonly histogram: HistogramOptions;
  readonly series: LatencySeries[];
  readonly seriesTrie: Trie<LatencySeries>;
  readonly errors: ErrorSeries[];
  readonly errorTrie: Trie<ErrorSeries>;
  /** Samples refused (not a finite number ≥ 0). */
  invalid: number;
}

/** The latency series of (metric, attrs), made on first use. */
export function latencySeries(state: RecorderState, metric: LatencyMetric, attrs: SeriesAttributes): LatencySeries {
  return findOrMake(state.seriesTrie, state.series, metric, attrs, (own, wire) => ({
    metric,
    attrs: own,
    wire,
    delta: createHistogram(state.histogram),
    total: createHistogram(state.histogram),
    since: state.now(),
  }));
}

/** The error series of (code, attrs), made on first use. */
export function errorSeries(state: RecorderState, code: string, attrs: SeriesAttributes): ErrorSeries {
  return findOrMake(state.errorTrie, state.errors, code, attrs, (own, wire) => ({ code, attrs: own, wire, delta: 0, total: 0, since: state.now() }));
}

function findOrMake<T>(trie: Trie<T>, list: T[], key: string, attrs: SeriesAttributes, make: (own: SeriesAttributes, wire: Record<string, string>) => T): T {
  return leaf(trie, key, attrs, () => {
    const own = ownAttributes(attrs);
    const made = make(own, seriesWireAttributes(own));
    list.push(made);
    return made;
  });
}

/** The series of counter `metric` with extra wire attributes `extra` (kept beside the error series), made on first use. */
export function counterSeries(state: RecorderState, metric: string, extra: Record<string, string>, attrs: SeriesAttributes): ErrorSeries {
  const code = `${metric}\u0000${JSON.stringify(extra)}`;
  const e = errorSeries(state, code, attrs);
  e.counter ??= { metric, extra: { ...extra } };
  return e;
}
