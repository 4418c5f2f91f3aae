import { describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../../src/errors';
import { chooseBackend, type GpuProbe } from '../../src/worker/backend';
import type { AdapterInfo } from '../../src/types';

const adapter = (isFallbackAdapter: boolean): AdapterInfo => ({
  vendor: isFallbackAdapter ? 'google' : 'nvidia',
  architecture: isFallbackAdapter ? 'swiftshader' : 'ampere',
  device: '',
  description: '',
  isFallbackAdapter,
  features: [],
  wgslLanguageFeatures: [],
});
const ok = (fallback: boolean): GpuProbe => ({ status: 'ok', adapter: adapter(fallback) });

describe('chooseBackend', () => {
  it('auto picks WebGPU on a hardware adapter', () => {
    expect(chooseBackend('auto', ok(false))).toMatchObject({ backend: 'webgpu', requested: 'auto' });
  });
  it('auto picks WASM on a fallback adapter and names it', () => {
    const d = chooseBackend('auto', ok(true));
    expect(d.backend).toBe('wasm');
    expect(d.reason).toMatch(/fallback/);
    expect(d.reason).toMatch(/swiftshader/);
  });
  it.each(['no-webgpu', 'no-adapter', 'device-failed'] as const)('auto falls back to WASM when %s, with the reason', (status) => {
    const d = chooseBackend('auto', { status, adapter: null, error: 'boom' });
    expect(d.backend).toBe('wasm');
    expect(d.reason.length).toBeGreaterThan(20);
    if (status === 'device-failed') expect(d.reason).toContain('boom');
  });
  it.each(['no-webgpu', 'no-adapter', 'device-failed'] as const)('forced webgpu throws BackendUnavailableError when %s', (status) => {
    expect(() => chooseBackend('webgpu', { status, adapter: null })).toThrow(BackendUnavailableError);
  });
  it('forced webgpu works on a fallback adapter (that is how CI tests the GPU path)', () => {
    expect(chooseBackend('webgpu', ok(true))).toMatchObject({ backend: 'webgpu', requested: 'webgpu' });
  });
  it('wasm is always honoured', () => {
    expect(chooseBackend('wasm', ok(false)).backend).toBe('wasm');
    expect(chooseBackend('wasm', { status: 'no-webgpu', adapter: null }).backend).toBe('wasm');
  });
});
