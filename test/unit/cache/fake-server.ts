// A fake `fetch` serving in-memory files, with the faults the cache must survive: cut bodies,
// servers without Range support, lying Content-Length, error statuses. Not a test file itself.

/** The model URL most tests serve. */
export const MODEL_URL = 'https://models.test/m.onnx';

/** Small chunks, so a 300 kB test model spans several. */
export const TEST_CHUNK_BYTES = 64 * 1024;

/** How the fake server misbehaves. */
export interface FakeServerOptions {
  /** Answer Range requests with 206 (default true); false answers them with the whole body (200). */
  ranges?: boolean;
  /** Cut the body of the first `cuts` responses after `cutAfter` bytes (a network error mid-body). */
  cutAfter?: number;
  cuts?: number;
  /** Declared Content-Length, when it should lie. */
  contentLength?: number;
  /** Bytes per stream piece; default 16 KiB. */
  piece?: number;
  /** Serve bodies as byte streams (as browsers do), which a reader may read into its own buffer (BYOB). */
  byteStream?: boolean;
  /** More response headers (e.g. `cache-control`). */
  headers?: Record<string, string>;
}

/** One request the fake server saw. */
export interface SeenRequest {
  url: string;
  range: string | null;
}

/** Deterministic pseudo-random bytes (xorshift), so each size gives the same model every run. */
export function modelBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** SHA-256 hex computed with Node's crypto, independently of the code under test. */
export async function nodeSha256(bytes: Uint8Array): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(bytes).digest('hex');
}

/** A `fetch` over `files` (URL → bytes, or a number for an empty response with that status). */
export function fakeServer(files: Record<string, Uint8Array | number | object>, opts: FakeServerOptions = {}) {
  const requests: SeenRequest[] = [];
  /** Reads of a byte stream body that brought their own buffer. */
  const reads = { byob: 0 };
  let cutsLeft = opts.cuts ?? (opts.cutAfter === undefined ? 0 : Infinity);
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const range = new Headers(init?.headers).get('range');
    requests.push({ url, range });
    if (init?.signal?.aborted) throw new DOMException('The operation was aborted.', 'AbortError');
    const file = files[url];
    if (file === undefined) return new Response('not found', { status: 404 });
    if (typeof file === 'number') return new Response(null, { status: file });
    if (!(file instanceof Uint8Array)) return Response.json(file);
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    const start = m?.[1] !== undefined && opts.ranges !== false ? Number(m[1]) : 0;
    const body = file.subarray(start);
    const headers: Record<string, string> = { ...opts.headers, 'content-length': String(opts.contentLength ?? body.length) };
    if (start > 0) headers['content-range'] = `bytes ${start}-${file.length - 1}/${file.length}`;
    const cut = cutsLeft-- > 0 ? opts.cutAfter : undefined;
    const src = source(body, opts.piece ?? 16384, cut, init?.signal ?? undefined);
    const byteSource = (): ReadableStream<Uint8Array> =>
      new ReadableStream({
        type: 'bytes',
        pull: (c) => {
          if (c.byobRequest) reads.byob++;
          src.pull({
            enqueue: (chunk) => c.enqueue(chunk),
            error: (e) => c.error(e),
            // A byte source closed while a reader waits with its own buffer must hand that buffer back.
            close: () => {
              c.close();
              c.byobRequest?.respond(0);
            },
          });
        },
      });
    return new Response(opts.byteStream ? byteSource() : new ReadableStream<Uint8Array>(src), { status: start > 0 ? 206 : 200, headers });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests, reads };
}

interface Controller {
  enqueue(chunk: Uint8Array<ArrayBuffer>): void;
  close(): void;
  error(e: unknown): void;
}

function source(body: Uint8Array, piece: number, cutAfter: number | undefined, signal: AbortSignal | undefined): { pull(controller: Controller): void } {
  let at = 0;
  return {
    pull(controller) {
      if (signal?.aborted) return controller.error(new DOMException('The operation was aborted.', 'AbortError'));
      if (cutAfter !== undefined && at >= cutAfter) return controller.error(new TypeError('network error: connection reset'));
      if (at >= body.length) return controller.close();
      const end = Math.min(body.length, at + piece, cutAfter ?? Infinity);
      controller.enqueue(body.slice(at, end));
      at = end;
    },
  };
}

/** Whether two byte arrays are equal; far faster than `toEqual` on large typed arrays. */
export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && Buffer.compare(a, b) === 0;
}
