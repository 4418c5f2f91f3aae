import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import { toPlainTensor, transferable, typedArrayFor, bytesPerElement } from '../../src/tensors';
import { BufferPool, sizeClass } from '../../src/kernels/buffer-pool';
import { pipelineKey } from '../../src/kernels/pipeline-cache';
import { spreadWorkgroups } from '../../src/kernels/program';

describe('transferable', () => {
  it('transfers whole buffers once and copies partial views', () => {
    const whole = new Float32Array(4);
    const big = new Uint8Array(16);
    const part = big.subarray(4, 8);
    const { tensors, transfer } = transferable({
      a: { type: 'float32', dims: [4], data: whole },
      b: { type: 'uint8', dims: [4], data: part },
      c: { type: 'float32', dims: [4], data: whole },
    });
    expect(transfer).toContain(whole.buffer);
    expect(transfer).not.toContain(big.buffer);
    expect(tensors.b!.data).not.toBe(part);
    expect(Array.from(tensors.b!.data as Uint8Array)).toEqual(Array.from(part));
    expect(tensors.c!.data).not.toBe(whole); // the second use of a buffer is copied
    expect(new Set(transfer).size).toBe(transfer.length);
  });
});

describe('toPlainTensor', () => {
  it('accepts ort.Tensor-like objects on the CPU', () => {
    const data = new Float32Array(2);
    expect(toPlainTensor('x', { type: 'float32', dims: [2], data, location: 'cpu', cpuData: data })).toEqual({ type: 'float32', dims: [2], data });
  });
  it('rejects GPU-resident tensors with a fix', () => {
    expect(() => toPlainTensor('x', { type: 'float32', dims: [2], location: 'gpu-buffer' })).toThrow(/getData/);
    expect(() => toPlainTensor('x', null)).toThrow(InputError);
  });
});

describe('dtype helpers', () => {
  it('views buffers with the right element size', () => {
    for (const t of ['float32', 'int64', 'uint8', 'float16', 'bool', 'int8'] as const) {
      expect(typedArrayFor(t, new ArrayBuffer(16)).length).toBe(16 / bytesPerElement(t));
    }
  });
});

describe('kernel plumbing', () => {
  it('size classes round up and pooled buffers are reused', () => {
    expect(sizeClass(1)).toBe(16);
    expect(sizeClass(1000)).toBe(1024);
    expect(sizeClass((1 << 20) + 1)).toBe(2 << 20);
    const created: { size: number; usage: number; destroyed: boolean }[] = [];
    const device = {
      createBuffer: ({ size, usage }: { size: number; usage: number }) => {
        const b = {
          size,
          usage,
          destroyed: false,
          destroy() {
            this.destroyed = true;
          },
        };
        created.push(b);
        return b;
      },
    } as unknown as GPUDevice;
    const pool = new BufferPool(device);
    const a = pool.acquire(100, 0x80, 'a');
    pool.release(a);
    const b = pool.acquire(120, 0x80, 'b');
    expect(b).toBe(a);
    const c = pool.acquire(120, 0x80, 'c');
    expect(c).not.toBe(a);
    expect(pool.createdCount).toBe(2);
    expect(pool.inUse).toBe(2);
    pool.dispose();
    expect(created.every((x) => x.destroyed)).toBe(true);
  });
  it('pipeline keys are independent of constant order', () => {
    expect(pipelineKey('s', 'main', { A: 1, B: 2 })).toBe(pipelineKey('s', 'main', { B: 2, A: 1 }));
    expect(pipelineKey('s', 'main', { A: 1 })).not.toBe(pipelineKey('s', 'main', { A: 2 }));
  });
  it('spreads large dispatches over two dimensions', () => {
    expect(spreadWorkgroups(10)).toEqual([10, 1]);
    const [x, y] = spreadWorkgroups(200_000);
    expect(x).toBeLessThanOrEqual(65535);
    expect(x * y).toBeGreaterThanOrEqual(200_000);
  });
});
