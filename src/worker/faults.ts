/**
 * Fault injection for the verification tests (`debug('corrupt-kernels')`, src/protocol.ts): while
 * armed, every webq8 kernel step overwrites the first quarter of its first output on the GPU with
 * the bits of 7.0f — a wrong GPU answer as a broken driver or kernel would give one, which the
 * load-time check against ORT's WASM EP must catch. Never armed in production.
 */
import type { GpuContext } from '../kernels/gpu-context';
import type { GpuTensor } from '../kernels/registry';

let armed = false;

/** Arms (`true`) or disarms the fault for every later kernel step in this Worker. */
export function setKernelFault(on: boolean): void {
  armed = on;
}

/** A kernel step's `outputs`, the first corrupted when the fault is armed (a write ordered after the kernel's dispatch, recorded or not). */
export function injectKernelFault(gpu: GpuContext, outputs: GpuTensor[]): GpuTensor[] {
  const first = outputs[0];
  if (!armed || !first) return outputs;
  const bytes = Math.max(4, Math.floor(first.buffer.size / 16) * 4);
  gpu.overwrite(first.buffer, new Uint32Array(bytes / 4).fill(0x40e00000));
  return outputs;
}
