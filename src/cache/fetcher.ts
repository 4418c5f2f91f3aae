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

/**
 * Where {@link fetchModelStream} puts a body instead of one buffer: the bytes are handed over in
 * order as they arrive, and nothing else keeps them.
 */
export interface BodyWriter {
  /**
   * A full (200) response starts the body from byte 0: the first one, or a restart after a cut body
   * whose resume the server refused (drop what was written). `total` is its declared length, when
   * known. Throwing here cancels the download with that error, before its body is read.
   */
  begin(response: Response, total: number | undefined): Promise<void>;
  /** The next bytes of the body (a view the fetcher reuses once this resolves: copy what you keep). */
  write(bytes: Uint8Array): Promise<void>;
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
  const { sink, head } = await fetchBody(url, options, first);
  return { bytes: sink.bytes(), response: head };
}

/**
 * {@link fetchModelResponse} into `writer` instead of memory: the same resumes, retries, length
 * checks and errors; resolves to the first full response and the body's length once the last byte
 * was written.
 */
export async function fetchModelStream(url: string, writer: BodyWriter, options: FetchModelOptions = {}): Promise<{ response: Response; size: number }> {
  const { sink, head } = await fetchBody(url, options, undefined, writer);
  return { response: head, size: sink.loaded };
}

async function fetchBody(url: string, options: FetchModelOptions, first: Response | undefined, writer?: BodyWriter): Promise<{ sink: Sink; head: Response }> {
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
      sink = await Sink.open(res, options.expectedSize, url, writer);
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
      if (err instanceof WriterFailed) throw err.cause; // the writer's own failure, not a cut body
      lastError = err;
    }
    if (sink.complete() && head) return { sink, head };
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

/** Collects the body into one buffer (or hands it to a writer); tracks how much arrived so a retry can resume. */
class Sink {
  loaded = 0;
  private buf: Uint8Array | undefined;
  private parts: Uint8Array[] = [];

  /** A sink for the full response `res` (its writer told to begin; a writer's refusal cancels the body). */
  static async open(res: Response, expectedSize: number | undefined, url: string, writer?: BodyWriter): Promise<Sink> {
    const sink = new Sink(declaredLength(res), expectedSize, url, writer);
    try {
      await writer?.begin(res, sink.total);
    } catch (err) {
      await res.body?.cancel().catch(() => undefined);
      throw err;
    }
    return sink;
  }

  constructor(
    readonly total: number | undefined,
    expectedSize: number | undefined,
    private readonly url: string,
    private readonly writer?: BodyWriter,
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
    if (this.total !== undefined && !writer) this.buf = new Uint8Array(this.total);
  }

  async drain(res: Response, onProgress: ((p: LoadProgress) => void) | undefined): Promise<void> {
    if (!res.body) throw new ModelLoadError(`The response for ${this.url} has no body.`, { url: this.url, status: res.status });
    const byob = this.buf || this.writer ? byobReader(res.body) : undefined;
    if (byob) return this.drainByob(byob, onProgress);
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        await this.push(value);
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
        await this.push(value);
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

  private async push(chunk: Uint8Array): Promise<void> {
    const limit = this.buf?.length ?? (this.writer ? this.total : undefined);
    if (limit !== undefined && this.loaded + chunk.length > limit) {
      throw new ContentLengthError(`The model at ${this.url} sent more than the ${limit} bytes it declared. The server's Content-Length is wrong.`, {
        url: this.url,
        expected: limit,
        received: this.loaded + chunk.length,
      });
    }
    if (this.writer) {
      try {
        await this.writer.write(chunk);
      } catch (err) {
        throw new WriterFailed(err);
      }
    } else if (this.buf) this.buf.set(chunk, this.loaded);
    else this.parts.push(chunk);
    this.loaded += chunk.length;
  }
}

/** A {@link BodyWriter}'s failure, passed through instead of being retried as a cut body. */
class WriterFailed {
  constructor(readonly cause: unknown) {}
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
