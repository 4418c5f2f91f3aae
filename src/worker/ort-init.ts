/**
 * onnxruntime-web's start, made to fail fast and by name. ORT loads its `.mjs` glue and `.wasm`
 * binary at the first session. A missing or mistyped file (a 404, an HTML fallback page) surfaces
 * as "no available backend found" inside a session-creation error, which would read as a bad
 * model; and a `.wasm` that instantiates but does not match the `.mjs` (another ORT build) throws
 * in a detached promise, so ORT's initialisation never settles at all. So webq8 starts ORT itself,
 * once, before the first model, with a one-node session, and watches the worker for unhandled
 * rejections meanwhile. On failure it fetches both files and says which one is wrong and how to
 * fix it ({@link WorkerError}, reason `ort-assets`), or, when both look right, that ORT failed to
 * start (`ort-init`). ORT remembers a failed start, so every later load gets the same answer.
 */
import { WorkerError } from '../errors';
import { ORT_FILES, ortAssetUrls, startOrtWasm } from './ort';

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
const JS_TYPE = /^(text|application)\/(javascript|ecmascript|x-javascript)\b/i;

let started: Promise<void> | null = null;

/** Resolves once ORT's WASM backend runs; rejects with a {@link WorkerError} (the same one every time) if it cannot. */
export function ensureOrt(scope: WorkerGlobalScope = self as unknown as WorkerGlobalScope): Promise<void> {
  started ??= watchUnhandled(scope, startOrtWasm()).catch(async (err: unknown) => {
    throw (await checkAssets()) ?? initFailed(err);
  });
  return started;
}

/** Settles like `work`, or rejects with the first unhandled rejection or uncaught error in the worker meanwhile. */
async function watchUnhandled(scope: WorkerGlobalScope, work: Promise<void>): Promise<void> {
  let onRejection: (e: PromiseRejectionEvent) => void = () => {};
  let onError: (e: ErrorEvent) => void = () => {};
  const detached = new Promise<never>((_, reject) => {
    onRejection = (e) => reject(e.reason);
    onError = (e) => reject(e.error ?? new Error(e.message));
  });
  scope.addEventListener('unhandledrejection', onRejection);
  scope.addEventListener('error', onError);
  try {
    await Promise.race([work, detached]);
  } finally {
    scope.removeEventListener('unhandledrejection', onRejection);
    scope.removeEventListener('error', onError);
    work.catch(() => undefined);
  }
}

function initFailed(err: unknown): WorkerError {
  const { mjs, wasm } = ortAssetUrls();
  const why = err instanceof Error ? err.message : String(err);
  return new WorkerError(
    `onnxruntime-web failed to start in webq8's Worker although its files were found (${why}). If you set wasmPaths, it must serve onnxruntime-web 1.30.0's ${ORT_FILES.mjs} and ${ORT_FILES.wasm} (loaded from ${mjs} and ${wasm}), from the same release; otherwise please report this error.`,
    { reason: 'ort-init', fatal: false, url: wasm },
  );
}

async function checkAssets(): Promise<WorkerError | null> {
  const { mjs, wasm } = ortAssetUrls();
  const bad = (await problem(mjs, 'mjs')) ?? (await problem(wasm, 'wasm'));
  if (!bad) return null;
  return new WorkerError(
    `onnxruntime-web's ${bad.file === 'mjs' ? ORT_FILES.mjs : ORT_FILES.wasm} could not be loaded from ${bad.url}: ${bad.what}. Serve webq8's dist/ort/ files there (Vite and webpack copy them without configuration), or point createRuntime({ wasmPaths }) at a folder (or {mjs, wasm} URLs) that serves onnxruntime-web 1.30.0's files.`,
    { reason: 'ort-assets', fatal: false, url: bad.url },
  );
}

/** What is wrong with one file, or null. Reads only the headers (and 4 bytes of the `.wasm`). */
async function problem(url: string, file: 'mjs' | 'wasm'): Promise<{ url: string; file: 'mjs' | 'wasm'; what: string } | null> {
  let res: Response;
  try {
    res = await fetch(url, { credentials: 'same-origin' });
  } catch (e) {
    return { url, file, what: `the request failed (${e instanceof Error ? e.message : String(e)})` };
  }
  const type = res.headers.get('content-type') ?? '';
  try {
    if (!res.ok) return { url, file, what: `HTTP ${res.status}` };
    if (file === 'mjs')
      return JS_TYPE.test(type)
        ? null
        : { url, file, what: `it is served as "${type || 'no Content-Type'}", and a module script needs a JavaScript MIME type` };
    const head = await firstBytes(res, 4);
    if (WASM_MAGIC.every((b, i) => head[i] === b)) return null;
    return { url, file, what: `it is not WebAssembly (served as "${type || 'no Content-Type'}"; an HTML fallback page for a missing file looks like this)` };
  } finally {
    void res.body?.cancel().catch(() => undefined);
  }
}

async function firstBytes(res: Response, n: number): Promise<Uint8Array> {
  const reader = res.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const { value } = await reader.read();
  reader.releaseLock();
  return (value ?? new Uint8Array(0)).subarray(0, n);
}
