/**
 * Bind groups and uniform buffers of one plan, made on a dispatch's first use and reused by every
 * later run that binds the same buffers: a plan's second run of a shape creates none. A bind group
 * is keyed by its pipeline and the identity, offset and size of every buffer it binds, so a changed
 * buffer (the pool grew for a larger shape class, or trimmed idle buffers) makes a new one. Uniforms
 * are keyed by their bytes: each distinct value gets a buffer of its own, written once and never
 * rewritten, so a recorded run writes no uniforms at all once its shapes were seen.
 *
 * Bounded: past {@link BINDING_CACHE_LIMITS} both maps are emptied and start over (a plan serving
 * ever new shapes rebuilds, it does not grow). Uniform buffers so dropped are destroyed by
 * {@link BindingCache.collect} after the submission that may still use them.
 */

/** Most bind groups and uniform buffers one cache keeps. */
export const BINDING_CACHE_LIMITS = { groups: 4096, uniforms: 1024 } as const;

/** GPUBufferUsage.UNIFORM (the global exists only where WebGPU does). */
const UNIFORM = 0x40;

const ids = new WeakMap<GPUBuffer, number>();
let nextId = 1;

/** A number per GPUBuffer object, for cache keys (a new buffer never takes an old one's number). */
function bufferId(buffer: GPUBuffer): number {
  let id = ids.get(buffer);
  if (id === undefined) ids.set(buffer, (id = nextId++));
  return id;
}

/** See the module comment. Owned by one plan executor; {@link dispose} with it. */
export class BindingCache {
  private readonly groups = new Map<string, GPUBindGroup>();
  private readonly uniforms = new Map<string, GPUBuffer>();
  /** Uniform buffers dropped from the map, destroyed by {@link collect}. */
  private dropped: GPUBuffer[] = [];

  /** The bind group of `pipeline` (cache key `pipelineId`) over these buffer `entries`, made on a miss (`made`). */
  bindGroup(
    device: GPUDevice,
    pipelineId: string,
    pipeline: GPUComputePipeline,
    label: string,
    entries: GPUBindGroupEntry[],
  ): { group: GPUBindGroup; made: boolean } {
    const parts = entries.map(({ resource }) => {
      const b = resource as GPUBufferBinding;
      return `${bufferId(b.buffer)}:${b.offset ?? 0}:${b.size ?? ''}`;
    });
    const key = `${pipelineId}|${parts.join('|')}`;
    const hit = this.groups.get(key);
    if (hit) return { group: hit, made: false };
    if (this.groups.size >= BINDING_CACHE_LIMITS.groups) this.reset();
    const group = device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
    this.groups.set(key, group);
    return { group, made: true };
  }

  /** A uniform buffer holding `data` (padded to 16 bytes), made and written once per distinct value. */
  uniform(device: GPUDevice, label: string, data: ArrayBufferView): GPUBuffer {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const key = `${label}:${bytes.join(',')}`;
    const hit = this.uniforms.get(key);
    if (hit) return hit;
    if (this.uniforms.size >= BINDING_CACHE_LIMITS.uniforms) this.reset();
    const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
    const buffer = device.createBuffer({ label: `webq8:${label}`, size, usage: UNIFORM, mappedAtCreation: true });
    new Uint8Array(buffer.getMappedRange()).set(bytes);
    buffer.unmap();
    this.uniforms.set(key, buffer);
    return buffer;
  }

  /** Destroys uniform buffers dropped by a reset; call after submitting the work that may use them. */
  collect(): void {
    for (const b of this.dropped) b.destroy();
    this.dropped = [];
  }

  /** Frees every uniform buffer (the plan is gone). */
  dispose(): void {
    this.reset();
    this.collect();
  }

  private reset(): void {
    this.groups.clear();
    this.dropped.push(...this.uniforms.values());
    this.uniforms.clear();
  }
}
