import { ModelLoadError } from '../errors';
import type { CacheSource, ModelManifest, ModelRef, ResolvedSource } from './types';

/**
 * Turns a {@link CacheSource} into a URL with its labels, fetching the manifest JSON when the source
 * is `{manifest}`. The manifest's `url` resolves relative to the manifest's own URL.
 */
export async function resolveSource(source: CacheSource, doFetch: typeof fetch, signal?: AbortSignal): Promise<ResolvedSource> {
  if (typeof source === 'string' || source instanceof URL) return { url: String(source) };
  if ('manifest' in source) return fromManifest(String(source.manifest), doFetch, signal);
  const ref: ModelRef = source;
  return { url: String(ref.url), sha256: ref.sha256, size: ref.size, id: ref.id, version: ref.version };
}

async function fromManifest(manifestUrl: string, doFetch: typeof fetch, signal?: AbortSignal): Promise<ResolvedSource> {
  const res = await doFetch(manifestUrl, { signal });
  if (!res.ok) {
    throw new ModelLoadError(`Fetching the model manifest at ${manifestUrl} failed with HTTP ${res.status}. Check the manifest URL.`, {
      url: manifestUrl,
      status: res.status,
    });
  }
  let m: Partial<ModelManifest>;
  try {
    m = (await res.json()) as Partial<ModelManifest>;
  } catch (err) {
    throw new ModelLoadError(`The model manifest at ${manifestUrl} is not JSON.`, { url: manifestUrl }, { cause: err });
  }
  if (typeof m.url !== 'string') {
    throw new ModelLoadError(`The model manifest at ${manifestUrl} has no "url". Expected {id, version, url, sha256, size}.`, { url: manifestUrl });
  }
  const base = new URL(manifestUrl, typeof location === 'undefined' ? undefined : location.href);
  return {
    url: new URL(m.url, base).href,
    sha256: typeof m.sha256 === 'string' ? m.sha256 : undefined,
    size: typeof m.size === 'number' ? m.size : undefined,
    id: typeof m.id === 'string' ? m.id : undefined,
    version: typeof m.version === 'string' ? m.version : undefined,
  };
}
