import { AbortError, ContentLengthError, ModelLoadError } from '../errors';
import { report } from './progress';
import type { LoadProgress } from './types';

/** Options of {@link fetchModelBytes}. */
export interface FetchModelOptions {
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  /** How many times a cut body is resumed or retried; default 3. */
  maxRetries?: number;
  /** Expected size in bytes (from a manifest); a different length is a `ContentLengthError`. */
  expectedSize?: number;
  fetch?: typeof fetch;
  /** The `RequestInit.cache` mode of every request (the weight cache passes `'no-store'`: it is the cache). */
  httpCache?: RequestCache;
}

/** The downloaded bytes and the response that started them (for its headers). */
export interface FetchedResponse {
  bytes: Uint8Array;
  /** The first full (200) response of the download. */
  response: Response;
}

/**
 * Downloads `url` as a stream into one buffer, reporting `download` progress. A body cut mid-stream
 * is resumed with `Range: bytes=<received>-` when the server answers 206 (or restarted when it
 * answers 200), at most `maxRetries` times. A non-OK status is a `ModelLoadError` naming the URL and
 * status; a body whose length differs from `Content-Length` or `expectedSize` is a
 * `ContentLengthError`; an aborted signal is an `AbortError`.
 *
 * Peak memory is one copy of the model when the length is known up front (the buffer is allocated
 * once and filled in place); otherwise the parts are joined at the end.
 */
export async function fetchModelBytes(url: string, options: FetchModelOptions = {}): Promise<Uint8Array> {
  return (await fetchModelResponse(url, options)).bytes;
}

/**
 * {@link fetchModelBytes} that also returns the response, for its caching headers. `first` is a
 * 200 response already received (a conditional request's answer): its body is read instead of
 * making the first request.
 */
export async function fetchModelResponse(url: string, options: FetchModelOptions = {}, first?: Response): Promise<FetchedResponse> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const maxRetries = options.maxRetries ?? 3;
  const { signal } = options;
  let sink: Sink | undefined;
  let head: Response | undefined;
  let pending = first;
  let retries = 0;
  let lastError: unknown;
  for (;;) {
    throwIfAborted(signal, url);
    const from = sink?.loaded ?? 0;
    let res: Response;
    try {
      res = pending ?? (await doFetch(url, requestInit(from, options)));
      pending = undefined;
    } catch (err) {
      throwIfAborted(signal, url);
      // A network error before any header: retry like a cut body (the bytes so far are kept).
      if (retries++ < maxRetries) {
        lastError = err;
        continue;
      }
      throw new ModelLoadError(
        `Could not fetch the model at ${url}: network error (${String(err)}). Check the URL, CORS headers, and that the server is up.`,
        { url, status: 0 },
        { cause: err },
      );
    }
    const start = res.status === 206 ? rangeStart(res) : undefined;
    if (from > 0 && res.status === 206 && (start === undefined || start === from) && sink) {
      // Resume: append to what we have.
    } else if (res.ok && res.status !== 206) {
      sink = new Sink(declaredLength(res), options.expectedSize, url);
      head = res;
    } else {
      await res.body?.cancel().catch(() => undefined);
      throw new ModelLoadError(
        `Fetching the model at ${url} failed with HTTP ${res.status}${from > 0 ? ` (resuming at byte ${from})` : ''}. Check that the URL serves the model file.`,
        { url, status: res.status },
      );
    }
    try {
      await sink.drain(res, options.onProgress);
    } catch (err) {
      throwIfAborted(signal, url);
      if (err instanceof ContentLengthError) throw err;
      lastError = err;
    }
    if (sink.complete() && head) return { bytes: sink.bytes(), response: head };
    if (retries++ >= maxRetries) {
      throw new ContentLengthError(
        `The model at ${url} ended after ${sink.loaded} of ${sink.total ?? 'an unknown number of'} bytes, ${maxRetries} resumes did not finish it${lastError ? ` (last error: ${String(lastError)})` : ''}. The server or the connection is cutting the body.`,
        { url, expected: sink.total, received: sink.loaded },
      );
    }
  }
}

/** The request for the bytes from `from` on. */
function requestInit(from: number, options: FetchModelOptions): RequestInit {
  return { signal: options.signal, headers: from > 0 ? { Range: `bytes=${from}-` } : {}, ...(options.httpCache ? { cache: options.httpCache } : {}) };
}

/** Collects the body into one buffer; tracks how much arrived so a retry can resume. */
class Sink {
  loaded = 0;
  private buf: Uint8Array | undefined;
  private parts: Uint8Array[] = [];

  constructor(
    readonly total: number | undefined,
    expectedSize: number | undefined,
    private readonly url: string,
  ) {
    if (total !== undefined && expectedSize !== undefined && total !== expectedSize) {
      throw new ContentLengthError(
        `The model at ${url} is ${total} bytes (Content-Length) but its manifest says ${expectedSize}. Update the manifest or the file.`,
        {
          url,
          expected: expectedSize,
          received: total,
        },
      );
    }
    this.total = total ?? expectedSize;
    if (this.total !== undefined) this.buf = new Uint8Array(this.total);
  }

  async drain(res: Response, onProgress: ((p: LoadProgress) => void) | undefined): Promise<void> {
    if (!res.body) throw new ModelLoadError(`The response for ${this.url} has no body.`, { url: this.url, status: res.status });
    const byob = this.buf ? byobReader(res.body) : undefined;
    if (byob) return this.drainByob(byob, onProgress);
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        this.push(value);
        report(onProgress, { phase: 'download', loaded: this.loaded, total: this.total });
      }
    } finally {
      reader.releaseLock();
    }
  }

  /**
   * Reads the body into one reusable scratch buffer and copies each piece into place: no buffer per
   * network chunk for the garbage collector to find later (a default reader hands out a new one per
   * chunk, a second model's worth of garbage in all). A cut body loses only the scratch buffer.
   */
  private async drainByob(reader: ReadableStreamBYOBReader, onProgress: ((p: LoadProgress) => void) | undefined): Promise<void> {
    let scratch = new Uint8Array(SCRATCH_BYTES);
    try {
      for (;;) {
        const { done, value } = await reader.read(scratch);
        if (done || !value) return;
        this.push(value);
        scratch = new Uint8Array(value.buffer);
        report(onProgress, { phase: 'download', loaded: this.loaded, total: this.total });
      }
    } finally {
      reader.releaseLock();
    }
  }

  complete(): boolean {
    return this.total === undefined || this.loaded === this.total;
  }

  bytes(): Uint8Array {
    if (this.buf) return this.buf;
    const out = new Uint8Array(this.loaded);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    this.parts = [];
    return out;
  }

  private push(chunk: Uint8Array): void {
    if (!this.buf) {
      this.parts.push(chunk);
    } else if (this.loaded + chunk.length > this.buf.length) {
      throw new ContentLengthError(`The model at ${this.url} sent more than the ${this.buf.length} bytes it declared. The server's Content-Length is wrong.`, {
        url: this.url,
        expected: this.buf.length,
        received: this.loaded + chunk.length,
      });
    } else {
      this.buf.set(chunk, this.loaded);
    }
    this.loaded += chunk.length;
  }
}

/** Bytes read from the network per piece on the BYOB path. */
const SCRATCH_BYTES = 1 << 20;

/** A BYOB reader of `body`, or undefined when it is not a byte stream (then the default reader is used). */
function byobReader(body: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  try {
    return body.getReader({ mode: 'byob' });
  } catch {
    return undefined;
  }
}

/**
 * The body length the response declares, or undefined. A compressed body (`Content-Encoding`)
 * decodes to a different length than its `Content-Length`, so it counts as unknown.
 */
function declaredLength(res: Response): number | undefined {
  const enc = res.headers.get('content-encoding');
  if (enc && enc !== 'identity') return undefined;
  const len = res.headers.get('content-length');
  if (len === null || !/^\d+$/.test(len)) return undefined;
  return Number(len);
}

/**
 * Start of a 206 response's range. `Content-Range` is not a CORS-safelisted header, so a
 * cross-origin server that does not expose it hides it: then trust that the 206 answers our range.
 */
function rangeStart(res: Response): number | undefined {
  const cr = res.headers.get('content-range');
  if (cr === null) return undefined;
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(cr);
  return m?.[1] === undefined ? -1 : Number(m[1]);
}

function throwIfAborted(signal: AbortSignal | undefined, url: string): void {
  if (signal?.aborted) throw new AbortError(`Loading the model at ${url} was aborted by its AbortSignal.`, { url });
}
