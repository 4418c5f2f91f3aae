/**
 * Everything webq8 needs to run its own kernels on a GPUDevice: the pipeline cache, the buffer
 * pool, uploads and readbacks, and device-loss / uncaptured-error handling. In the runtime the
 * device is onnxruntime-web's own (see `ortDevice()` in src/worker/ort.ts) so tensors pass between
 * ORT sessions and our kernels as GPU buffers; tests and `webq8/kernels` users may pass any device.
 */
import { DeviceLostError, GpuError } from '../errors';
import { BufferPool } from './buffer-pool';
import { PipelineCache, pipelineKey } from './pipeline-cache';
import type { BufferBinding, Program } from './program';

/** Per-context counters; the executor reads deltas per run. */
export interface GpuCounters {
  dispatches: number;
  uploads: number;
  readbacks: number;
}

/** Options of {@link GpuContext}. */
export interface GpuContextOptions {
  /** Print every compiled WGSL source (debugging). */
  debugShaders?: boolean;
  /** Called once when the device is lost. */
  onLost?: (info: GPUDeviceLostInfo) => void;
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
  readonly counters: GpuCounters = { dispatches: 0, uploads: 0, readbacks: 0 };
  /** Set once the device is lost; every later call throws {@link DeviceLostError}. */
  lostInfo: GPUDeviceLostInfo | null = null;
  /** Settles (never rejects) when the device is lost: the runtime races in-flight requests against it. */
  readonly lost: Promise<GPUDeviceLostInfo>;
  private readonly onError = (e: Event) => {
    // ORT shares this device, so this may be ORT's error too: log, never throw from an event.
    const err = (e as GPUUncapturedErrorEvent).error;
    console.warn(`[webq8] uncaptured WebGPU error: ${err?.message ?? String(err)}`);
  };

  constructor(readonly device: GPUDevice, private readonly options: GpuContextOptions = {}) {
    this.pipelines = new PipelineCache(device, options.debugShaders);
    this.buffers = new BufferPool(device);
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
      throw new DeviceLostError(
        `The GPU device was lost (${this.lostInfo.reason}: ${this.lostInfo.message}). The next request rebuilds GPU state; retry it.`,
        { reason: this.lostInfo.reason },
      );
    }
  }

  /**
   * Encodes and submits one program. Bindings take indices 0..n-1 of group 0; `uniforms`, when
   * given, is bound at index n.
   */
  dispatch(program: Program, bindings: readonly (GPUBuffer | BufferBinding)[], uniforms?: ArrayBufferView): void {
    this.assertAlive();
    const entryPoint = program.entryPoint ?? 'main';
    const constants = program.constants ?? {};
    const key = pipelineKey(program.shaderKey, entryPoint, constants);
    const pipeline = this.pipelines.get(key, program.label, program.code, entryPoint, constants);
    const entries: GPUBindGroupEntry[] = bindings.map((b, binding) =>
      // A GPUBuffer has no `buffer` property; a BufferBinding does.
      'buffer' in b ? { binding, resource: { buffer: b.buffer, offset: b.offset ?? 0, size: b.size } } : { binding, resource: { buffer: b } },
    );
    let uniformBuffer: GPUBuffer | undefined;
    if (uniforms) {
      uniformBuffer = this.buffers.acquire(uniforms.byteLength, BufferUsage.UNIFORM | BufferUsage.COPY_DST, `${program.label}.uniforms`);
      this.device.queue.writeBuffer(uniformBuffer, 0, uniforms.buffer, uniforms.byteOffset, uniforms.byteLength);
      entries.push({ binding: bindings.length, resource: { buffer: uniformBuffer, size: align(uniforms.byteLength, 16) } });
    }
    const bindGroup = this.device.createBindGroup({ label: program.label, layout: pipeline.getBindGroupLayout(0), entries });
    const encoder = this.device.createCommandEncoder({ label: program.label });
    const pass = encoder.beginComputePass({ label: program.label });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = program.workgroups;
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    this.counters.dispatches++;
    // Safe to reuse right away: later writeBuffer calls are ordered after this submit on the queue.
    if (uniformBuffer) this.buffers.release(uniformBuffer);
  }

  /** Copies `data` into a pooled storage buffer (counted as an upload). */
  upload(data: ArrayBufferView, label: string): GPUBuffer {
    this.assertAlive();
    const size = align(data.byteLength, 4);
    const buffer = this.buffers.acquire(size, STORAGE_USAGE, label);
    let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (size !== data.byteLength) {
      // writeBuffer sizes must be multiples of 4 (bool/uint8/int8 tensors may not be).
      const padded = new Uint8Array(size);
      padded.set(bytes);
      bytes = padded;
    }
    this.device.queue.writeBuffer(buffer, 0, bytes.buffer, bytes.byteOffset, size);
    this.counters.uploads++;
    return buffer;
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

  /** Frees pooled buffers and detaches listeners (the device itself belongs to ORT or the caller). */
  dispose(): void {
    this.device.removeEventListener('uncapturederror', this.onError);
    this.buffers.dispose();
  }
}

/** Rounds `n` up to a multiple of `a`. */
export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

