/**
 * onnxruntime-web, configured once per worker. We use the `/webgpu` build: ORT's native C++ WebGPU
 * EP (its WASM EP serves the CPU backend from the same binary).
 */
import * as ort from 'onnxruntime-web/webgpu';
import { buildModel } from '../graph/onnx-builder';
import type { WorkerConfig } from '../protocol';
import { ortCall } from './ort-gate';

export { ort };

/** Where ORT's two files are served: a folder URL ending in `/`, or one absolute URL per file. */
export type OrtPaths = NonNullable<WorkerConfig['wasmPaths']>;

/** Worker configuration the main thread sends once (src/protocol.ts). */
export type OrtConfig = WorkerConfig;

/** The files of ORT's `/webgpu` build that the worker loads at run time (shipped in dist/ort/). */
export const ORT_FILES = { mjs: 'ort-wasm-simd-threaded.asyncify.mjs', wasm: 'ort-wasm-simd-threaded.asyncify.wasm' } as const;

let configured = false;
let assetUrls: { mjs: string; wasm: string } | null = null;

/** Sets ORT's environment before the first session (later calls are ignored: ORT reads it once). */
export function configureOrt(config: OrtConfig): void {
  if (configured) return;
  configured = true;
  assetUrls = resolveOrtPaths(config.wasmPaths);
  ort.env.wasm.wasmPaths = assetUrls;
  // Threads need SharedArrayBuffer, which only cross-origin-isolated pages have.
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  ort.env.wasm.numThreads = config.numThreads ?? (isolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1);
  ort.env.logLevel = config.logLevel ?? 'warning';
}

/** The URLs ORT loads its `.mjs` glue and `.wasm` binary from (after {@link configureOrt}). */
export function ortAssetUrls(): { mjs: string; wasm: string } {
  return assetUrls ?? resolveOrtPaths(undefined);
}

function resolveOrtPaths(paths: OrtPaths | undefined): { mjs: string; wasm: string } {
  if (typeof paths === 'object') return { mjs: new URL(paths.mjs, self.location.href).href, wasm: new URL(paths.wasm, self.location.href).href };
  if (paths !== undefined) {
    const dir = new URL(paths.endsWith('/') ? paths : `${paths}/`, self.location.href);
    return { mjs: new URL(ORT_FILES.mjs, dir).href, wasm: new URL(ORT_FILES.wasm, dir).href };
  }
  // One literal `new URL('./file', import.meta.url)` per file: the form Vite, webpack and Parcel
  // find, copy to their output and rewrite. The `@vite-ignore` keeps webq8's own library build
  // from inlining them; vite.config.ts (webq8-bundler-literals) strips it and fixes the relative
  // path, so dist/worker.js carries the plain literal (ORT accepts `wasmPaths: {mjs, wasm}`).
  return {
    mjs: new URL(/* @vite-ignore */ './ort/ort-wasm-simd-threaded.asyncify.mjs', import.meta.url).href,
    wasm: new URL(/* @vite-ignore */ './ort/ort-wasm-simd-threaded.asyncify.wasm', import.meta.url).href,
  };
}

let anchor: Promise<ort.InferenceSession> | null = null;

/**
 * ORT's own GPUDevice, kept alive by a one-node "anchor" WebGPU session.
 * ORT #26107: setting `ort.env.webgpu.device` is ignored in 1.30, so we share ORT's instead. ORT
 * creates its device with its first WebGPU session and destroys it when its last one is
 * released, so the anchor lets kernel-only plans (and plans that start with a kernel) get a device
 * and keeps it while models come and go.
 */
export async function ortDevice(): Promise<GPUDevice> {
  anchor ??= ortCall(() => ort.InferenceSession.create(anchorModel(), { executionProviders: ['webgpu'] }));
  try {
    await anchor;
  } catch (err) {
    anchor = null;
    throw err;
  }
  const device = await (ort.env.webgpu as unknown as { device: Promise<GPUDevice> | GPUDevice }).device;
  if (!device) throw new Error('ORT has no WebGPU device although a WebGPU session exists.');
  return device;
}

/** Starts ORT's WASM backend (downloads and compiles its `.wasm`) with a one-node session. */
export async function startOrtWasm(): Promise<void> {
  const session = await ortCall(() => ort.InferenceSession.create(anchorModel(), { executionProviders: ['wasm'] }));
  await ortCall(() => session.release());
}

/** Releases the anchor session (after a device loss, so the next {@link ortDevice} gets a fresh device). */
export async function releaseOrtDevice(): Promise<void> {
  const a = anchor;
  anchor = null;
  try {
    const session = await a;
    if (session) await ortCall(() => session.release());
  } catch {
    /* the session may be unusable after a device loss */
  }
}

function anchorModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: [1] }],
    outputs: [{ name: 'y', type: 'float32', dims: [1] }],
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    name: 'webq8-anchor',
  });
}
