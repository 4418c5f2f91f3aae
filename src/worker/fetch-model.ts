/**
 * Downloads model bytes inside the worker as a stream, with progress and cancellation. HTTP and
 * network failures become a {@link ModelLoadError} naming the URL and status.
 */
import { AbortError, ModelLoadError } from '../errors';
import type { WireProgress } from './protocol';

/** Fetches `url` fully. */
export async function fetchModel(url: string, signal: AbortSignal, onProgress?: (p: WireProgress) => void): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (cause) {
    if (signal.aborted) throw new AbortError('The load was aborted by its AbortSignal.', { url });
    throw new ModelLoadError(`Could not fetch the model from ${url}: network error (${String(cause)}). Check the URL, CORS headers, and that the server is up.`, { url, status: 0 }, { cause });
  }
  if (!res.ok) {
    throw new ModelLoadError(`Could not fetch the model from ${url}: HTTP ${res.status} ${res.statusText}. Check the URL.`, { url, status: res.status });
  }
  const total = Number(res.headers.get('Content-Length')) || undefined;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      onProgress?.({ phase: 'download', loaded, total });
    }
  } catch (cause) {
    if (signal.aborted) throw new AbortError('The load was aborted by its AbortSignal.', { url });
    throw new ModelLoadError(`The download of ${url} broke off after ${loaded} bytes (${String(cause)}). Retry the load.`, { url, status: res.status, loaded }, { cause });
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(loaded);
  let off = 0;
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.byteLength;
  }
  return bytes;
}
