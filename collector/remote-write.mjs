// @ts-check
// Remote write from the collector to Prometheus, or anything that takes remote-write 1.0 (Mimir,
// Thanos Receive, Cortex, VictoriaMetrics). Every `intervalMs` the fleet state (fleet-state.mjs)
// goes out in POSTs of at most `maxSamplesPerRequest` series, with one timestamp per round that
// only ever grows, so a receiver never sees a sample out of order.
//
// Every histogram and counter is cumulative, so a failed round needs no replay buffer: its retry
// is built anew from the current state, which holds everything the failed one had (gauges stay
// pending until a round that carried them succeeds). 5xx, 429 and network errors are retried with
// capped exponential backoff and jitter (a longer Retry-After is honoured); any other 4xx would
// fail again and is dropped and counted. Rounds run on their own timer and promise: OTLP
// ingestion never waits for them.
import { encodeWriteRequest, REMOTE_WRITE_HEADERS } from './prom-proto.mjs';

/**
 * @typedef {{ url: string, intervalMs?: number, minBackoffMs?: number, maxBackoffMs?: number, timeoutMs?: number,
 *   maxSamplesPerRequest?: number, log?: (msg: string) => void }} RemoteWriteOptions
 * @typedef {ReturnType<import('./fleet-state.mjs').createFleetState>} FleetState
 * @typedef {import('./fleet-state.mjs').Item} Item
 * @typedef {{ ok: true } | { ok: false, retriable: boolean, retryAfterMs: number, error: string }} Outcome
 */

/** Defaults of {@link RemoteWriteOptions}. */
export const REMOTE_WRITE_DEFAULTS = Object.freeze({
  intervalMs: 15_000,
  minBackoffMs: 250,
  maxBackoffMs: 30_000,
  timeoutMs: 10_000,
  maxSamplesPerRequest: 2000,
});

/** Retry-After as ms (delta-seconds or an HTTP date); 0 when absent or unreadable. @param {string | null} v */
export function retryAfterMs(v) {
  if (!v) return 0;
  if (/^\d+$/.test(v.trim())) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}

/** @param {string} url @param {Uint8Array<ArrayBuffer>} body @param {AbortSignal} signal @returns {Promise<Outcome>} */
async function post(url, body, signal) {
  try {
    const res = await fetch(url, { method: 'POST', headers: REMOTE_WRITE_HEADERS, body, signal });
    if (res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      return { ok: true };
    }
    const text = await res.text().catch(() => '');
    const retriable = res.status >= 500 || res.status === 429;
    return { ok: false, retriable, retryAfterMs: retryAfterMs(res.headers.get('retry-after')), error: `HTTP ${res.status}: ${text.slice(0, 300).trim()}` };
  } catch (err) {
    const e = /** @type {{ message?: string, cause?: { code?: string } }} */ (err);
    return { ok: false, retriable: true, retryAfterMs: 0, error: e.cause?.code ?? e.message ?? String(err) };
  }
}

/**
 * @typedef {{ written: number, retried: number, dropped: number, requests: number, rounds: number,
 *   lastError: string | null, lastWrittenAt: string | null }} Stats
 * @typedef {{ state: FleetState, o: Required<Omit<RemoteWriteOptions, 'log'>>, log: (msg: string) => void, stats: Stats,
 *   lastTs: number, closed: boolean, stop: AbortController, running: Promise<void> | null, wake: () => void }} Writer
 *   `stop` aborts the request in flight when the writer closes, so closing never waits out a hung receiver.
 */

/** The collector's own counters, so an operator sees delivery in the same store. @param {Stats} stats @param {number} ts */
const selfSeries = (stats, ts) =>
  /** @type {const} */ (['written', 'retried', 'dropped']).map((outcome) => ({
    labels: [
      { name: '__name__', value: 'webq8_collector_remote_write_samples_total' },
      { name: 'outcome', value: outcome },
    ],
    samples: [{ value: stats[outcome], timestamp: ts }],
  }));

/**
 * Sends one request; updates the counters. @param {Writer} w @param {Item[]} chunk
 * @param {import('./prom-proto.mjs').WriteRequestObject} request @returns {Promise<number | undefined>} the wait before a retry, or undefined when none is needed
 */
async function send(w, chunk, request) {
  const n = request.timeseries.length;
  w.stats.requests++;
  const r = await post(w.o.url, encodeWriteRequest(request), AbortSignal.any([w.stop.signal, AbortSignal.timeout(w.o.timeoutMs)]));
  if (r.ok) {
    w.stats.written += n;
    w.stats.lastWrittenAt = new Date().toISOString();
    for (const it of chunk) w.state.written(it);
    return undefined;
  }
  w.stats.lastError = r.error;
  if (r.retriable) {
    w.stats.retried += n;
    return r.retryAfterMs;
  }
  w.stats.dropped += n;
  w.log(`remote write to ${w.o.url} refused ${n} series (not retried): ${r.error}`);
  return undefined;
}

/** One round: every chunk of a fresh snapshot. @param {Writer} w @returns {Promise<number | undefined>} as {@link send} */
async function round(w) {
  const ts = Math.max(Date.now(), w.lastTs + 1);
  w.lastTs = ts;
  w.stats.rounds++;
  const { items, metadata } = w.state.snapshot(ts);
  /** @type {number | undefined} */
  let retryAfter;
  for (let i = 0; i < items.length || i === 0; i += w.o.maxSamplesPerRequest) {
    const chunk = items.slice(i, i + w.o.maxSamplesPerRequest);
    const timeseries = chunk.map((it) => it.series);
    if (i === 0) timeseries.push(...selfSeries(w.stats, ts));
    if (retryAfter !== undefined)
      w.stats.retried += timeseries.length; // the endpoint is failing: do not hammer it with the rest
    else retryAfter = await send(w, chunk, { timeseries, metadata: i === 0 ? metadata : [] });
  }
  return retryAfter;
}

/** Rounds until one needs no retry (or the writer closes), backing off between them. @param {Writer} w */
async function cycle(w) {
  for (let attempt = 0; ; attempt++) {
    const retryAfter = await round(w);
    if (retryAfter === undefined || w.closed) return;
    if (attempt === 0) w.log(`remote write to ${w.o.url} failing (${w.stats.lastError}); retrying with backoff`);
    const backoff = Math.min(w.o.maxBackoffMs, w.o.minBackoffMs * 2 ** Math.min(attempt, 20)) * (0.5 + Math.random() / 2);
    await new Promise((done) => {
      const t = setTimeout(done, Math.min(w.o.maxBackoffMs, Math.max(retryAfter, backoff)));
      w.wake = () => (clearTimeout(t), done(undefined));
    });
    if (w.closed) return;
  }
}

/**
 * Starts writing `state` to `options.url` every `intervalMs`.
 * @param {FleetState} state @param {RemoteWriteOptions} options
 */
export function createRemoteWriter(state, options) {
  const { log = () => {}, ...rest } = options;
  /** @type {Writer} */
  const w = {
    state,
    o: { ...REMOTE_WRITE_DEFAULTS, ...rest },
    log,
    stats: { written: 0, retried: 0, dropped: 0, requests: 0, rounds: 0, lastError: null, lastWrittenAt: null },
    lastTs: 0,
    closed: false,
    stop: new AbortController(),
    running: null,
    wake: () => {},
  };
  const start = () => {
    if (w.closed) return Promise.resolve();
    w.running ??= cycle(w)
      .catch((err) => log(`remote write error: ${err?.stack ?? err}`))
      .finally(() => (w.running = null));
    return w.running;
  };
  const timer = setInterval(start, w.o.intervalMs);
  timer.unref();

  return {
    /** Counters: samples `written`, `retried` (in failed rounds, carried by a later one), `dropped` (refused by the receiver, or series the state could not hold). */
    stats: () => {
      const r = state.refused;
      return { ...w.stats, dropped: w.stats.dropped + r.seriesLimit + r.nameClash + r.schema, refused: { ...r }, series: state.size };
    },
    /** Writes now (or waits for the round in progress, retries included). */
    flush: () => start(),
    /** Stops the timer, ends a backoff wait or a request in flight, and makes one last attempt (no retries, ≤ 2 s) with what is in memory. */
    async close() {
      if (w.closed) return;
      w.closed = true;
      clearInterval(timer);
      w.stop.abort();
      w.wake();
      await w.running;
      w.stop = new AbortController();
      w.o.timeoutMs = Math.min(w.o.timeoutMs, 2000);
      await round(w).catch(() => undefined);
    },
  };
}
