/**
 * Compiled artifacts: what a load prepares from a model (today one kind, `'plan'`: the partition
 * plan and the kernels-vs-ORT decision, src/worker/prepare.ts), keyed by (model SHA-256, webq8
 * version, adapter key, kind) so a warm start can skip the work. Storing an artifact drops the same model's artifacts of the same kind
 * built by another webq8 version or for another adapter: those are stale.
 */
import { getDefaultStore } from './idb-store';
import { artifactDataKey, artifactMetaKey, type CacheStore } from './store';
import type { ArtifactKey, ArtifactMeta, ArtifactValue } from './types';

/**
 * The stored artifact for `key`, or undefined when absent (including when only a stale one, from
 * another webq8 version or adapter, exists). Storage errors read as absent.
 */
export async function getArtifact<T extends ArtifactValue = ArtifactValue>(key: ArtifactKey, store: CacheStore = getDefaultStore()): Promise<T | undefined> {
  try {
    const id = artifactId(key);
    const [meta, data] = await store.artifacts.getMany([artifactMetaKey(id), artifactDataKey(id)]);
    return meta === undefined ? undefined : (data as T | undefined);
  } catch {
    return undefined;
  }
}

/**
 * Stores `value` under `key` (meta and value in one atomic write) and drops stale artifacts of the
 * same model and kind. Resolves to false when storage refused (quota, no IndexedDB): an artifact
 * is an optimization, so this never throws.
 */
export async function putArtifact(key: ArtifactKey, value: ArtifactValue, store: CacheStore = getDefaultStore()): Promise<boolean> {
  try {
    const stale = (await listArtifacts(store)).filter(
      (m) => m.modelSha256 === key.modelSha256 && m.kind === key.kind && (m.webq8Version !== key.webq8Version || m.adapterKey !== key.adapterKey),
    );
    await dropArtifacts(store, stale);
    const id = artifactId(key);
    const meta: ArtifactMeta = { ...pickKey(key), size: sizeOf(value), createdAt: Date.now() };
    await store.artifacts.setMany([
      [artifactMetaKey(id), meta],
      [artifactDataKey(id), value],
    ]);
    return true;
  } catch {
    return false;
  }
}

/** Metadata of every stored artifact. */
export async function listArtifacts(store: CacheStore = getDefaultStore()): Promise<ArtifactMeta[]> {
  const metaKeys = (await store.artifacts.keys()).filter((k) => k.startsWith(artifactMetaKey('')));
  const metas = await store.artifacts.getMany(metaKeys);
  return metas.filter((m): m is ArtifactMeta => typeof m === 'object' && m !== null && 'modelSha256' in m);
}

/** Deletes the artifacts matching every field given in `filter` (all of them for `{}`). Resolves to how many. */
export async function deleteArtifacts(filter: Partial<ArtifactKey>, store: CacheStore = getDefaultStore()): Promise<number> {
  const doomed = (await listArtifacts(store)).filter((m) =>
    (Object.keys(filter) as (keyof ArtifactKey)[]).every((f) => filter[f] === undefined || m[f] === filter[f]),
  );
  await dropArtifacts(store, doomed);
  return doomed.length;
}

async function dropArtifacts(store: CacheStore, metas: ArtifactKey[]): Promise<void> {
  if (metas.length === 0) return;
  const ids = metas.map(artifactId);
  // Meta first in the same atomic delete, so no meta ever points at a missing value.
  await store.artifacts.delMany([...ids.map(artifactMetaKey), ...ids.map(artifactDataKey)]);
}

function artifactId(k: ArtifactKey): string {
  return [k.modelSha256, k.webq8Version, k.adapterKey, k.kind].map(encodeURIComponent).join('|');
}

function pickKey(k: ArtifactKey): ArtifactKey {
  return { modelSha256: k.modelSha256, webq8Version: k.webq8Version, adapterKey: k.adapterKey, kind: k.kind };
}

function sizeOf(v: ArtifactValue): number {
  if (v instanceof Uint8Array) return v.byteLength;
  try {
    return JSON.stringify(v)?.length ?? 0;
  } catch {
    return 0;
  }
}
