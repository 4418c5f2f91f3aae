/**
 * HTTP freshness for URL entries (RFC 9111, the parts that make sense for a private cache of model
 * files): what a response said about itself, and whether a later load may use the stored bytes
 * without asking the server, must ask it (a conditional request), or cannot ask it at all.
 *
 * Pure functions of header strings and clocks, so Node tests cover them with hostile input.
 */

/** What a response said about caching, as stored with a URL entry. */
export interface HttpValidators {
  /** `ETag` as sent (strong or `W/` weak); absent when missing or hidden by CORS. */
  etag?: string;
  /** `Last-Modified` as sent. */
  lastModified?: string;
  /** `Cache-Control` as sent. */
  cacheControl?: string;
  /** `Expires` as sent. */
  expires?: string;
  /** `Date` as sent (hidden by CORS on cross-origin responses). */
  date?: string;
  /** `Age` in seconds, when sent. */
  age?: number;
  /** Epoch milliseconds at which this client received the response (or its last 304). */
  receivedAt: number;
  /** The response was cross-origin: only CORS-safelisted or exposed headers were readable. */
  crossOrigin?: boolean;
}

/** The `Cache-Control` directives the weight cache acts on. */
export interface CacheControl {
  /** `max-age` in seconds; a malformed or repeated-and-conflicting value counts as 0 (stale). */
  maxAge?: number;
  immutable: boolean;
  noCache: boolean;
  noStore: boolean;
}

/** Longest `Cache-Control` value parsed; the rest is ignored (real values are tens of bytes). */
const MAX_HEADER_CHARS = 4096;

/** Largest `max-age` honoured (RFC 9111 §1.2.2 caps delta-seconds at 2^31). */
const MAX_DELTA_SECONDS = 2 ** 31;

/**
 * Parses a `Cache-Control` value. Directive names are case-insensitive; unknown directives and
 * garbage are ignored; quoted arguments may contain commas. Never throws.
 */
export function parseCacheControl(value: string | null | undefined): CacheControl {
  const out: CacheControl = { immutable: false, noCache: false, noStore: false };
  if (!value) return out;
  const ages: number[] = [];
  // A directive is a token, optionally `=` a token or a quoted string (which may hold commas).
  const re = /([^\s,=]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"?|[^\s,]*))?/g;
  for (const m of value.slice(0, MAX_HEADER_CHARS).matchAll(re)) {
    const name = (m[1] ?? '').toLowerCase();
    const arg = m[2]?.startsWith('"') ? m[2].slice(1, -1) : m[2];
    if (name === 'no-store') out.noStore = true;
    else if (name === 'no-cache') out.noCache = true;
    else if (name === 'immutable') out.immutable = true;
    else if (name === 'max-age') ages.push(arg !== undefined && /^\d+$/.test(arg) ? Math.min(Number(arg), MAX_DELTA_SECONDS) : 0);
  }
  if (ages.length > 0) out.maxAge = ages.every((a) => a === ages[0]) ? ages[0] : 0;
  return out;
}

/** Reads the validators of `res`, received at `now`. CORS hides `ETag` and `Date` unless exposed. */
export function readValidators(res: Pick<Response, 'headers' | 'type'>, now: number): HttpValidators {
  const h = res.headers;
  const age = h.get('age');
  const v: HttpValidators = { receivedAt: now };
  const etag = h.get('etag');
  if (etag) v.etag = etag;
  const lastModified = h.get('last-modified');
  if (lastModified) v.lastModified = lastModified;
  const cacheControl = h.get('cache-control');
  if (cacheControl) v.cacheControl = cacheControl;
  const expires = h.get('expires');
  if (expires) v.expires = expires;
  const date = h.get('date');
  if (date) v.date = date;
  if (age !== null && /^\d+$/.test(age.trim())) v.age = Math.min(Number(age.trim()), MAX_DELTA_SECONDS);
  if (res.type === 'cors') v.crossOrigin = true;
  return v;
}

/**
 * The validators after a `304 Not Modified`: the stored ones updated with the fields the 304 sent
 * (RFC 9111 §4.3.4), received now.
 */
export function mergeValidators(stored: HttpValidators, fresh: HttpValidators): HttpValidators {
  const { receivedAt, crossOrigin, ...sent } = fresh;
  const base: HttpValidators = { ...stored, receivedAt };
  // Age and Date describe one response: a 304 without them must not keep the old ones.
  delete base.age;
  if (sent.date === undefined) delete base.date;
  return { ...base, ...sent, ...(crossOrigin || stored.crossOrigin ? { crossOrigin: true } : {}) };
}

/**
 * What a load does with a stored URL entry:
 * - `fresh`: use it, no request (`immutable`, or younger than its freshness lifetime);
 * - `revalidate`: ask the server with a conditional request (`If-None-Match` / `If-Modified-Since`);
 * - `unvalidatable`: stale, and there is nothing to ask with: use it, and say so.
 */
export type Freshness = { action: 'fresh' } | { action: 'revalidate'; headers: Record<string, string> } | { action: 'unvalidatable' };

/** Decides what to do with an entry whose response said `v`, at `now` (epoch ms). */
export function freshness(v: HttpValidators, now: number): Freshness {
  const cc = parseCacheControl(v.cacheControl);
  if (!cc.noCache && (cc.immutable || currentAge(v, now) < lifetime(v, cc))) return { action: 'fresh' };
  const headers = conditionalHeaders(v);
  return headers ? { action: 'revalidate', headers } : { action: 'unvalidatable' };
}

/** `If-None-Match` from the ETag, else `If-Modified-Since` from Last-Modified; undefined without either. */
export function conditionalHeaders(v: HttpValidators): Record<string, string> | undefined {
  if (v.etag) return { 'If-None-Match': v.etag };
  if (v.lastModified && Number.isFinite(Date.parse(v.lastModified))) return { 'If-Modified-Since': v.lastModified };
  return undefined;
}

/** Freshness lifetime in seconds (RFC 9111 §4.2.1): max-age, else Expires − Date; no heuristic. */
function lifetime(v: HttpValidators, cc: CacheControl): number {
  if (cc.maxAge !== undefined) return cc.maxAge;
  if (v.expires === undefined) return 0;
  const expires = Date.parse(v.expires);
  // An invalid Expires (e.g. "0") means already expired.
  if (!Number.isFinite(expires)) return 0;
  const date = v.date !== undefined ? Date.parse(v.date) : NaN;
  return (expires - (Number.isFinite(date) ? date : v.receivedAt)) / 1000;
}

/** Current age in seconds (RFC 9111 §4.2.3, without request-time correction). */
function currentAge(v: HttpValidators, now: number): number {
  const date = v.date !== undefined ? Date.parse(v.date) : NaN;
  const apparent = Number.isFinite(date) ? Math.max(0, v.receivedAt - date) / 1000 : 0;
  const resident = Math.max(0, now - v.receivedAt) / 1000;
  return Math.max(apparent, v.age ?? 0) + resident;
}

/** Whether the response said `no-store`. */
export function isNoStore(v: HttpValidators): boolean {
  return parseCacheControl(v.cacheControl).noStore;
}
