// @ts-check
// Fleet telemetry at scale, attached to the collector (server.mjs) by a few hook lines: the
// serving gauges, remote write to a Prometheus-compatible store, and the read interface the
// dashboard and release analysis use (memory, or Prometheus when configured).
//
//   npm run collector -- --remote-write http://127.0.0.1:9090/api/v1/write [--remote-write-interval 15000]
//                        [--query prometheus --prometheus-url http://127.0.0.1:9090 [--query-window 5m]]
//   env: WEBQ8_COLLECTOR_REMOTE_WRITE, WEBQ8_COLLECTOR_QUERY, WEBQ8_COLLECTOR_PROMETHEUS_URL
//
// Routes: GET /api/versions?model=ID[&backend=B] (release analysis), GET /api/fleet[?metric=M]
// (dashboard rows and serving gauges), GET /api/remote-write (delivery counters).
import { renderFleetPage, renderServing } from './fleet-page.mjs';
import { createFleetState } from './fleet-state.mjs';
import { json } from './http.mjs';
import { createQuery, RUN_METRIC } from './query.mjs';
import { createRemoteWriter } from './remote-write.mjs';

/**
 * Options of `startCollector` added by this module.
 * @typedef {object} FleetOptions
 * @property {import('./remote-write.mjs').RemoteWriteOptions} [remoteWrite] write the merged state to `url`
 *   (remote-write 1.0, e.g. `http://127.0.0.1:9090/api/v1/write`) every `intervalMs`.
 * @property {Omit<import('./prom-query.mjs').PrometheusStore, 'timeoutMs'>} [query] read from Prometheus
 *   (`{ prometheus: baseUrl, window? }`) instead of the collector's memory.
 */

/** The command-line flags of this module (server.mjs accepts them). */
export const FLEET_FLAGS = '--remote-write URL --remote-write-interval MS --query memory|prometheus --prometheus-url URL --query-window DURATION';

/** @param {string} flag @param {string} v */
function httpUrl(flag, v) {
  let u;
  try {
    u = new URL(v);
  } catch {
    throw new Error(`${flag} needs an http(s) URL, got "${v}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${flag} needs an http(s) URL, got "${v}"`);
  return v;
}

/**
 * {@link FleetOptions} from command-line flags (and environment variables).
 * @param {Record<string, string>} flags @param {Record<string, string | undefined>} [env]
 * @returns {FleetOptions}
 */
export function fleetOptionsFromFlags(flags, env = {}) {
  /** @type {FleetOptions} */
  const out = {};
  const url = flags['remote-write'] ?? env.WEBQ8_COLLECTOR_REMOTE_WRITE;
  if (url) {
    const interval = Number(flags['remote-write-interval'] ?? 15_000);
    if (!(interval >= 100)) throw new Error(`--remote-write-interval is in ms and at least 100, got "${flags['remote-write-interval']}"`);
    out.remoteWrite = { url: httpUrl('--remote-write', url), intervalMs: interval };
  }
  const kind = flags.query ?? env.WEBQ8_COLLECTOR_QUERY ?? 'memory';
  if (kind !== 'memory' && kind !== 'prometheus') throw new Error(`--query is memory or prometheus, got "${kind}"`);
  if (kind === 'prometheus') {
    const base = flags['prometheus-url'] ?? env.WEBQ8_COLLECTOR_PROMETHEUS_URL;
    if (!base) throw new Error('--query prometheus needs --prometheus-url URL (the Prometheus HTTP API base, e.g. http://127.0.0.1:9090)');
    out.query = { prometheus: httpUrl('--prometheus-url', base), ...(flags['query-window'] ? { window: flags['query-window'] } : {}) };
  }
  return out;
}

/**
 * @param {FleetOptions} options
 * @param {() => ReturnType<import('./aggregate.mjs').createAggregator>} aggregator the collector's
 *   aggregator (a getter: it exists only once the journal is replayed, which already calls `add`)
 * @param {(msg: string) => void} log
 */
export function attachFleet(options, aggregator, log) {
  const state = createFleetState({ histograms: Boolean(options.remoteWrite) });
  const writer = options.remoteWrite ? createRemoteWriter(state, { log, ...options.remoteWrite }) : undefined;
  if (writer) log(`remote write to ${options.remoteWrite?.url} every ${options.remoteWrite?.intervalMs ?? 15_000} ms`);
  /** @type {import('./query.mjs').Query | undefined} */
  let memo;
  const queryOf = () => (memo ??= createQuery(options.query ?? { aggregator: aggregator(), fleet: state }));

  /** @param {URL} url @param {import('node:http').ServerResponse} res @returns {Promise<boolean>} */
  async function answer(url, res) {
    const metric = url.searchParams.get('metric') ?? RUN_METRIC;
    switch (url.pathname) {
      case '/api/remote-write':
        json(res, 200, writer ? { enabled: true, ...writer.stats() } : { enabled: false });
        return true;
      case '/api/versions': {
        const model = url.searchParams.get('model');
        if (!model) json(res, 400, { error: 'say which model: /api/versions?model=ID[&backend=B]' });
        else
          json(res, 200, {
            store: queryOf().store,
            model,
            versions: await queryOf().versions(model, { backend: url.searchParams.get('backend') ?? undefined }),
          });
        return true;
      }
      case '/api/fleet':
        json(res, 200, { store: queryOf().store, metric, series: await queryOf().series(metric), serving: await queryOf().serving() });
        return true;
      case '/': {
        if (!options.query) return false; // the in-memory dashboard (dashboard.mjs) draws it
        const html = renderFleetPage(metric, await queryOf().series(metric), await queryOf().serving(), options.query.prometheus);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(html);
        return true;
      }
      default:
        return false;
    }
  }

  return {
    /** The read interface (memory or Prometheus, as configured). */
    get query() {
      return queryOf();
    },
    /** Delivery counters of remote write, when configured. */
    remoteWrite: writer && { stats: writer.stats, flush: writer.flush },
    /** Hook: a request was accepted (or replayed from the journal). @type {ReturnType<typeof createFleetState>['add']} */
    add: (parsed, body, replayed) => {
      try {
        state.add(parsed, body, replayed);
      } catch (err) {
        log(`fleet state: ${/** @type {Error} */ (err)?.stack ?? err}`); // never costs the client its acknowledgement
      }
    },
    /** The serving table under the in-memory dashboard. */
    servingHtml: async () => renderServing(await queryOf().serving()),
    /**
     * Hook: answers this module's GET routes; false when `url` is not one of them.
     * @param {URL} url @param {import('node:http').ServerResponse} res @returns {Promise<boolean>}
     */
    async route(url, res) {
      try {
        return await answer(url, res);
      } catch (err) {
        const e = /** @type {{ message?: string, code?: string }} */ (err);
        if (!e.code?.startsWith('PROMETHEUS_')) throw err;
        json(res, 502, { error: e.message, code: e.code });
        return true;
      }
    },
    close: async () => writer?.close(),
  };
}
