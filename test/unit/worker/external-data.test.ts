// The quota check of external-data loads: a model whose data files cannot fit the origin's storage
// fails with StorageQuotaError (sizes named) before a single byte is downloaded.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StorageQuotaError } from '../../../src/errors';
import type { LoadRequest } from '../../../src/protocol';
import { LOAD_DEFAULTS } from '../../../src/defaults';
import { fetchExternalData, quotaShortfall } from '../../../src/worker/external-data';

const bytes = new Uint8Array(readFileSync(new URL('../../fixtures/external-data/mlp-q8-ext.onnx', import.meta.url)));
const model = { bytes, sha256: 'ab'.repeat(32), label: 'http://models.test/mlp-q8-ext.onnx', cache: { status: 'hit' as const } };
const request = (cache: 'default' | 'bypass'): LoadRequest => ({
  requestId: 'r1',
  source: { url: model.label },
  options: { ...LOAD_DEFAULTS, cache },
});

describe('external data quota check', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('counts evictable cached models as room', () => {
    expect(quotaShortfall(100, 1000, 950, 0)).toBe(50);
    expect(quotaShortfall(100, 1000, 950, 60)).toBe(0);
    expect(quotaShortfall(100, 1000, 1200, 0)).toBe(100);
  });

  it('fails with StorageQuotaError naming the sizes before downloading anything', async () => {
    const fetch = vi.fn(() => Promise.reject(new Error('must not fetch')));
    vi.stubGlobal('fetch', fetch);
    vi.stubGlobal('navigator', { storage: { estimate: () => Promise.resolve({ quota: 1_000_000, usage: 995_000 }) } });
    const err = await fetchExternalData(model, request('default'), new AbortController().signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageQuotaError);
    expect(err).toMatchObject({ code: 'STORAGE_QUOTA', details: { needed: 9984, available: 5000 } });
    expect(fetch).not.toHaveBeenCalled();
    // cache: 'bypass' stores nothing, so the quota does not matter: it goes on to download.
    const bypass = await fetchExternalData(model, request('bypass'), new AbortController().signal).catch((e: unknown) => e);
    expect(bypass).not.toBeInstanceOf(StorageQuotaError);
    expect(fetch).toHaveBeenCalled();
  });
});
