/**
 * A slot is one version of a release, loaded and behind its own serving layer (a `Server`), with
 * the runs in flight on it. Blue-green switching rests on two rules: a run holds its slot from
 * submit to answer (so it finishes on the version it started on), and a retired slot is disposed
 * only when its last run has left (so no run fails because of a switch).
 */
import type { ModelReplica } from '../serving/replica';
import type { Server } from '../serving/server';
import { syntheticFeeds } from '../synthetic-feeds';
import { copyFeeds } from '../tensors';
import type { ModelInfo, ModelRef, ReleaseVersion, TensorMap } from '../types';
import { rememberVersion, type ReleaseStore } from './client-store';
import { LocalStats } from './local-stats';

/** A version the runtime loaded: what {@link ReleaseDeps.loadVersion} returns. */
export interface LoadedVersion {
  info: ModelInfo;
  server: Server<ModelReplica>;
}

/** One loaded version and its runs in flight. */
export interface Slot {
  version: ReleaseVersion;
  info: ModelInfo;
  server: Server<ModelReplica>;
  /** This version's record on this client. */
  stats: LocalStats;
  /** Runs submitted and not yet answered (user runs, shadow runs and warm-up). */
  inflight: number;
  /** No new runs come here; disposed when `inflight` reaches 0. */
  retired: boolean;
}

/** Loads `version` of `model` with its expected hash and size; the weight cache verifies the bytes. */
export async function loadSlot(
  load: (ref: ModelRef & { url: string }, dedicated: boolean) => Promise<LoadedVersion>,
  model: string,
  version: ReleaseVersion,
  dedicated: boolean,
  store: ReleaseStore | undefined,
): Promise<Slot> {
  const { info, server } = await load({ url: version.url, sha256: version.sha256, size: version.size, id: model, version: version.version }, dedicated);
  // The bytes matched: from now on this label must always name them.
  await rememberVersion(model, version.version, info.sha256, store);
  return { version, info, server, stats: new LocalStats(), inflight: 0, retired: false };
}

/** A run enters `slot`. */
export function enter(slot: Slot): void {
  slot.inflight++;
}

/** A run left `slot`; the last one out of a retired slot disposes it. */
export function leave(slot: Slot): void {
  slot.inflight--;
  if (slot.retired && slot.inflight === 0) void slot.server.dispose().catch(() => undefined);
}

/** Takes `slot` out of service: disposed now if idle, else when its last run leaves. */
export function retire(slot: Slot): void {
  if (slot.retired) return;
  slot.retired = true;
  if (slot.inflight === 0) void slot.server.dispose().catch(() => undefined);
}

/**
 * Runs `slot` once before it takes traffic, so its first user run pays no first-run costs: with a
 * copy of recent real inputs when there are some (a failure then means the version cannot serve
 * them, and it throws), else with the inputs load-time warm-up makes from the model's declared
 * inputs (zeros; a named symbolic dimension gets one size wherever it appears), whose failure proves
 * nothing about real inputs and is ignored. A model with an input that is not a tensor is not warmed
 * without recent inputs: nothing can be made for it.
 */
export async function warm(slot: Slot, recent: TensorMap | null): Promise<void> {
  const feeds = recent ? copyFeeds(recent) : syntheticFeeds(slot.info.inputs);
  if (!feeds) return;
  enter(slot);
  try {
    if (recent) await slot.server.submit(feeds);
    else await slot.server.submit(feeds).catch(() => undefined);
  } finally {
    leave(slot);
  }
}

/**
 * Why `next` cannot take over from `current`'s callers, or null when it can: every input must keep
 * its name and type, and every output the callers read must still come back with its type.
 */
export function incompatibility(current: ModelInfo, next: ModelInfo): string | null {
  for (const input of current.inputs) {
    const other = next.inputs.find((i) => i.name === input.name);
    if (!other || other.type !== input.type) return `input "${input.name}" (${input.type}) is ${other ? other.type : 'missing'} in the new version`;
  }
  if (next.inputs.length !== current.inputs.length) return `the new version has ${next.inputs.length} inputs, not ${current.inputs.length}`;
  for (const output of current.outputs) {
    const other = next.outputs.find((o) => o.name === output.name);
    if (!other || other.type !== output.type) return `output "${output.name}" (${output.type}) is ${other ? other.type : 'missing'} in the new version`;
  }
  return null;
}
