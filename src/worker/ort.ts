/**
 * onnxruntime-web, configured once per worker. We use the `/webgpu` build: ORT's native C++ WebGPU
 * EP (its WASM EP serves the CPU backend from the same binary).
 */
import * as ort from 'onnxruntime-web/webgpu';
import { buildModel } from '../graph/onnx-builder';
import type { WorkerConfig } from '../protocol';

export { ort };

/** Worker configuration the main thread sends once (src/protocol.ts). */
export type OrtConfig = WorkerConfig;

// A variable, not a literal: Vite's lib build rewrites `new URL('literal', import.meta.url)`
// (it would resolve './ort/' to ort.ts and inline it as a data URL).
const ORT_DIR = './ort/';

let configured = false;

/** Sets ORT's environment before the first session (later calls are ignored: ORT reads it once). */
export function configureOrt(config: OrtConfig): void {
  if (configured) return;
  configured = true;
  // The library build ships ORT's .wasm in dist/ort/ next to worker.js.
  ort.env.wasm.wasmPaths = config.wasmPaths ?? new URL(ORT_DIR, import.meta.url).href;
  // Threads need SharedArrayBuffer, which only cross-origin-isolated pages have.
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  ort.env.wasm.numThreads = config.numThreads ?? (isolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1);
  ort.env.logLevel = config.logLevel ?? 'warning';
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
  anchor ??= ort.InferenceSession.create(anchorModel(), { executionProviders: ['webgpu'] });
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

/** Releases the anchor session (after a device loss, so the next {@link ortDevice} gets a fresh device). */
export async function releaseOrtDevice(): Promise<void> {
  const a = anchor;
  anchor = null;
  try {
    await (await a)?.release();
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

