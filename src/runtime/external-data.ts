/**
 * `LoadOptions.externalData` on its way to the worker: URLs made absolute against the page (the
 * worker's base URL differs), bytes copied (the caller keeps its own) and transferred.
 */
import { ModelLoadError } from '../errors';
import type { WireSource } from '../protocol';
import type { ExternalDataSource } from '../types';

/** The wire form of `externalData` and the buffers to transfer with it; `wire` is undefined when none was given. */
export function wireExternalData(given: Record<string, ExternalDataSource> | undefined): {
  wire?: Record<string, WireSource>;
  transfers: Transferable[];
} {
  if (given === undefined) return { transfers: [] };
  const wire: Record<string, WireSource> = {};
  const transfers: Transferable[] = [];
  for (const [location, src] of Object.entries(given)) {
    if (src instanceof ArrayBuffer || src instanceof Uint8Array) {
      const bytes = src instanceof ArrayBuffer ? new Uint8Array(src.slice(0)) : src.slice();
      wire[location] = { bytes, label: location };
      transfers.push(bytes.buffer);
    } else if (typeof src === 'string' || src instanceof URL) wire[location] = { url: absolute(src) };
    else if (src && typeof src === 'object' && 'url' in src) {
      const { sha256, size, id, version } = src;
      wire[location] = { url: absolute(src.url), sha256, size, id, version };
    } else {
      throw new ModelLoadError(`externalData["${location}"] is ${String(src)}: pass a URL, {url, sha256} or the file's bytes.`, { file: location });
    }
  }
  return { wire, transfers };
}

function absolute(url: string | URL): string {
  return new URL(url, globalThis.location?.href).href;
}
