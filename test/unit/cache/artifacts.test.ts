import { describe, expect, it } from 'vitest';
import { cacheUsage, clearCache, createMemoryStore, deleteEntries, getArtifact, listArtifacts, loadModelBytes, putArtifact } from '../../../src/cache';
import type { ArtifactKey } from '../../../src/cache';
import { fakeServer, MODEL_URL, modelBytes } from './fake-server';

const key: ArtifactKey = { modelSha256: 'a'.repeat(64), webq8Version: '0.1.0', adapterKey: 'webgpu:swiftshader', kind: 'partition-plan' };

describe('compiled artifacts', () => {
  it('round-trips bytes and JSON under their full key', async () => {
    const store = createMemoryStore();
    expect(await putArtifact(key, { nodes: [1, 2] }, store)).toBe(true);
    expect(await putArtifact({ ...key, kind: 'prepacked' }, new Uint8Array([1, 2, 3]), store)).toBe(true);
    expect(await getArtifact(key, store)).toEqual({ nodes: [1, 2] });
    expect(await getArtifact({ ...key, kind: 'prepacked' }, store)).toEqual(new Uint8Array([1, 2, 3]));
    expect(await getArtifact({ ...key, adapterKey: 'wasm' }, store)).toBeUndefined();
  });

  it('a new webq8 version or adapter replaces the stale artifact of the same kind', async () => {
    const store = createMemoryStore();
    await putArtifact(key, 'old', store);
    await putArtifact({ ...key, webq8Version: '0.2.0' }, 'new', store);
    expect(await getArtifact(key, store)).toBeUndefined();
    await putArtifact({ ...key, webq8Version: '0.2.0', adapterKey: 'wasm' }, 'wasm', store);
    expect((await listArtifacts(store)).map((m) => [m.webq8Version, m.adapterKey])).toEqual([['0.2.0', 'wasm']]);
    expect(store.maps.artifacts.size).toBe(2);
  });

  it('deleting a model entry deletes its artifacts; usage counts both; clear empties everything', async () => {
    const store = createMemoryStore();
    const model = modelBytes(50_000);
    const { sha256 } = await loadModelBytes({ url: MODEL_URL, id: 'm', version: '1' }, { fetch: fakeServer({ [MODEL_URL]: model }).fetch }, store);
    await putArtifact({ ...key, modelSha256: sha256 }, new Uint8Array(10), store);
    await putArtifact(key, new Uint8Array(7), store);
    expect(await cacheUsage(store)).toMatchObject({ entries: 1, entryBytes: model.length, artifacts: 2, artifactBytes: 17 });
    expect(await deleteEntries({ id: 'm' }, store)).toBe(1);
    expect(await cacheUsage(store)).toMatchObject({ entries: 0, entryBytes: 0, artifacts: 1, artifactBytes: 7 });
    await clearCache(store);
    expect(store.maps.entries.size + store.maps.chunks.size + store.maps.artifacts.size).toBe(0);
  });
});
