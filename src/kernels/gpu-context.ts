/**
 * Everything webq8 needs to run its own kernels on a GPUDevice: the pipeline cache, the buffer
 * pool, uploads and readbacks, and device-loss / uncaptured-error handling. In the runtime the
 * device is onnxruntime-web's own (see `ortDevice()` in src/worker/ort.ts) so tensors pass between
 * ORT sessions and our kernels as GPU buffers; tests and `webq8/kernels` users may pass any device.
 */
import { DeviceLostError, GpuError } from '../errors';
import type { BindingCache } from './binding-cache';
import { BufferPool, type BufferPoolOptions } from './buffer-pool';
import { deviceCounts, trackDevice, type DeviceResourceCounts } from './gpu-resources';
import { PipelineCache, pipelineKey } from './pipeline-cache';
import type { BufferBinding, Program } from './program';

/** Per-context counters; the executor reads deltas per run. */
export interface GpuCounters {
  dispatches: number;
  uploads: number;
  readbacks: number;
  /** Command buffers submitted for kernel work (dispatches and clears; one per {@link GpuContext.record}); readbacks not counted. */
  submits: number;
  /** Bind groups created (a {@link BindingCache} reuses them across runs). */
  bindGroups: number;
}

/** Options of {@link GpuContext.record}. */
export interface RecordOptions {
  /** A `timestamp-query` set of 2 or more: the recorded passes are bracketed by stamps 0 (before) and 1 (after). */
  timestamps?: GPUQuerySet;
  /** Bind groups and uniforms made once and reused by later recordings (one cache per plan). */
  bindings?: BindingCache;
}

/** Options of {@link GpuContext}. */
export interface GpuContextOptions {
  /** Print every compiled WGSL source (debugging). */
  debugShaders?: boolean;
  /** Called once when the device is lost. */
  onLost?: (info: GPUDeviceLostInfo) => void;
  /** Byte cap and idle trimming of the buffer pool. */
  pool?: BufferPoolOptions;
}

/**
 * Live GPU objects, for leak checks (`dispose()` must bring them back). `device` counts everything on
 * the device since the context was created — ORT's buffers too, as the runtime shares ORT's device.
 */
export interface GpuResourceCounts {
  device: DeviceResourceCounts;
  /** Pooled buffers handed out, and idle in the pool (with their bytes). */
  pooledInUse: number;
  pooledIdle: number;
  pooledIdleBytes: number;
  /** Buffers of constants (weights) held by prepared kernels, and their bytes. */
  constants: number;
  constantBytes: number;
  /** Compiled pipelines (cached per shader variant for the device's lifetime). */
  pipelines: number;
}

/**
 * GPUBufferUsage values from the WebGPU spec. The `GPUBufferUsage` global exists only where WebGPU
 * does; referencing it at module load would break importing this module in Node (unit tests).
 */
export const BufferUsage = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;

/** Usage of kernel inputs/outputs: storage that ORT can also consume (`Tensor.fromGpuBuffer`) and we can read back. */
export const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

const MAP_MODE_READ = 0x1;

/** Runs {@link Program}s on one device. */
export class GpuContext {
  readonly pipelines: PipelineCache;
  readonly buffers: BufferPool;
  readonly counters: GpuCounters = { dispatches: 0, uploads: 0, readbacks: 0, submits: 0, bindGroups: 0 };
  /** Set once the device is lost; every later call throws {@link DeviceLostError}. */
  lostInfo: GPUDeviceLostInfo | null = null;
  /** Settles (never rejects) when the device is lost: the runtime races in-flight requests against it. */
  readonly lost: Promise<GPUDeviceLostInfo>;
  /** Set by {@link invalidateNextBinding} (a test hook): the next dispatch binds a non-storage buffer. */
  private invalidNext = false;
  /** Set inside {@link record}: dispatches and clears go into this encoder, uniforms are held until it is submitted. */
  private recording: { encoder: GPUCommandEncoder; uniforms: GPUBuffer[]; staging: GPUBuffer[]; bindings?: BindingCache | undefined } | null = null;
  /** Buffers of {@link uploadConstant}, destroyed by {@link freeConstant} or {@link dispose}. */
  private readonly constants = new Set<GPUBuffer>();
  private readonly onError = (e: Event) => {
    // ORT shares this device, so this may be ORT's error too: log, never throw from an event.
    const err = (e as GPUUncapturedErrorEvent).error;
    console.warn(`[webq8] uncaptured WebGPU error: ${err?.message ?? String(err)}`);
  };

  constructor(
    readonly device: GPUDevice,
    private readonly options: GpuContextOptions = {},
  ) {
    this.pipelines = new PipelineCache(device, options.debugShaders);
    trackDevice(device);
    this.buffers = new BufferPool(device, options.pool);
    this.lost = device.lost.then((info) => {
      this.lostInfo = info;
      if (info.reason !== 'destroyed') console.warn(`[webq8] GPU device lost (${info.reason}): ${info.message}`);
      options.onLost?.(info);
      return info;
    });
    device.addEventListener('uncapturederror', this.onError);
  }

  /** Throws {@link DeviceLostError} if the device is gone. */
  assertAlive(): void {
    if (this.lostInfo) {
      throw new DeviceLostError(`The GPU device was lost (${this.lostInfo.reason}: ${this.lostInfo.message}). The next request rebuilds GPU state; retry it.`, {
        reason: this.lostInfo.reason,
      });
    }
  }

  /**
   * Encodes and submits one program (inside {@link record}: records it). Bindings take indices
   * 0..n-1 of group 0; `uniforms`, when given, is bound at index n.
   */
  dispatch(program: Program, bindings: readonly (GPUBuffer | BufferBinding)[], uniforms?: ArrayBufferView): void {
    this.assertAlive();
    const entryPoint = program.entryPoint ?? 'main';
    const constants = program.constants ?? {};
    const key = pipelineKey(program.shaderKey, entryPoint, constants);
    const pipeline = this.pipelines.get(key, program.label, program.code, entryPoint, constants);
    const rec = this.recording;
    const cache = rec?.bindings && !this.invalidNext ? rec.bindings : null;
    const { bindGroup, pooled } = this.bindGroup(cache, key, pipeline, program.label, bindings, uniforms);
    const encoder = rec?.encoder ?? this.device.createCommandEncoder({ label: program.label });
    const pass = encoder.beginComputePass({ label: program.label });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = program.workgroups;
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.counters.dispatches++;
    if (rec) {
      // The uniforms were written now, on the queue: their buffer must not be rewritten before the recorded work runs.
      if (pooled) rec.uniforms.push(pooled);
      return;
    }
    this.submit(encoder);
    // Safe to reuse right away: later writeBuffer calls are ordered after this submit on the queue.
    if (pooled) this.buffers.release(pooled);
  }

  /**
   * The bind group of a dispatch. With `cache` (a recording plan): the cached one for these buffers,
   * made on a miss, uniforms in the cache's written-once buffers. Without: a fresh one, uniforms in a
   * pooled buffer written now (`pooled`, for the caller to release).
   */
  private bindGroup(
    cache: BindingCache | null,
    pipelineId: string,
    pipeline: GPUComputePipeline,
    label: string,
    bindings: readonly (GPUBuffer | BufferBinding)[],
    uniforms?: ArrayBufferView,
  ): { bindGroup: GPUBindGroup; pooled?: GPUBuffer } {
    const entries = bindingEntries(bindings);
    const bindUniforms = (buffer: GPUBuffer, size: number) => entries.push({ binding: bindings.length, resource: { buffer, size: align(size, 16) } });
    if (cache) {
      if (uniforms) bindUniforms(cache.uniform(this.device, `${label}.uniforms`, uniforms), uniforms.byteLength);
      const { group, made } = cache.bindGroup(this.device, pipelineId, pipeline, label, entries);
      if (made) this.counters.bindGroups++;
      return { bindGroup: group };
    }
    if (this.invalidNext) entries[0] = this.invalidBinding();
    let pooled: GPUBuffer | undefined;
    if (uniforms) {
      pooled = this.buffers.acquire(uniforms.byteLength, BufferUsage.UNIFORM | BufferUsage.COPY_DST, `${label}.uniforms`);
      this.device.queue.writeBuffer(pooled, 0, uniforms.buffer, uniforms.byteOffset, uniforms.byteLength);
      bindUniforms(pooled, uniforms.byteLength);
    }
    this.counters.bindGroups++;
    const bindGroup = this.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
    return pooled ? { bindGroup, pooled } : { bindGroup };
  }

  private submit(encoder: GPUCommandEncoder): void {
    this.device.queue.submit([encoder.finish()]);
    this.counters.submits++;
  }

  /** Zeroes the first `bytes` of `buffer`, ordered before every later dispatch (recorded inside {@link record}). */
  clear(buffer: GPUBuffer, bytes: number): void {
    this.assertAlive();
    const encoder = this.recording?.encoder ?? this.device.createCommandEncoder({ label: 'webq8:clear' });
    encoder.clearBuffer(buffer, 0, bytes);
    if (!this.recording) this.submit(encoder);
  }

  /**
   * Runs `fn` with every {@link dispatch} and {@link clear} recorded into one command encoder, then
   * submits it once: one submission for a run of consecutive kernel steps. Uniforms stay held and
   * {@link upload}s and {@link overwrite}s are copied in order inside the encoder, so pooled buffers
   * released and reused within `fn` are safe. See {@link RecordOptions}.
   */
  record<T>(fn: () => T, options: RecordOptions = {}): T {
    if (this.recording) return fn(); // nested: part of the outer recording
    const { timestamps, bindings } = options;
    const encoder = this.device.createCommandEncoder({ label: 'webq8:recorded' });
    if (timestamps) encoder.beginComputePass({ label: 'webq8:recorded.start', timestampWrites: { querySet: timestamps, beginningOfPassWriteIndex: 0 } }).end();
    const rec = { encoder, uniforms: [] as GPUBuffer[], staging: [] as GPUBuffer[], bindings };
    this.recording = rec;
    try {
      return fn();
    } finally {
      this.recording = null;
      if (timestamps) encoder.beginComputePass({ label: 'webq8:recorded.end', timestampWrites: { querySet: timestamps, endOfPassWriteIndex: 1 } }).end();
      this.submit(encoder);
      for (const u of rec.uniforms) this.buffers.release(u);
      for (const b of rec.staging) b.destroy(); // destruction waits for the submitted copy
      bindings?.collect();
    }
  }

  /**
   * Writes `data` at the start of `buffer`, ordered after every dispatch made so far: a queue write,
   * or inside {@link record} a copy from a fresh staging buffer recorded in the encoder (a queue
   * write would land before the recorded work runs).
   */
  overwrite(buffer: GPUBuffer, data: ArrayBufferView): void {
    const rec = this.recording;
    if (!rec) return this.write(buffer, data);
    const size = align(data.byteLength, 4);
    const staging = this.device.createBuffer({ label: 'webq8:write.staging', size, usage: BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
    this.write(staging, data);
    rec.encoder.copyBufferToBuffer(staging, 0, buffer, 0, size);
    rec.staging.push(staging);
  }

  /** Copies `data` into a pooled storage buffer (counted as an upload). */
  upload(data: ArrayBufferView, label: string): GPUBuffer {
    this.assertAlive();
    const buffer = this.buffers.acquire(align(data.byteLength, 4), STORAGE_USAGE, label);
    // Recording: the pooled buffer may still be read by recorded work, so the bytes are copied in order.
    this.overwrite(buffer, data);
    this.counters.uploads++;
    return buffer;
  }

  /**
   * Copies a constant (weights) into a buffer of its own, outside the pool: it lives as long as the
   * kernel that prepared it, and {@link freeConstant} destroys it — a pooled buffer would outlive a
   * disposed model as idle pool memory. Not counted as an upload: it happens once, at load.
   */
  uploadConstant(data: ArrayBufferView, label: string): GPUBuffer {
    this.assertAlive();
    const buffer = this.device.createBuffer({ label: `webq8:${label}`, size: Math.max(16, align(data.byteLength, 16)), usage: STORAGE_USAGE });
    this.constants.add(buffer);
    this.write(buffer, data);
    return buffer;
  }

  /**
   * A constant buffer of `size` bytes (zero-filled), mapped at creation for the caller to fill in
   * place and unmap: an upload without a CPU copy of the bytes. {@link freeConstant} destroys it.
   */
  mappedConstant(size: number, label: string): GPUBuffer {
    this.assertAlive();
    const buffer = this.device.createBuffer({ label: `webq8:${label}`, size: Math.max(16, align(size, 16)), usage: STORAGE_USAGE, mappedAtCreation: true });
    this.constants.add(buffer);
    return buffer;
  }

  /** Destroys a buffer of {@link uploadConstant} (other buffers are ignored). */
  freeConstant(buffer: GPUBuffer): void {
    if (this.constants.delete(buffer)) buffer.destroy();
  }

  /**
   * Runs `fn` — synchronous GPU calls: pipeline creation, dispatches, uploads — inside validation and
   * out-of-memory error scopes. Returns its value and `errors`, which rejects with {@link GpuError}
   * naming `what` if WebGPU reported one (await it before trusting results; it never rejects for
   * anything else). The scopes are pushed and popped in the same synchronous stretch: ORT shares the
   * device and its own scopes interleave with ours across an `await`, never inside `fn`.
   */
  guard<T>(what: string, fn: () => T): { value: T; errors: Promise<void> } {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const pop = (): Promise<void> => {
      const scopes = [this.device.popErrorScope(), this.device.popErrorScope()];
      return Promise.all(scopes).then(
        ([validation, oom]) => {
          const err = validation ?? oom;
          if (err) throw new GpuError(`WebGPU rejected ${what}: ${err.message}`, { what, kind: validation ? 'validation' : 'out-of-memory' });
        },
        () => undefined, // popErrorScope rejects only when the device is lost, which DeviceLostError reports
      );
    };
    let value: T;
    try {
      value = fn();
    } catch (err) {
      pop().catch(() => undefined); // fn's own error says more
      throw err;
    }
    return { value, errors: pop() };
  }

  /**
   * Test hook: the next {@link dispatch} binds, at index 0, a buffer WebGPU must reject there (no
   * STORAGE usage), so that tests see a real validation error travel to the caller as GpuError.
   */
  invalidateNextBinding(): void {
    this.invalidNext = true;
  }

  private invalidBinding(): GPUBindGroupEntry {
    this.invalidNext = false;
    const buffer = this.buffers.acquire(16, BufferUsage.UNIFORM | BufferUsage.COPY_DST, 'test.invalid-binding');
    this.buffers.release(buffer);
    return { binding: 0, resource: { buffer } };
  }

  /** Live GPU objects (see {@link GpuResourceCounts}). */
  resourceCounts(): GpuResourceCounts {
    const idle = this.buffers.idleCount;
    let constantBytes = 0;
    for (const b of this.constants) constantBytes += b.size;
    return {
      device: deviceCounts(this.device) ?? { buffers: 0, bufferBytes: 0, textures: 0, textureBytes: 0 },
      pooledInUse: this.buffers.inUse,
      pooledIdle: idle.buffers,
      pooledIdleBytes: idle.bytes,
      constants: this.constants.size,
      constantBytes,
      pipelines: this.pipelines.size,
    };
  }

  /** writeBuffer with the size padded to a multiple of 4 (bool/uint8/int8 tensors may not be). */
  private write(buffer: GPUBuffer, data: ArrayBufferView): void {
    const size = align(data.byteLength, 4);
    let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (size !== data.byteLength) {
      const padded = new Uint8Array(size);
      padded.set(bytes);
      bytes = padded;
    }
    this.device.queue.writeBuffer(buffer, 0, bytes.buffer, bytes.byteOffset, size);
  }

  /** Reads `byteLength` bytes of `buffer` back to the CPU (counted as a readback). */
  async readback(buffer: GPUBuffer, byteLength: number): Promise<ArrayBuffer> {
    this.assertAlive();
    const size = align(byteLength, 4);
    const staging = this.device.createBuffer({ label: 'webq8:readback', size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder({ label: 'webq8:readback' });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    this.counters.readbacks++;
    try {
      await staging.mapAsync(MAP_MODE_READ);
      return staging.getMappedRange(0, size).slice(0, byteLength);
    } catch (cause) {
      this.assertAlive();
      throw new GpuError(`Reading a result back from the GPU failed: ${String(cause)}`);
    } finally {
      staging.destroy();
    }
  }

  /** Frees pooled and constant buffers and detaches listeners (the device itself belongs to ORT or the caller). */
  dispose(): void {
    this.device.removeEventListener('uncapturederror', this.onError);
    this.buffers.dispose();
    for (const b of this.constants) b.destroy();
    this.constants.clear();
  }
}

function bindingEntries(bindings: readonly (GPUBuffer | BufferBinding)[]): GPUBindGroupEntry[] {
  return bindings.map((b, binding) =>
    // A GPUBuffer has no `buffer` property; a BufferBinding does.
    'buffer' in b ? { binding, resource: { buffer: b.buffer, offset: b.offset ?? 0, size: b.size } } : { binding, resource: { buffer: b } },
  );
}

/** Rounds `n` up to a multiple of `a`. */
export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
