// The device bench (`npm run bench -- device`, bench/device.mjs) as a smoke test on this machine's
// adapter (SwiftShader in CI), in its `ci` mode: M = 1 and 64 × K 1024 × N 128, the adapter's first
// arithmetic, 2 dispatches per submission, no ORT rows. It checks that the bench still runs every
// kernel family it compares, that each family's output is right (a checksum of its int32 rows
// against a plain-JS product of the same A and B, computed in Node), and that it prints the
// structural table and the % of bandwidth / % of peak table. No timing is asserted: the figures come
// from `npm run bench -- device` on a real GPU (docs/kernels.md). Run `npm run build` first.
import { expect, test } from '@playwright/test';
import { run } from '../../bench/device.mjs';

test('the device bench runs every kernel family at a decode and a prefill shape, with correct outputs, and prints its tables', async ({ page }) => {
  test.setTimeout(360_000); // ≈ 15 CPU-seconds: SwiftShader compiles each of the 6 pipelines in seconds; minutes on a loaded machine
  const res = await run({ mode: 'ci', page });
  const kernels = res.rows.filter((r) => r.kernel);
  expect(kernels.map((r) => `${r.shape.join('x')} ${r.family}`)).toEqual([
    '1x1024x128 emulated default',
    '1x1024x128 older GPU default',
    '1x1024x128 GPU-shaped',
    '1x1024x128 GPU-shaped, no split-K',
    '64x1024x128 emulated default',
    '64x1024x128 older GPU default',
    '64x1024x128 GPU-shaped',
  ]);
  // The split-K GEMV really splits K across workgroups here, and its no-split twin does not.
  expect(kernels.slice(2, 4).map((r) => [r.kernel?.layout, r.kernel?.splits])).toEqual([
    ['splitk', 2],
    ['splitk', 1],
  ]);
  for (const r of kernels) {
    expect(r.ok, `${r.name} at ${r.shape.join('x')}: checksum`).toBe(true);
    expect(r.workgroups, r.name).toBeGreaterThan(0);
    expect(Number.isFinite(r.ms), `${r.name}: a time was measured`).toBe(true);
  }
  expect(Number.isFinite(res.bandwidth) && Number.isFinite(res.peak)).toBe(true);
  // Both tables, with one line per kernel (and the speed table's % columns filled for its shape).
  const lines = res.report.split('\n');
  for (const column of ['B/MAC', 'threads/col', 'workgroups', 'vs two waves', 'checksum', '% bandwidth', '% dp4a peak'])
    expect(res.report, column).toContain(column);
  for (const r of kernels) {
    const mine = lines.filter((l) => l.startsWith(r.shape.join('x')) && l.includes(r.name) && l.includes(r.family));
    expect(mine, `${r.name} ${r.family}: one line in each table`).toHaveLength(2);
    expect(mine.some((l) => / ok *$/.test(l))).toBe(true);
    expect(mine.some((l) => / \d+ %/.test(l))).toBe(true);
  }
});
