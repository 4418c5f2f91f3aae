/**
 * Hardware-aware backend choice. `auto` picks WebGPU only on a real GPU: with no WebGPU, a failed
 * adapter or device request, or a fallback adapter (SwiftShader, where ORT's WebGPU EP runs ~40×
 * slower than its WASM EP) it picks WASM, and says why.
 */
import { BackendUnavailableError } from '../errors';
import type { AdapterInfo, BackendDecision, BackendRequest } from '../types';

/** What probing WebGPU found. */
export type GpuProbe =
  { status: 'ok'; adapter: AdapterInfo } | { status: 'no-webgpu' | 'no-adapter' | 'device-failed'; adapter: AdapterInfo | null; error?: string };

/** Decides the backend for `requested` given a probe; throws when `webgpu` is forced but unavailable. */
export function chooseBackend(requested: BackendRequest, probe: GpuProbe): BackendDecision {
  if (requested === 'wasm') return { backend: 'wasm', requested, reason: 'WASM was requested.' };
  if (probe.status !== 'ok') {
    const why = unavailableReason(probe);
    if (requested === 'webgpu') {
      throw new BackendUnavailableError(`WebGPU was requested but ${why}. Use backend 'auto' or 'wasm', or run in a browser with WebGPU enabled.`, {
        status: probe.status,
        error: probe.error,
      });
    }
    return { backend: 'wasm', requested, reason: `${capitalize(why)}; using WASM.` };
  }
  const a = probe.adapter;
  if (requested === 'webgpu') {
    return {
      backend: 'webgpu',
      requested,
      reason: a.isFallbackAdapter
        ? `WebGPU was requested (the adapter ${label(a)} is a fallback adapter, slower than WASM).`
        : `WebGPU was requested (${label(a)}).`,
    };
  }
  if (a.isFallbackAdapter) {
    return {
      backend: 'wasm',
      requested,
      reason: `The WebGPU adapter ${label(a)} is a fallback (software) adapter, where ORT's WebGPU EP is much slower than WASM; using WASM.`,
    };
  }
  return { backend: 'webgpu', requested, reason: `A hardware WebGPU adapter is present (${label(a)}).` };
}

function unavailableReason(probe: Exclude<GpuProbe, { status: 'ok' }>): string {
  switch (probe.status) {
    case 'no-webgpu':
      return 'this browser context has no WebGPU (navigator.gpu is missing; it needs a secure context such as https or localhost)';
    case 'no-adapter':
      return 'no WebGPU adapter is available (requestAdapter() returned null)';
    default:
      return `the WebGPU device could not be created (${probe.error ?? 'unknown error'})`;
  }
}

function label(a: AdapterInfo): string {
  return [a.vendor, a.architecture].filter(Boolean).join(' / ') || 'unknown adapter';
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

let cached: Promise<GpuProbe> | undefined;

/** Probes WebGPU once per worker (adapter, a throwaway device, features). */
export function probeGpu(): Promise<GpuProbe> {
  cached ??= doProbe();
  return cached;
}

async function doProbe(): Promise<GpuProbe> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { status: 'no-webgpu', adapter: null };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return { status: 'no-adapter', adapter: null, error: String(e) };
  }
  if (!adapter) return { status: 'no-adapter', adapter: null };
  const info = adapterInfo(adapter, gpu);
  try {
    const device = await adapter.requestDevice();
    device.destroy();
  } catch (e) {
    return { status: 'device-failed', adapter: info, error: e instanceof Error ? e.message : String(e) };
  }
  return { status: 'ok', adapter: info };
}

function adapterInfo(adapter: GPUAdapter, gpu: GPU): AdapterInfo {
  const i = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const legacyFallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    vendor: i?.vendor ?? '',
    architecture: i?.architecture ?? '',
    device: i?.device ?? '',
    description: i?.description ?? '',
    isFallbackAdapter: Boolean(i?.isFallbackAdapter ?? legacyFallback),
    features: [...adapter.features].sort(),
    wgslLanguageFeatures: [...((gpu as GPU & { wgslLanguageFeatures?: Set<string> }).wgslLanguageFeatures ?? [])].sort(),
  };
}
