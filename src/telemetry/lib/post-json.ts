/**
 * One best-effort JSON POST, as incident reports use it (a verification divergence, a release's
 * rollback): bounded by a timeout, its response body discarded, and never throwing — the counters
 * and the local logs keep what a lost report carried.
 */

/** Milliseconds a report may take. */
const REPORT_TIMEOUT_MS = 10_000;

/** The part of `fetch` a report needs; the exporter's injected `FetchLike` and `fetch` itself both fit. */
export type PostFetch = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; keepalive: boolean; signal?: AbortSignal },
) => Promise<unknown>;

/** POSTs `body` as JSON to `url` (with `headers` added); resolves when done or given up, never rejects. */
export async function postJson(url: string, body: unknown, options: { headers?: Record<string, string>; fetch?: PostFetch } = {}): Promise<void> {
  try {
    const doFetch: PostFetch = options.fetch ?? ((u, init) => globalThis.fetch(u, init));
    const headers = { ...options.headers, 'content-type': 'application/json' };
    const res = (await doFetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      keepalive: false,
      signal: AbortSignal.timeout(REPORT_TIMEOUT_MS),
    })) as {
      body?: { cancel?(): Promise<void> } | null;
    } | null;
    await res?.body?.cancel?.().catch(() => undefined);
  } catch {
    /* best effort */
  }
}
