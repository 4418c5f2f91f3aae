// @ts-check
// The inputs every consumer app feeds, shared with the Node side that computes the expected outputs
// with onnxruntime-web directly (test/consumers/prepare.ts). Deterministic, no DOM.

/** PP-OCR cls input: float32 [1, 3, 48, 192]. */
export const CLS_DIMS = [1, 3, 48, 192];

/** The small int8 MLP's input: float32 [4, 64]. */
export const MLP_DIMS = [4, 64];

/**
 * @param {number[]} dims
 * @param {number} step
 * @param {number} scale
 */
export function wave(dims, step, scale) {
  const n = dims.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * step) * scale);
}

export const clsInput = () => wave(CLS_DIMS, 0.37, 0.8);
export const mlpInput = () => wave(MLP_DIMS, 0.61, 3);
