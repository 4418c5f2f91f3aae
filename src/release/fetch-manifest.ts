/**
 * Fetches a release manifest the way the weight cache fetches models: bounded, hashed and checked
 * before anything acts on it. A conditional GET (`If-None-Match`) makes a poll that changed nothing
 * cost one small response (304). Integrity: a `Content-Digest: sha-256=:<base64>:` header (RFC 9530),
 * when the server sends one, must match the body's SHA-256 (a manifest altered on the way, or by a
 * cache in between, is refused); with `requireIntegrity` the header is mandatory. And a version label
 * always names the same bytes: a manifest that points a label this client already knows at another
 * SHA-256 is refused too.
 */
import { parseExpectedSha256, sha256Hex } from '../cache';
import { IntegrityError, IntegrityRequiredError, ModelLoadError, ReleaseManifestError } from '../errors';
import type { ReleaseManifest } from '../types';
import { changedVersions, type ReleaseStore } from './client-store';
import { checkManifest, MAX_MANIFEST_BYTES } from '../isomorphic/manifest.js';

/** A manifest as fetched, with the ETag to send next time. */
export interface FetchedManifest {
  manifest: ReleaseManifest;
  etag: string | null;
}

/** Options of {@link fetchManifest}. */
export interface FetchManifestOptions {
  /** ETag of the manifest this client follows now: an unchanged manifest answers `'unchanged'`. */
  etag?: string | null;
  /** Refuse a manifest served without a `Content-Digest` header. */
  requireIntegrity?: boolean;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  store?: ReleaseStore;
}

/** Milliseconds a manifest request may take before it counts as failed. */
const TIMEOUT_MS = 15_000;

/**
 * Fetches and checks the manifest at `url` (absolute).
 * @throws `ModelLoadError` (network, HTTP status), `ReleaseManifestError` (too large, not JSON, a
 *   field wrong), `IntegrityError` (digest mismatch, a version label re-pointed),
 *   `IntegrityRequiredError` (`requireIntegrity` without a digest).
 */
export async function fetchManifest(url: string, options: FetchManifestOptions = {}): Promise<FetchedManifest | 'unchanged'> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS);
  let res: Response;
  try {
    res = await doFetch(url, { headers: options.etag ? { 'if-none-match': options.etag } : {}, cache: 'no-store', signal });
  } catch (err) {
    throw new ModelLoadError(
      `Could not fetch the release manifest at ${url} (${String(err)}). Check the URL, CORS headers, and that the server is up.`,
      { url, status: 0 },
      { cause: err },
    );
  }
  if (res.status === 304) return 'unchanged';
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new ModelLoadError(`Fetching the release manifest at ${url} failed with HTTP ${res.status}. Check the manifest URL.`, { url, status: res.status });
  }
  const bytes = await readBounded(res, url);
  await checkDigest(res.headers.get('content-digest'), bytes, url, options.requireIntegrity === true);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new ReleaseManifestError(`The release manifest at ${url} is not UTF-8 JSON.`, { url, field: 'manifest' });
  }
  const checked = checkManifest(json, url);
  if ('error' in checked) {
    throw new ReleaseManifestError(`The release manifest at ${url} is invalid: ${checked.error.reason}.`, { url, field: checked.error.field });
  }
  const { manifest } = checked;
  const versions = [manifest.stable, ...(manifest.candidate ? [manifest.candidate] : [])];
  const changed = await changedVersions(manifest.model, versions, options.store);
  if (changed.length > 0) {
    const c = changed[0]!;
    throw new IntegrityError(
      `The release manifest at ${url} points version ${c.version} of ${manifest.model} at SHA-256 ${c.now}, but this client knows it as ${c.was}. A version label must always name the same bytes: publish the new bytes under a new version.`,
      { url, version: c.version, expected: c.was, actual: c.now },
    );
  }
  return { manifest, etag: res.headers.get('etag') };
}

/** The body, refused beyond {@link MAX_MANIFEST_BYTES} without reading the rest. */
async function readBounded(res: Response, url: string): Promise<Uint8Array> {
  const tooLarge = () =>
    new ReleaseManifestError(`The release manifest at ${url} is larger than ${MAX_MANIFEST_BYTES} bytes; a manifest names versions, not models.`, {
      url,
      field: 'manifest',
    });
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > MAX_MANIFEST_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_MANIFEST_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

/** Checks the body against the `sha-256` member of a `Content-Digest` header. */
async function checkDigest(header: string | null, bytes: Uint8Array, url: string, required: boolean): Promise<void> {
  const member = header === null ? undefined : /(?:^|,)\s*sha-256=:([A-Za-z0-9+/=]+):/i.exec(header)?.[1];
  if (member === undefined) {
    if (required) {
      throw new IntegrityRequiredError(
        `requireIntegrity is set but the release manifest at ${url} came without a "Content-Digest: sha-256=:…:" header (cross-origin servers must also list it in Access-Control-Expose-Headers).`,
        { url },
      );
    }
    return;
  }
  const expected = parseExpectedSha256(`sha256-${member}`);
  const actual = await sha256Hex(bytes);
  if (actual !== expected) {
    throw new IntegrityError(
      `The release manifest at ${url} does not match its Content-Digest (SHA-256 ${actual}, expected ${expected}): it was altered on the way. Nothing in it was used.`,
      {
        url,
        expected,
        actual,
      },
    );
  }
}
